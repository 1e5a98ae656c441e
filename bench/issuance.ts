/**
 * Issuance over HTTPS against a real `kpki serve` process: CSR signing throughput (ECDSA P-256 and
 * RSA-2048 CSRs, each signed by a CA of the same key type), stored and audited, at several
 * concurrencies; and server-side key generation latency per key type. Run per WebCrypto provider.
 */
import { makeCsrs } from "./csrs.js";
import { closedLoop, createClient, median, summariseRuns } from "./https-client.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";

export interface IssuanceFigure {
  readonly provider: string;
  readonly benchmark: string;
  readonly concurrency: number;
  readonly perSecond: { median: number; min: number; max: number };
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverCpuMsPerRequest: number;
  readonly errors: number;
}

export interface IssuanceBenchOptions {
  readonly runs?: number;
  readonly durationMs?: number;
  readonly concurrencies?: readonly number[];
}

export async function runIssuanceBench(provider: "node" | "peculiar", options: IssuanceBenchOptions = {}): Promise<IssuanceFigure[]> {
  const runs = options.runs ?? 3;
  const durationMs = options.durationMs ?? 4000;
  const concurrencies = options.concurrencies ?? [1, 8, 32];
  const server = await startBenchServer({ KPKI_CRYPTO_PROVIDER: provider });
  const admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 4);
  const figures: IssuanceFigure[] = [];
  try {
    for (const [name, keyAlgorithm] of [["bench-ec", "ECDSA-P256"], ["bench-rsa", "RSA-2048"]] as const) {
      const created = await admin.call("POST", "/v1/authorities", { name, type: "intermediate", parent: "kpki-root", subject: { commonName: name }, keyAlgorithm });
      if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
    }
    const cases = [
      { benchmark: "sign CSR, ECDSA P-256", ca: "bench-ec", csrs: makeCsrs("ec", 16) },
      { benchmark: "sign CSR, RSA-2048", ca: "bench-rsa", csrs: makeCsrs("rsa", 16) },
    ];
    for (const { benchmark, ca, csrs } of cases) {
      for (const concurrency of concurrencies) {
        const client = createClient(server.url, server.caBundle, BENCH_TOKEN, concurrency);
        const send = async (i: number) => (await client.call("POST", "/v1/certificates", { ca, profile: "client", csr: csrs[i % csrs.length] })).status === 201;
        await closedLoop(concurrency, 500, send); // warm-up: JIT, key cache, connections
        const results = [];
        for (let run = 0; run < runs; run++) {
          const cpuBefore = server.cpuSeconds();
          const result = await closedLoop(concurrency, durationMs, send);
          results.push({ ...result, cpuMs: ((server.cpuSeconds() - cpuBefore) * 1000) / Math.max(1, result.requests) });
        }
        client.close();
        const summary = summariseRuns(results);
        figures.push({
          provider,
          benchmark,
          concurrency,
          perSecond: summary.perSecond,
          p50Ms: summary.p50Ms,
          p99Ms: summary.p99Ms,
          serverCpuMsPerRequest: median(results.map((r) => r.cpuMs)).median,
          errors: summary.errors,
        });
      }
    }
    for (const [keyAlgorithm, count] of [["ECDSA-P256", 40], ["ECDSA-P384", 20], ["Ed25519", 40], ["RSA-2048", 8], ["RSA-3072", 3], ["RSA-4096", 2]] as const) {
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        const response = await admin.call("POST", "/v1/certificates", { ca: "bench-ec", profile: "client", keyAlgorithm, subject: { commonName: `gen-${i}` } });
        if (response.status !== 201) throw new Error(`server keygen ${keyAlgorithm}: ${JSON.stringify(response.body)}`);
        latencies.push(performance.now() - t0);
      }
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length / 2)] ?? 0;
      figures.push({
        provider,
        benchmark: `server-generated key, ${keyAlgorithm} (sequential)`,
        concurrency: 1,
        perSecond: median([1000 / p50]),
        p50Ms: p50,
        p99Ms: latencies.at(-1) ?? 0,
        serverCpuMsPerRequest: 0,
        errors: 0,
      });
    }
  } finally {
    admin.close();
    await server.stop();
  }
  return figures;
}

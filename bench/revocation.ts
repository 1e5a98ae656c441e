/**
 * Revocation at scale against a real `kpki serve` process (issue 6): OCSP responses per second
 * (RFC 6960 POST, with and without a nonce, signed by the issuing CA, good and revoked answers
 * mixed) at concurrency 1 and 8; and the cost of a CRL with 100,000 revoked entries — a revocation
 * re-issues the CA's complete CRL and its delta before it answers, so its latency with 100,000
 * entries against a CA with a handful is the CRL build time — plus fetching that CRL.
 *
 * The revoked entries are seeded straight into the stopped server's database
 * (bench/seed-certificates.ts: rows carrying a real certificate of the CA, every one revoked,
 * issued within the last 60 days so none has expired off the CRL), then the server starts again.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDatabaseUrl } from "../src/infra/prisma/database-url.js";
import { createClient, median, repeatedLoop } from "./https-client.js";
import type { KeyServiceFigure } from "./key-service.js";
import { seedAuthorities, seedCertificates } from "./seed-certificates.js";
import { DAY_MS } from "./seed-database.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";

const CA = "bench-ocsp";

interface Issued {
  readonly id: string;
  readonly certificatePem: string;
}

export async function runRevocationBench(options: { durationMs?: number; revokedEntries?: number } = {}): Promise<KeyServiceFigure[]> {
  const durationMs = options.durationMs ?? 4000;
  const revokedEntries = options.revokedEntries ?? 100_000;
  const figures: KeyServiceFigure[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-bench-ocsp-"));
  let server = await startBenchServer();
  const dataDir = server.dataDir;
  try {
    let admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 8);
    const created = await admin.call("POST", "/v1/authorities", { name: CA, type: "intermediate", parent: "kpki-root", subject: { commonName: CA }, keyAlgorithm: "ECDSA-P256" });
    if (created.status !== 201) throw new Error(`creating ${CA}: ${JSON.stringify(created.body)}`);
    const issue = async (i: number): Promise<Issued> => {
      const answer = await admin.call("POST", "/v1/certificates", { ca: CA, profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: `ocsp-${i}` } });
      if (answer.status !== 201) throw new Error(`issuing: ${JSON.stringify(answer.body)}`);
      return answer.body as Issued;
    };
    const revoke = async (id: string): Promise<number> => {
      const t0 = performance.now();
      const answer = await admin.call("POST", `/v1/certificates/${id}/revoke`, { reason: "keyCompromise" });
      if (answer.status !== 200) throw new Error(`revoking: ${JSON.stringify(answer.body)}`);
      return performance.now() - t0;
    };

    // OCSP: 16 certificates, half revoked; one request without a nonce and one with a nonce each.
    const caPem = (await admin.raw("GET", `/v1/authorities/${CA}/certificate`, undefined, "", "application/x-pem-file")).body.toString();
    const caFile = path.join(dir, "ca.pem");
    writeFileSync(caFile, caPem);
    writeFileSync(path.join(dir, "bundle.pem"), server.caBundle);
    const leaves = await Promise.all(Array.from({ length: 16 }, (_, i) => issue(i)));
    for (const leaf of leaves.slice(0, 8)) await revoke(leaf.id);
    const requests = (nonce: boolean) =>
      leaves.map((leaf, i) => {
        const leafFile = path.join(dir, `leaf-${i}.pem`);
        writeFileSync(leafFile, leaf.certificatePem);
        const out = path.join(dir, `req-${i}-${nonce}.der`);
        execFileSync("openssl", ["ocsp", "-issuer", caFile, "-cert", leafFile, "-reqout", out, nonce ? "-nonce" : "-no_nonce"], { stdio: "ignore" });
        return readFileSync(out);
      });
    const plain = requests(false);
    const withNonce = requests(true);
    // The answers are real: openssl checks a revoked and a good one before anything is timed.
    for (const [i, expected] of [[0, "revoked"], [8, "good"]] as const) {
      const answer = await admin.raw("POST", "/v1/ocsp", plain[i], "application/ocsp-request", "application/ocsp-response");
      const respFile = path.join(dir, `resp-${i}.der`);
      writeFileSync(respFile, answer.body);
      const text = execFileSync("openssl", ["ocsp", "-respin", respFile, "-issuer", caFile, "-cert", path.join(dir, `leaf-${i}.pem`), "-CAfile", path.join(dir, "bundle.pem"), "-no_nonce"], { stdio: ["ignore", "pipe", "pipe"] }).toString();
      if (!text.includes(`: ${expected}`)) throw new Error(`OCSP answer for leaf ${i}: expected ${expected}, openssl says ${text}`);
    }
    for (const concurrency of [1, 8]) {
      const client = createClient(server.url, server.caBundle, BENCH_TOKEN, concurrency);
      for (const [label, set] of [["without nonce", plain], ["with nonce", withNonce]] as const) {
        const post = async (i: number) => (await client.raw("POST", "/v1/ocsp", set[i % set.length], "application/ocsp-request", "application/ocsp-response")).status === 200;
        const result = await repeatedLoop(concurrency, durationMs, post);
        figures.push({ benchmark: `OCSP POST ${label} (good/revoked mixed)`, concurrency, perSecond: result.perSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms });
      }
      client.close();
    }

    // A revocation with a small CRL, for comparison.
    const small: number[] = [];
    for (let i = 0; i < 5; i++) small.push(await revoke((await issue(100 + i)).id));
    figures.push(timings(`revoke + complete and delta CRL, ${8 + 5} entries`, small));

    // 100,000 revoked entries seeded into the stopped server's database.
    admin.close();
    await server.stop({ keepData: true });
    const target = parseDatabaseUrl(`file:${path.join(dataDir, "kpki.db")}`, dataDir);
    const authorities = await seedAuthorities(target, [CA]);
    await seedCertificates(target, { count: revokedEntries, authorities, now: new Date(Date.now() - DAY_MS), spreadDays: 60, revokedEvery: 1 });
    server = await startBenchServer({}, [], dataDir);
    admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 8);
    const large: number[] = [];
    for (let i = 0; i < 5; i++) large.push(await revoke((await issue(200 + i)).id));
    figures.push(timings(`revoke + complete and delta CRL, ${revokedEntries + 18} entries`, large));
    const fetches: number[] = [];
    let crl: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const answer = await admin.raw("GET", `/v1/authorities/${CA}/crl`, undefined, "", "application/pkix-crl");
      fetches.push(performance.now() - t0);
      if (answer.status !== 200) throw new Error(`CRL fetch: HTTP ${answer.status}`);
      crl = answer.body;
    }
    const crlFile = path.join(dir, "large.crl");
    writeFileSync(crlFile, crl);
    const entries = (execFileSync("openssl", ["crl", "-inform", "DER", "-in", crlFile, "-noout", "-text"], { maxBuffer: 256 * 1024 * 1024 }).toString().match(/Serial Number:/g) ?? []).length;
    if (entries < revokedEntries) throw new Error(`the CRL lists ${entries} entries, fewer than the ${revokedEntries} seeded`);
    figures.push(timings(`GET complete CRL (${entries} entries, ${(crl.length / 1024 / 1024).toFixed(1)} MiB DER)`, fetches));
    admin.close();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** Sequential timings as a figure: ops/s from the median. */
function timings(benchmark: string, millis: readonly number[]): KeyServiceFigure {
  const sorted = [...millis].sort((a, b) => a - b);
  const p50 = median(sorted).median;
  return { benchmark, concurrency: 1, perSecond: median(sorted.map((ms) => 1000 / ms)), p50Ms: p50, p99Ms: sorted.at(-1) ?? 0 };
}

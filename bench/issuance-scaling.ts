/**
 * Issuance as the inventory grows: a real `kpki serve` on its default storage (SQLite in its data
 * directory) signs ECDSA P-256 CSRs (profile `client`, concurrency 8) with 10,000, then 100,000,
 * then 1,000,000 certificates already in its inventory. Between sizes the inventory is grown
 * straight through the driver (bench/seed-certificates.ts: four CAs, two years of history, every
 * 20th revoked); the server keeps running, as a long-lived installation does. Each size: median
 * of several runs with the spread, and p99 of the median run.
 */
import path from "node:path";
import { parseDatabaseUrl } from "../src/infra/prisma/database-url.js";
import { makeCsrs } from "./csrs.js";
import { createClient, repeatedLoop } from "./https-client.js";
import { createSeedCas, seedAuthorities, seedCertificates } from "./seed-certificates.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";
import type { Spread } from "./spread.js";

export interface IssuanceScalingFigure {
  /** Certificates in the inventory when the runs started. */
  readonly inventory: number;
  readonly concurrency: number;
  readonly perSecond: Spread;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Seconds the seed took to grow the inventory to this size. */
  readonly seedSeconds: number;
}

const SEED_CAS = ["scale-ca-1", "scale-ca-2", "scale-ca-3", "scale-ca-4"];

export async function runIssuanceScalingBench(options: { sizes?: readonly number[]; runs?: number; durationMs?: number; concurrency?: number; log?: (line: string) => void } = {}): Promise<IssuanceScalingFigure[]> {
  const sizes = options.sizes ?? [10_000, 100_000, 1_000_000];
  const runs = options.runs ?? 3;
  const durationMs = options.durationMs ?? 4000;
  const concurrency = options.concurrency ?? 8;
  const log = options.log ?? ((line: string) => console.log(line));
  const server = await startBenchServer();
  const figures: IssuanceScalingFigure[] = [];
  try {
    const target = parseDatabaseUrl(`file:${path.join(server.dataDir, "kpki.db")}`, process.cwd());
    const admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
    await createSeedCas(admin, SEED_CAS);
    const signer = await admin.call("POST", "/v1/authorities", { name: "scale-signer", type: "intermediate", parent: "kpki-root", subject: { commonName: "scale-signer" }, keyAlgorithm: "ECDSA-P256" });
    if (signer.status !== 201) throw new Error(`creating scale-signer: ${JSON.stringify(signer.body)}`);
    admin.close();
    const authorities = await seedAuthorities(target, SEED_CAS);
    const csrs = makeCsrs("ec", 16);
    let seeded = 0;
    let issued = SEED_CAS.length;
    for (const size of [...sizes].sort((a, b) => a - b)) {
      // The seed writes rows [seeded, size) of the same two-year history, so sizes add up.
      const grow = Math.max(0, size - seeded - issued);
      const seed = await seedCertificates(target, { count: grow, authorities, firstIndex: seeded });
      seeded += grow;
      log(`  inventory ${size}: seeded ${grow} certificates in ${(seed.millis / 1000).toFixed(1)} s`);
      const client = createClient(server.url, server.caBundle, BENCH_TOKEN, concurrency);
      const send = async (i: number) => (await client.call("POST", "/v1/certificates", { ca: "scale-signer", profile: "client", csr: csrs[i % csrs.length] })).status === 201;
      const result = await repeatedLoop(concurrency, durationMs, send, runs);
      client.close();
      issued += result.requests; // (and the warm-up's few: the sizes are approximate by that much)
      figures.push({
        inventory: size,
        concurrency,
        perSecond: result.perSecond,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        errors: result.errors,
        seedSeconds: seed.millis / 1000,
      });
    }
  } finally {
    await server.stop();
  }
  return figures;
}

/**
 * The key service over HTTPS against a real `kpki serve`: AES-256-GCM Encrypt and Decrypt of 1 KiB
 * (ops/s, p50/p99 at concurrency 1 and 8), Create (ops/s), and Locate latency with 100,000 managed
 * objects stored (seeded straight into the server's database while it is stopped).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseDatabaseUrl } from "../src/infra/prisma/database-url.js";
import { createClient, formatSpread, median, repeatedLoop, type RepeatedResult } from "./https-client.js";
import { seedManagedObjects } from "./seed-managed-objects.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";
import type { Spread } from "./spread.js";
import { textTable } from "./table.js";

export interface KeyServiceFigure {
  readonly benchmark: string;
  readonly concurrency: number;
  readonly perSecond: Spread;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function figure(benchmark: string, concurrency: number, result: RepeatedResult): KeyServiceFigure {
  return { benchmark, concurrency, perSecond: result.perSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms };
}

export async function runKeyServiceBench(options: { durationMs?: number; locateObjects?: number } = {}): Promise<KeyServiceFigure[]> {
  const durationMs = options.durationMs ?? 4000;
  const locateObjects = options.locateObjects ?? 100_000;
  const figures: KeyServiceFigure[] = [];
  let server = await startBenchServer();
  const dataDir = server.dataDir;
  try {
    const admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 8);
    const created = await admin.call("POST", "/v1/objects", { objectType: "SymmetricKey", algorithm: "AES", length: 256, activate: true, names: ["bench-aes"] });
    const uid = (created.body as { uid: string }).uid;
    const plaintext = randomBytes(1024).toString("base64");
    const sample = (await admin.call("POST", `/v1/objects/${uid}/encrypt`, { plaintext })).body as { ciphertext: string; iv: string; tag: string };
    for (const concurrency of [1, 8]) {
      const client = createClient(server.url, server.caBundle, BENCH_TOKEN, concurrency);
      const encrypt = async () => (await client.call("POST", `/v1/objects/${uid}/encrypt`, { plaintext })).status === 200;
      const decrypt = async () => (await client.call("POST", `/v1/objects/${uid}/decrypt`, { ciphertext: sample.ciphertext, iv: sample.iv, tag: sample.tag })).status === 200;
      figures.push(figure("Encrypt AES-256-GCM 1 KiB", concurrency, await repeatedLoop(concurrency, durationMs, encrypt)));
      figures.push(figure("Decrypt AES-256-GCM 1 KiB", concurrency, await repeatedLoop(concurrency, durationMs, decrypt)));
      client.close();
    }
    const create = async () => (await admin.call("POST", "/v1/objects", { objectType: "SymmetricKey", algorithm: "AES", length: 256 })).status === 201;
    figures.push(figure("Create AES-256 key", 8, await repeatedLoop(8, durationMs, create)));
    admin.close();

    // Locate with a large inventory: stop, seed the database directly, start again on the same data.
    await server.stop({ keepData: true });
    await seedManagedObjects(parseDatabaseUrl(`file:${path.join(dataDir, "kpki.db")}`, dataDir), { count: locateObjects });
    server = await startBenchServer({}, [], dataDir);
    const client = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
    const queries: [string, string][] = [
      ["by name (unique)", `/v1/objects?name=key-${Math.floor(locateObjects / 2)}`],
      ["by name (shared: every 1,000th object)", "/v1/objects?name=app-70&limit=50"], // app-<i mod 1000> is on every tenth object, so app-7 matched none
      ["by object type + state", "/v1/objects?objectType=SymmetricKey&state=Active&limit=50"],
      ["by custom attribute", "/v1/objects?attributeName=x-tenant&attributeValue=tenant-42&limit=50"],
      ["by state Deactivated (dates)", "/v1/objects?state=Deactivated&limit=50"],
    ];
    for (const [label, url] of queries) {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        const response = await client.call("GET", url);
        if (response.status !== 200) throw new Error(`Locate ${label}: ${JSON.stringify(response.body)}`);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      figures.push({ benchmark: `Locate ${label}, ${locateObjects} objects`, concurrency: 1, perSecond: median(times.map((ms) => 1000 / ms)), p50Ms: median(times).median, p99Ms: times.at(-1) ?? 0 });
    }
    client.close();
  } finally {
    await server.stop();
  }
  return figures;
}

export function formatKeyServiceBench(figures: readonly KeyServiceFigure[]): string {
  return formatOpsFigures("key service over HTTPS", figures);
}

/** A titled table of ops/s and latency figures (the key-service and revocation benches). */
export function formatOpsFigures(title: string, figures: readonly KeyServiceFigure[]): string {
  const rows = [["benchmark", "conc.", "ops/s median (min–max)", "p50 ms", "p99 ms"], ...figures.map((f) => [f.benchmark, String(f.concurrency), formatSpread(f.perSecond), f.p50Ms.toFixed(2), f.p99Ms.toFixed(2)])];
  return [title, textTable(rows, "  ")].join("\n");
}

/**
 * The inventory at scale on PostgreSQL (issue 8): a real `kpki serve` on a fresh database
 * `kpki_bench_<random>` on 127.0.0.1:5432, CAs created and one certificate issued per CA over
 * HTTPS, then `--scale` certificates and as many managed objects seeded straight into the
 * database (bench/seed-certificates.ts, bench/seed-managed-objects.ts), then sequential latency
 * over HTTPS of certificate listings (filters, expiring-before, deep cursor pages) and Locate.
 * Target (ARCHITECTURE.md §5, issue 8): under 50 ms each with 1M certificates and 1M keys.
 *
 * Run alone: `npx tsx bench/inventory-scale.ts [--scale 1000000] [--keep] [--explain]` (after `npm run build`);
 * `--keep` leaves the database for psql, `--database NAME` measures such a kept one again
 * (with `--scale` as seeded); `--explain` prints each query's statements and plans. `npm run bench -- --scale N` runs it in
 * the full bench.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { parseDatabaseUrl } from "../src/infra/prisma/database-url.js";
import type { CertificateQuery } from "../src/core/pki/index.js";
import type { LocateQuery } from "../src/core/kms/ports.js";
import type { CaId, CertificateId } from "../src/core/shared/ids.js";
import { openExplainingRepositories, type ExplainedStatement, type ExplainingRepositories } from "./explain-statements.js";
import { createClient } from "./https-client.js";
import { createSeedCas, seedAuthorities, seedCertificates } from "./seed-certificates.js";
import { DAY_MS } from "./seed-database.js";
import { seedManagedObjects } from "./seed-managed-objects.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";
import { textTable } from "./table.js";

type HttpsClient = ReturnType<typeof createClient>;

/** The PostgreSQL server the bench creates its database on (a superuser URL without database). */
const POSTGRES = process.env.KPKI_BENCH_POSTGRES ?? "postgresql://postgres@127.0.0.1:5432";
/** A fixed master key (bench data only), so that a kept database can be served again by `--database`. */
const BENCH_MASTER_KEY = Buffer.alloc(32, 0x6b).toString("base64");
const CAS = ["bench-ca-0", "bench-ca-1", "bench-ca-2", "bench-ca-3"];

export interface InventoryScaleFigure {
  readonly query: string;
  readonly path: string;
  readonly items: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** PostgreSQL's execution time of the statements behind the request (EXPLAIN ANALYZE, summed). */
  readonly databaseMs: number;
  readonly statements: readonly ExplainedStatement[];
}

export interface InventoryScaleResult {
  readonly certificates: number;
  readonly managedObjects: number;
  readonly seedSeconds: { readonly certificates: number; readonly managedObjects: number; readonly analyze: number };
  readonly loadAverage: readonly number[];
  readonly figures: readonly InventoryScaleFigure[];
}

/** Whether the PostgreSQL server answers (the bench is skipped when it does not). */
export async function postgresAvailable(): Promise<boolean> {
  return sqlRows("SELECT 1").then(
    () => true,
    () => false,
  );
}

/** Runs one statement on its own connection (`database` = the server's maintenance database by default). */
async function sqlRows<T>(sql: string, url = `${POSTGRES}/postgres`): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** One measured request: its HTTPS path and the same query on the repository (for EXPLAIN). */
interface MeasuredQuery {
  readonly query: string;
  readonly path: string;
  readonly repository: (r: ExplainingRepositories) => Promise<unknown>;
}

/**
 * The queries measured, given the seeded size, the CAs' ids, the time of the seed, a cursor at ~90%
 * of the inventory and one about half-way through the active certificates (soonest expiry first).
 */
function queries(scale: number, caIds: readonly string[], now: Date, deepCursor: string, activeCursor: string): MeasuredQuery[] {
  const soon = new Date(now.getTime() + 7 * DAY_MS);
  const far = new Date(now.getTime() + 365 * DAY_MS);
  const iso = (date: Date) => encodeURIComponent(date.toISOString());
  const cn = `host-${Math.floor(scale / 8)}.bench.internal`;
  const ca = (i: number) => (caIds[i] ?? "") as CaId;
  const list = (query: Omit<CertificateQuery, "now" | "limit"> & { limit?: number }) => (r: ExplainingRepositories) => r.certificates.list({ now, limit: 50, ...query });
  const locate = (query: Omit<LocateQuery, "now" | "limit"> & { limit?: number }) => (r: ExplainingRepositories) => r.objects.locate({ now, limit: 50, ...query });
  return [
    { query: "certificates, no filter (first page)", path: "/v1/certificates?limit=50", repository: list({}) },
    { query: "certificates by CA", path: "/v1/certificates?ca=bench-ca-2&limit=50", repository: list({ caId: ca(2) }) },
    { query: "certificates by profile", path: "/v1/certificates?profile=peer&limit=50", repository: list({ profile: "peer" }) },
    { query: "certificates by commonName", path: `/v1/certificates?commonName=${cn}`, repository: list({ commonName: cn }) },
    { query: "certificates by commonName, no match", path: "/v1/certificates?commonName=absent.bench.internal", repository: list({ commonName: "absent.bench.internal" }) },
    { query: "certificates status=active", path: "/v1/certificates?status=active&limit=50", repository: list({ status: "active" }) },
    { query: "certificates status=active, cursor half-way", path: `/v1/certificates?status=active&cursor=${activeCursor}&limit=50`, repository: list({ status: "active", after: activeCursor as CertificateId }) },
    { query: "certificates status=revoked", path: "/v1/certificates?status=revoked&limit=50", repository: list({ status: "revoked" }) },
    { query: "certificates status=expired", path: "/v1/certificates?status=expired&limit=50", repository: list({ status: "expired" }) },
    { query: "certificates CA + profile + status=active", path: "/v1/certificates?ca=bench-ca-1&profile=server&status=active&limit=50", repository: list({ caId: ca(1), profile: "server", status: "active" }) },
    { query: "certificates expiringBefore +7 d", path: `/v1/certificates?expiringBefore=${iso(soon)}&limit=50`, repository: list({ expiringBefore: soon }) },
    { query: "certificates active, expiringBefore +7 d", path: `/v1/certificates?status=active&expiringBefore=${iso(soon)}&limit=50`, repository: list({ status: "active", expiringBefore: soon }) },
    { query: "certificates active, expiringBefore +365 d", path: `/v1/certificates?status=active&expiringBefore=${iso(far)}&limit=50`, repository: list({ status: "active", expiringBefore: far }) },
    { query: "certificates CA + active, expiringBefore +7 d", path: `/v1/certificates?ca=bench-ca-3&status=active&expiringBefore=${iso(soon)}&limit=50`, repository: list({ caId: ca(3), status: "active", expiringBefore: soon }) },
    { query: "certificates deep page (cursor at ~90%)", path: `/v1/certificates?cursor=${deepCursor}&limit=50`, repository: list({ after: deepCursor as CertificateId }) },
    { query: "certificates 500 per page", path: "/v1/certificates?limit=500", repository: list({ limit: 500 }) },
    { query: "Locate by name (unique)", path: `/v1/objects?name=key-${Math.floor(scale / 2)}`, repository: locate({ name: `key-${Math.floor(scale / 2)}` }) },
    { query: "Locate by name (shared)", path: "/v1/objects?name=app-70&limit=50", repository: locate({ name: "app-70" }) },
    { query: "Locate by object type + state", path: "/v1/objects?objectType=SymmetricKey&state=Active&limit=50", repository: locate({ objectType: "SymmetricKey", state: "Active" }) },
    { query: "Locate by custom attribute", path: "/v1/objects?attributeName=x-tenant&attributeValue=tenant-42&limit=50", repository: locate({ customAttribute: { name: "x-tenant", value: "tenant-42" } }) },
    { query: "Locate by state Deactivated (dates)", path: "/v1/objects?state=Deactivated&limit=50", repository: locate({ state: "Deactivated" }) },
    { query: "Locate by state Pre-Active", path: "/v1/objects?state=Pre-Active&limit=50", repository: locate({ state: "Pre-Active" }) },
  ];
}

/** Creates the CAs over HTTPS (one real certificate each), seeds both inventories and VACUUM ANALYZEs. */
async function seedInventory(client: HttpsClient, url: string, scale: number, now: Date, log: (line: string) => void): Promise<InventoryScaleResult["seedSeconds"]> {
  const target = parseDatabaseUrl(url, process.cwd());
  await createSeedCas(client, CAS);
  const progress = (what: string) => (done: number) => {
    if (done % 100_000 === 0) log(`  ${done} ${what}`);
  };
  const certificates = await seedCertificates(target, { count: scale, authorities: await seedAuthorities(target, CAS), now, onBatch: progress("certificates") });
  log(`  seeded ${scale} certificates in ${(certificates.millis / 1000).toFixed(1)} s`);
  const objects = await seedManagedObjects(target, { count: scale, now, onBatch: progress("managed objects") });
  log(`  seeded ${scale} managed objects in ${(objects.millis / 1000).toFixed(1)} s`);
  // A bulk load leaves no statistics and no visibility map until autovacuum comes by; a
  // database that grew to this size over months has both, so measure that state.
  const analyzeStarted = performance.now();
  await sqlRows("VACUUM ANALYZE", url);
  const analyze = (performance.now() - analyzeStarted) / 1000;
  log(`  VACUUM ANALYZE in ${analyze.toFixed(1)} s`);
  return { certificates: certificates.millis / 1000, managedObjects: objects.millis / 1000, analyze };
}

/** Sequential requests: five to warm up, then `samples` timed ones; and the statements' plans. */
async function measure(client: HttpsClient, repositories: ExplainingRepositories, measured: MeasuredQuery, samples: number): Promise<InventoryScaleFigure> {
  const times: number[] = [];
  let items = 0;
  for (let i = -5; i < samples; i++) {
    const t0 = performance.now();
    const response = await client.call("GET", measured.path);
    const ms = performance.now() - t0;
    if (response.status !== 200) throw new Error(`${measured.query}: ${response.status} ${JSON.stringify(response.body)}`);
    items = (response.body as { items: unknown[] }).items.length;
    if (i >= 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  const statements = await repositories.explain(() => measured.repository(repositories));
  return { query: measured.query, path: measured.path, items, p50Ms: pick(0.5), p99Ms: pick(0.99), databaseMs: statements.reduce((sum, s) => sum + s.executionMs, 0), statements };
}

/**
 * Seeds a fresh database `kpki_bench_<random>` (dropped afterwards unless `keep`) and measures; with
 * `database`, measures an existing seeded one instead (after a schema or query change: the server
 * applies pending migrations when it starts) and leaves it.
 */
export async function runInventoryScaleBench(
  options: { scale?: number; samples?: number; keep?: boolean; database?: string; log?: (line: string) => void } = {},
): Promise<InventoryScaleResult> {
  const scale = options.scale ?? 20_000;
  const samples = options.samples ?? 40;
  const log = options.log ?? ((line: string) => console.log(line));
  const database = options.database ?? `kpki_bench_${randomBytes(4).toString("hex")}`;
  const url = `${POSTGRES}/${database}`;
  if (options.database === undefined) await sqlRows(`CREATE DATABASE ${database}`);
  log(`  database ${database}`);
  try {
    const server = await startBenchServer({ KPKI_DATABASE_URL: url, KPKI_MASTER_KEY: BENCH_MASTER_KEY });
    try {
      const client = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
      const now = new Date();
      const seedSeconds = options.database === undefined ? await seedInventory(client, url, scale, now, log) : { certificates: 0, managedObjects: 0, analyze: 0 };
      const authorities = await seedAuthorities(parseDatabaseUrl(url, process.cwd()), CAS);
      const [deep] = await sqlRows<{ id: string }>(`SELECT "id" FROM "certificates" ORDER BY "id" OFFSET ${Math.floor(scale * 0.9)} LIMIT 1`, url);
      // Active certificates are ~40% of the seed: an offset of 20% is about half-way through them.
      const [halfActive] = await sqlRows<{ id: string }>(
        `SELECT "id" FROM "certificates" WHERE "status" = 'active' AND "notAfter" > '${now.toISOString()}' ORDER BY "notAfter", "id" OFFSET ${Math.floor(scale * 0.2)} LIMIT 1`,
        url,
      );
      const repositories = await openExplainingRepositories(url);
      const figures: InventoryScaleFigure[] = [];
      try {
        for (const measured of queries(scale, authorities.map((a) => a.id), now, deep?.id ?? "", halfActive?.id ?? "")) figures.push(await measure(client, repositories, measured, samples));
      } finally {
        await repositories.close();
        client.close();
      }
      return { certificates: scale, managedObjects: scale, seedSeconds, loadAverage: loadavg(), figures };
    } finally {
      await server.stop();
    }
  } finally {
    if (options.keep === true || options.database !== undefined) log(`  kept database ${url}`);
    else await sqlRows(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

export function formatInventoryScaleBench(result: InventoryScaleResult): string {
  const rows = [
    ["query", "items", "HTTPS p50 ms", "HTTPS p99 ms", "PostgreSQL ms", "under 50 ms"],
    ...result.figures.map((f) => [f.query, String(f.items), f.p50Ms.toFixed(2), f.p99Ms.toFixed(2), f.databaseMs.toFixed(2), f.p99Ms < 50 ? "yes" : f.p50Ms < 50 ? "p50 only" : "NO"]),
  ];
  return [
    `inventory at scale (PostgreSQL): ${result.certificates} certificates + ${result.managedObjects} managed objects, sequential over HTTPS; load after ${result.loadAverage.map((l) => l.toFixed(1)).join(" ")}`,
    textTable(rows, "  "),
  ].join("\n");
}

/** Each query's statements with PostgreSQL's plan outline and execution time. */
export function formatInventoryScalePlans(result: InventoryScaleResult): string {
  return result.figures
    .map((f) => [`${f.query} — ${f.path}`, ...f.statements.flatMap((s) => [`  ${s.executionMs.toFixed(2)} ms: ${s.sql.replace(/\s+/g, " ").slice(0, 400)}`, ...s.plan.map((line) => `    ${line.slice(0, 200)}`)])].join("\n"))
    .join("\n\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scale: { type: "string", default: "20000" }, samples: { type: "string", default: "40" }, keep: { type: "boolean", default: false }, explain: { type: "boolean", default: false }, database: { type: "string" } } });
  const result = await runInventoryScaleBench({
    scale: Number(values.scale),
    samples: Number(values.samples),
    keep: values.keep,
    ...(values.database === undefined ? {} : { database: values.database }),
  });
  console.log("\n" + formatInventoryScaleBench(result));
  if (values.explain) console.log("\n" + formatInventoryScalePlans(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();

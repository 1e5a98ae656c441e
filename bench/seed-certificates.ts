/**
 * Fills a database with a synthetic certificate inventory for the inventory-at-scale benchmark
 * (issue 8: listing with filters and expiring-before queries under 50 ms with 1M certificates), one
 * transaction per batch of 1,000 rows, straight through the drivers (bench/seed-database.ts).
 *
 * The CAs are real: the seed spreads the rows over CAs kpki created (`POST /v1/authorities`), each
 * of which has issued at least one real certificate; every seeded row of a CA carries the DER of
 * that certificate. The list endpoint does not parse the DER but PEM-encodes it into every item
 * (`certificatePem`), so a real certificate's size keeps that cost honest. The fingerprint column
 * is a SHA-256 of the row's serial, not of the DER, so the fingerprint index stays selective.
 *
 * Run: `npx tsx bench/seed-certificates.ts --url postgresql://postgres@127.0.0.1:5432/kpki_bench --count 100000 --ca bench-ca-0 --ca bench-ca-1`
 * (the database of a kpki server whose CAs exist; `--url file:…/kpki.db` seeds SQLite).
 *
 * The data is deterministic (a counter, no randomness), so runs are comparable:
 * - id: a UUIDv7 whose timestamp is the creation time, spread over two years before `now`;
 * - CA: round robin; serial: 20 hex digits from the index (unique per CA);
 * - profile: 50% server (90 days), 40% client (398 days), 10% peer (825 days), notBefore = creation
 *   time, so about half the rows have expired by `now` and a few hundred expire in every week ahead;
 * - commonName `host-<i mod count/4>.bench.internal`: each name renewed about four times over the years;
 * - status: every 20th revoked (a day after issuance, keyCompromise or superseded), the rest active;
 *   `revokedEvery` and `spreadDays` change that (the CRL bench revokes every row issued in 60 days).
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { parseDatabaseUrl, type DatabaseTarget } from "../src/infra/prisma/database-url.js";
import { DAY_MS, migrateForSeed, openSeedDatabase, SEED_BATCH, tableRows, uuidV7At, type Column } from "./seed-database.js";
import type { SeedResult } from "./seed-managed-objects.js";

/** A CA the rows are spread over, and the DER of a certificate it issued. */
export interface SeedAuthority {
  readonly id: string;
  readonly der: Buffer;
}

/** The certificates columns the seed sets. */
interface SeedCertificate {
  readonly id: string;
  readonly caId: string;
  readonly serialHex: string;
  readonly profile: string;
  readonly subject: string;
  readonly commonName: string;
  readonly subjectAltNames: string;
  readonly keyAlgorithm: string;
  readonly status: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly der: Buffer;
  readonly fingerprintSha256: string;
  readonly requestedBy: string;
  readonly serverGeneratedKey: boolean;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly revocationReason: number | null;
}

const CERTIFICATE_COLUMNS: readonly Column<SeedCertificate>[] = [
  ["id", "text"],
  ["caId", "text"],
  ["serialHex", "text"],
  ["profile", "text"],
  ["subject", "text"],
  ["commonName", "text"],
  ["subjectAltNames", "text"],
  ["keyAlgorithm", "text"],
  ["status", "text"],
  ["notBefore", "timestamp(3)"],
  ["notAfter", "timestamp(3)"],
  ["der", "bytea"],
  ["fingerprintSha256", "text"],
  ["requestedBy", "text"],
  ["serverGeneratedKey", "boolean"],
  ["createdAt", "timestamp(3)"],
  ["revokedAt", "timestamp(3)"],
  ["revocationReason", "int"],
];

/** Profile and validity by index: 50% server (90 days), 40% client (398 days), 10% peer (825 days). */
function profileAt(i: number): { profile: string; validityDays: number } {
  const slot = i % 10;
  if (slot < 5) return { profile: "server", validityDays: 90 };
  if (slot < 9) return { profile: "client", validityDays: 398 };
  return { profile: "peer", validityDays: 825 };
}

/** Inserts `count` certificates spread over `authorities` and over two years before `now`. */
export async function seedCertificates(
  target: DatabaseTarget,
  options: {
    count: number;
    authorities: readonly SeedAuthority[];
    now?: Date;
    /** Issuance times spread over this many days before `now` (default 730). */
    spreadDays?: number;
    /** Every this many rows one is revoked (default 20; 1 revokes them all, for CRL benchmarks). */
    revokedEvery?: number;
    /** The first row's index (default 0): a later seed into the same inventory continues the serials. */
    firstIndex?: number;
    onBatch?: (done: number) => void;
  },
): Promise<SeedResult> {
  if (options.authorities.length === 0) throw new Error("seedCertificates needs at least one CA");
  const now = options.now ?? new Date("2026-11-27T00:00:00Z");
  const spreadMs = (options.spreadDays ?? 730) * DAY_MS;
  const revokedEvery = options.revokedEvery ?? 20;
  const startMs = now.getTime() - spreadMs;
  const stepMs = Math.max(1, Math.floor(spreadMs / Math.max(1, options.count)));
  const names = Math.max(1, Math.floor(options.count / 4));
  const started = performance.now();
  const database = await openSeedDatabase(target);
  try {
    const first = options.firstIndex ?? 0;
    for (let offset = 0; offset < options.count; offset += SEED_BATCH) {
      const rows: SeedCertificate[] = [];
      for (let i = first + offset; i < first + Math.min(options.count, offset + SEED_BATCH); i++) {
        const authority = options.authorities[i % options.authorities.length] as SeedAuthority;
        const createdMs = startMs + (i - first) * stepMs;
        const { profile, validityDays } = profileAt(i);
        const commonName = `host-${i % names}.bench.internal`;
        const serialHex = "7b" + i.toString(16).padStart(18, "0");
        const revoked = i % revokedEvery === 7 % revokedEvery;
        rows.push({
          id: uuidV7At(createdMs, i),
          caId: authority.id,
          serialHex,
          profile,
          subject: `CN=${commonName}`,
          commonName,
          subjectAltNames: JSON.stringify([`DNS:${commonName}`]),
          keyAlgorithm: i % 4 === 3 ? "RSA-2048" : "ECDSA-P256",
          status: revoked ? "revoked" : "active",
          notBefore: new Date(createdMs),
          notAfter: new Date(createdMs + validityDays * DAY_MS),
          der: authority.der,
          fingerprintSha256: createHash("sha256").update(serialHex).digest("hex"),
          requestedBy: "bench",
          serverGeneratedKey: i % 3 === 0,
          createdAt: new Date(createdMs),
          revokedAt: revoked ? new Date(createdMs + DAY_MS) : null,
          revocationReason: revoked ? (Math.floor(i / revokedEvery) % 2 === 0 ? 1 : 4) : null,
        });
      }
      await database.write([tableRows("certificates", CERTIFICATE_COLUMNS, rows)]);
      options.onBatch?.(offset + rows.length);
    }
  } finally {
    await database.close();
  }
  return { count: options.count, start: new Date(startMs), end: now, millis: performance.now() - started };
}

/**
 * Creates the seed's intermediate CAs over the API, each with one real certificate (whose DER every
 * seeded row of that CA carries), so CA rows, keys and foreign keys are kpki's own.
 */
export async function createSeedCas(client: { call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> }, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const created = await client.call("POST", "/v1/authorities", { name, type: "intermediate", parent: "kpki-root", subject: { commonName: name }, keyAlgorithm: "ECDSA-P256" });
    if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
    const issued = await client.call("POST", "/v1/certificates", { ca: name, profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName: `web.${name}.bench.internal` }, subjectAltNames: [`DNS:web.${name}.bench.internal`] });
    if (issued.status !== 201) throw new Error(`issuing from ${name}: ${JSON.stringify(issued.body)}`);
  }
}

/** The named CAs of a kpki database, each with the DER of one certificate it issued. */
export async function seedAuthorities(target: DatabaseTarget, caNames: readonly string[]): Promise<SeedAuthority[]> {
  const database = await openSeedDatabase(target);
  try {
    const rows = await database.rows<{ name: string; id: string; der: Buffer }>(
      `SELECT ca."name" AS "name", ca."id" AS "id", (SELECT c."der" FROM "certificates" c WHERE c."caId" = ca."id" ORDER BY c."id" LIMIT 1) AS "der" FROM "certificate_authorities" ca`,
    );
    return caNames.map((name) => {
      const row = rows.find((candidate) => candidate.name === name);
      if (row?.der === undefined || row.der === null) throw new Error(`CA ${name} does not exist or has issued no certificate yet`);
      return { id: row.id, der: Buffer.from(row.der) };
    });
  } finally {
    await database.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: "string" }, count: { type: "string", default: "20000" }, ca: { type: "string", multiple: true } } });
  if (values.url === undefined || values.ca === undefined) throw new Error("usage: seed-certificates.ts --url <DATABASE_URL> --ca <name> [--ca <name> …] [--count N]");
  const target = parseDatabaseUrl(values.url, process.cwd());
  await migrateForSeed(target);
  const result = await seedCertificates(target, {
    count: Number(values.count),
    authorities: await seedAuthorities(target, values.ca),
    onBatch: (done) => {
      if (done % 50_000 === 0) console.log(`  ${done} certificates`);
    },
  });
  console.log(`seeded ${result.count} certificates in ${(result.millis / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();

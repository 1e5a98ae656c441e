/**
 * Fills a database with a synthetic key inventory for the Locate benchmark (ARCHITECTURE.md §5:
 * 1M keys, Locate under 50 ms), one transaction per batch of 1,000 objects, without key material
 * (Locate never reads the sealed bytes). Rows go straight through the drivers (bench/seed-database.ts).
 *
 * Run: `npx tsx bench/seed-managed-objects.ts --url postgresql://postgres@127.0.0.1:5432/kpki_bench --count 100000`
 * (the database must exist; it is migrated first). `--url file:/tmp/bench.db` seeds SQLite.
 *
 * The data is deterministic (a counter, no randomness), so runs are comparable:
 * - uid: a UUIDv7 whose timestamp grows with the index (creation order = uid order);
 * - object types and states in realistic proportions (mostly active symmetric keys); 1% of the
 *   objects have an activation date and 7% a deactivation date in the past, one in a hundred of which the
 *   apply-lifecycle-dates job has not yet written into the stored state (0.08% of all objects), so
 *   the effective-state filters have work to do;
 * - names: `key-<i>` on every object (unique), `app-<i mod 1000>` on every tenth one (shared);
 * - custom attributes: `x-tenant` = `tenant-<i mod 500>` on every object, `x-env` on every fifth.
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { parseDatabaseUrl, type DatabaseTarget } from "../src/infra/prisma/database-url.js";
import { DAY_MS, migrateForSeed, openSeedDatabase, SEED_BATCH, tableRows, uuidV7At, type Column } from "./seed-database.js";

/** What was seeded: enough to build queries that hit, and ones that hit rarely. */
export interface SeedResult {
  readonly count: number;
  readonly start: Date;
  readonly end: Date;
  readonly millis: number;
}

/** The managed_objects columns the seed sets (the rest keep their defaults). */
interface SeedObject {
  readonly uid: string;
  readonly objectType: string;
  readonly algorithm: string | null;
  readonly length: number | null;
  readonly curve: string | null;
  readonly usageMask: number;
  readonly state: string;
  readonly activationDate: Date | null;
  readonly deactivationDate: Date | null;
  readonly compromiseDate?: Date;
  readonly destroyDate?: Date;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly initialDate: Date;
  readonly lastChangeDate: Date;
  readonly createdBy: string;
}

/** Object type, algorithm and length by index (60% AES, 15% private + 15% public EC, 10% secrets). */
function kind(i: number): { objectType: string; algorithm: string | null; length: number | null; curve: string | null } {
  const slot = i % 20;
  if (slot < 12) return { objectType: "SymmetricKey", algorithm: "AES", length: 256, curve: null };
  if (slot < 15) return { objectType: "PrivateKey", algorithm: "EC", length: 256, curve: "P-256" };
  if (slot < 18) return { objectType: "PublicKey", algorithm: "EC", length: 256, curve: "P-256" };
  if (slot < 19) return { objectType: "SecretData", algorithm: null, length: null, curve: null };
  return { objectType: "OpaqueObject", algorithm: null, length: null, curve: null };
}

/** Stored state and dates by index: 64% Active, 9% Pre-Active, 19% Deactivated, 3% Compromised, 5% Destroyed. */
function lifecycle(i: number, initialDate: Date, now: Date) {
  const slot = i % 100;
  const activated = new Date(initialDate.getTime() + 60_000);
  const past = new Date(now.getTime() - DAY_MS);
  const future = new Date(now.getTime() + 30 * DAY_MS);
  // A passed date is written into the stored state by the apply-lifecycle-dates job (every 5 min);
  // only objects whose date passed since its last run lag behind: one in a hundred of those here.
  const lagging = Math.floor(i / 100) % 100 === 0;
  if (slot < 70 && slot % 10 === 0) return { state: lagging ? "Active" : "Deactivated", activationDate: activated, deactivationDate: past };
  if (slot < 70) return { state: "Active", activationDate: activated, deactivationDate: slot % 10 === 1 ? future : null };
  if (slot === 70) return { state: lagging ? "Pre-Active" : "Active", activationDate: past, deactivationDate: null };
  if (slot < 80) return { state: "Pre-Active", activationDate: slot < 75 ? future : null, deactivationDate: null };
  if (slot < 92) return { state: "Deactivated", activationDate: activated, deactivationDate: past };
  if (slot < 95) return { state: "Compromised", activationDate: activated, deactivationDate: past, compromiseDate: past };
  return { state: "Destroyed", activationDate: activated, deactivationDate: past, destroyDate: past };
}

type NameRow = { uid: string; name: string };
type AttributeRow = { uid: string; name: string; value: string };

/** The seeded managed_objects columns with their PostgreSQL types. */
const OBJECT_COLUMNS: readonly Column<SeedObject>[] = [
  ["uid", "text"],
  ["objectType", "text"],
  ["algorithm", "text"],
  ["length", "int"],
  ["curve", "text"],
  ["usageMask", "int"],
  ["state", "text"],
  ["activationDate", "timestamp(3)"],
  ["deactivationDate", "timestamp(3)"],
  ["compromiseDate", "timestamp(3)"],
  ["destroyDate", "timestamp(3)"],
  ["sensitive", "boolean"],
  ["extractable", "boolean"],
  ["initialDate", "timestamp(3)"],
  ["lastChangeDate", "timestamp(3)"],
  ["createdBy", "text"],
];
const NAME_COLUMNS: readonly Column<NameRow>[] = [
  ["uid", "text"],
  ["name", "text"],
];
const ATTRIBUTE_COLUMNS: readonly Column<AttributeRow>[] = [
  ["uid", "text"],
  ["name", "text"],
  ["value", "text"],
];

/** Inserts `count` managed objects (with names and custom attributes) spread over two years before `now`. */
export async function seedManagedObjects(target: DatabaseTarget, options: { count: number; now?: Date; firstIndex?: number; onBatch?: (done: number) => void }): Promise<SeedResult> {
  const now = options.now ?? new Date("2026-11-27T00:00:00Z");
  const first = options.firstIndex ?? 0;
  const startMs = now.getTime() - 730 * DAY_MS;
  const stepMs = Math.max(1, Math.floor((730 * DAY_MS) / Math.max(1, options.count)));
  const started = performance.now();
  const database = await openSeedDatabase(target);
  try {
    for (let offset = 0; offset < options.count; offset += SEED_BATCH) {
      const batch = { objects: [] as SeedObject[], names: [] as NameRow[], attributes: [] as AttributeRow[] };
      for (let i = first + offset; i < first + Math.min(options.count, offset + SEED_BATCH); i++) {
        const initialMs = startMs + (i - first) * stepMs;
        const uid = uuidV7At(initialMs, i);
        const initialDate = new Date(initialMs);
        batch.objects.push({
          uid,
          ...kind(i),
          usageMask: 0x0c,
          ...lifecycle(i, initialDate, now),
          sensitive: false,
          extractable: true,
          initialDate,
          lastChangeDate: initialDate,
          createdBy: "bench",
        });
        batch.names.push({ uid, name: `key-${i}` });
        if (i % 10 === 0) batch.names.push({ uid, name: `app-${i % 1000}` });
        batch.attributes.push({ uid, name: "x-tenant", value: `tenant-${i % 500}` });
        if (i % 5 === 0) batch.attributes.push({ uid, name: "x-env", value: i % 2 === 0 ? "prod" : "dev" });
      }
      await database.write([
        tableRows("managed_objects", OBJECT_COLUMNS, batch.objects),
        tableRows("managed_object_names", NAME_COLUMNS, batch.names),
        tableRows("managed_object_attributes", ATTRIBUTE_COLUMNS, batch.attributes),
      ]);
      options.onBatch?.(offset + batch.objects.length);
    }
  } finally {
    await database.close();
  }
  return { count: options.count, start: new Date(startMs), end: now, millis: performance.now() - started };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: "string" }, count: { type: "string", default: "20000" }, "first-index": { type: "string", default: "0" } } });
  if (values.url === undefined) throw new Error("usage: seed-managed-objects.ts --url <DATABASE_URL> [--count N] [--first-index I]");
  const target = parseDatabaseUrl(values.url, process.cwd());
  await migrateForSeed(target);
  const result = await seedManagedObjects(target, {
    count: Number(values.count),
    firstIndex: Number(values["first-index"]),
    onBatch: (done) => {
      if (done % 50_000 === 0) console.log(`  ${done} objects`);
    },
  });
  console.log(`seeded ${result.count} managed objects in ${(result.millis / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();

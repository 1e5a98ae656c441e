/**
 * Fills a database with a synthetic key inventory for the Locate benchmark (ARCHITECTURE.md §5:
 * 1M keys, Locate under 50 ms), one transaction per batch of 1,000 objects, without key material
 * (Locate never reads the sealed bytes). Rows go straight through the drivers under Prisma's
 * adapters (pg, better-sqlite3): Prisma's createMany inserted ~700 objects/s (SQLite) and ~1k/s
 * (PostgreSQL) here, spending its time building parameter lists.
 *
 * Run: `npx tsx bench/seed-managed-objects.ts --url postgresql://postgres@127.0.0.1:5432/kpki_bench --count 100000`
 * (the database must exist; it is migrated first). `--url file:/tmp/bench.db` seeds SQLite.
 *
 * The data is deterministic (a counter, no randomness), so runs are comparable:
 * - uid: a UUIDv7 whose timestamp grows with the index (creation order = uid order);
 * - object types and states in realistic proportions (mostly active symmetric keys); a tenth of
 *   the Pre-Active objects have an activation date in the past and some Active ones a
 *   deactivation date in the past, so the effective-state filters have work to do;
 * - names: `key-<i>` on every object (unique), `app-<i mod 1000>` on every tenth one (shared);
 * - custom attributes: `x-tenant` = `tenant-<i mod 500>` on every object, `x-env` on every fifth.
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import { parseDatabaseUrl, type DatabaseTarget } from "../src/infra/prisma/database-url.js";
import { Migrator } from "../src/infra/prisma/migrator.js";


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

const DAY_MS = 86_400_000;
const BATCH = 1_000;

/** Object type, algorithm and length by index (60% AES, 15% private + 15% public EC, 10% secrets). */
function kind(i: number): { objectType: string; algorithm: string | null; length: number | null; curve: string | null } {
  const slot = i % 20;
  if (slot < 12) return { objectType: "SymmetricKey", algorithm: "AES", length: 256, curve: null };
  if (slot < 15) return { objectType: "PrivateKey", algorithm: "EC", length: 256, curve: "P-256" };
  if (slot < 18) return { objectType: "PublicKey", algorithm: "EC", length: 256, curve: "P-256" };
  if (slot < 19) return { objectType: "SecretData", algorithm: null, length: null, curve: null };
  return { objectType: "OpaqueObject", algorithm: null, length: null, curve: null };
}

/** Stored state and dates by index: 70% Active, 10% Pre-Active, 12% Deactivated, 3% Compromised, 5% Destroyed. */
function lifecycle(i: number, initialDate: Date, now: Date) {
  const slot = i % 100;
  const activated = new Date(initialDate.getTime() + 60_000);
  const past = new Date(now.getTime() - DAY_MS);
  const future = new Date(now.getTime() + 30 * DAY_MS);
  if (slot < 70) return { state: "Active", activationDate: activated, deactivationDate: slot % 10 === 0 ? past : slot % 10 === 1 ? future : null };
  if (slot < 80) return { state: "Pre-Active", activationDate: slot === 70 ? past : slot < 75 ? future : null, deactivationDate: null };
  if (slot < 92) return { state: "Deactivated", activationDate: activated, deactivationDate: past };
  if (slot < 95) return { state: "Compromised", activationDate: activated, deactivationDate: past, compromiseDate: past };
  return { state: "Destroyed", activationDate: activated, deactivationDate: past, destroyDate: past };
}

/** A UUIDv7 (RFC 9562 §5.7) from a millisecond time and a counter: sorts by time, then counter. */
function uidAt(ms: number, i: number): string {
  const hex = ms.toString(16).padStart(12, "0") + "7" + (i % 0x1000).toString(16).padStart(3, "0") + "8" + i.toString(16).padStart(15, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

type NameRow = { uid: string; name: string };
type AttributeRow = { uid: string; name: string; value: string };
type Column<T> = readonly [keyof T & string, string];

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

/** One batch of rows per table. */
interface Batch {
  readonly objects: SeedObject[];
  readonly names: NameRow[];
  readonly attributes: AttributeRow[];
}

/** Writes batches, each in one transaction; `close` ends the connection. */
interface BatchWriter {
  write(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

const cell = (row: object, name: string): unknown => (row as Record<string, unknown>)[name] ?? null;

/** PostgreSQL: `INSERT … SELECT * FROM unnest($1::text[], …)`, one array parameter per column. */
async function postgresqlWriter(url: string): Promise<BatchWriter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const insert = async <T extends object>(table: string, columns: readonly Column<T>[], rows: readonly T[]) => {
    const list = columns.map(([name]) => `"${name}"`).join(", ");
    const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
    await client.query(`INSERT INTO "${table}" (${list}) SELECT * FROM unnest(${arrays})`, columns.map(([name]) => rows.map((row) => cell(row, name))));
  };
  return {
    write: async (batch) => {
      await client.query("BEGIN");
      try {
        await insert("managed_objects", OBJECT_COLUMNS, batch.objects);
        await insert("managed_object_names", NAME_COLUMNS, batch.names);
        await insert("managed_object_attributes", ATTRIBUTE_COLUMNS, batch.attributes);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    },
    close: () => client.end(),
  };
}

/**
 * SQLite: prepared INSERTs through better-sqlite3 (the driver under Prisma's adapter). Values are
 * stored the way Prisma's adapter stores them (dates as `…T…+00:00` text, booleans as 0/1), so
 * Prisma reads and compares them like its own rows.
 */
async function sqliteWriter(filename: string): Promise<BatchWriter> {
  const db = new SqliteDatabase(filename);
  db.pragma("journal_mode = WAL");
  const value = (v: unknown): unknown => (v instanceof Date ? v.toISOString().replace("Z", "+00:00") : typeof v === "boolean" ? Number(v) : v);
  const statement = <T extends object>(table: string, columns: readonly Column<T>[]) => {
    const prepared = db.prepare(`INSERT INTO "${table}" (${columns.map(([name]) => `"${name}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
    return (rows: readonly T[]) => rows.forEach((row) => prepared.run(columns.map(([name]) => value(cell(row, name)))));
  };
  const objects = statement("managed_objects", OBJECT_COLUMNS);
  const names = statement("managed_object_names", NAME_COLUMNS);
  const attributes = statement("managed_object_attributes", ATTRIBUTE_COLUMNS);
  const write = db.transaction((batch: Batch) => {
    objects(batch.objects);
    names(batch.names);
    attributes(batch.attributes);
  });
  return { write: async (batch) => write(batch), close: async () => void db.close() };
}

/** Inserts `count` managed objects (with names and custom attributes) spread over two years before `now`. */
export async function seedManagedObjects(target: DatabaseTarget, options: { count: number; now?: Date; firstIndex?: number; onBatch?: (done: number) => void }): Promise<SeedResult> {
  const now = options.now ?? new Date("2026-11-27T00:00:00Z");
  const first = options.firstIndex ?? 0;
  const startMs = now.getTime() - 730 * DAY_MS;
  const stepMs = Math.max(1, Math.floor((730 * DAY_MS) / Math.max(1, options.count)));
  const started = performance.now();
  const writer = target.provider === "postgresql" ? await postgresqlWriter(target.url) : await sqliteWriter(target.filename);
  try {
    for (let offset = 0; offset < options.count; offset += BATCH) {
      const batch: Batch = { objects: [], names: [], attributes: [] };
      for (let i = first + offset; i < first + Math.min(options.count, offset + BATCH); i++) {
        const initialMs = startMs + (i - first) * stepMs;
        const uid = uidAt(initialMs, i);
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
      await writer.write(batch);
      options.onBatch?.(offset + batch.objects.length);
    }
  } finally {
    await writer.close();
  }
  return { count: options.count, start: new Date(startMs), end: now, millis: performance.now() - started };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: "string" }, count: { type: "string", default: "20000" }, "first-index": { type: "string", default: "0" } } });
  if (values.url === undefined) throw new Error("usage: seed-managed-objects.ts --url <DATABASE_URL> [--count N] [--first-index I]");
  const target = parseDatabaseUrl(values.url, process.cwd());
  const migrator = new Migrator({ database: target, log: (line) => console.log(line) });
  try {
    await migrator.migrate();
  } finally {
    await migrator.close();
  }
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

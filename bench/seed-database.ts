/**
 * Bulk writes for the benchmark seeds (bench/seed-managed-objects.ts, bench/seed-certificates.ts):
 * rows go straight through the drivers under Prisma's adapters (pg, better-sqlite3), one
 * transaction per batch. Prisma's createMany inserted ~700 rows/s (SQLite) and ~1k/s (PostgreSQL)
 * here, spending its time building parameter lists.
 */
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import type { DatabaseTarget } from "../src/infra/prisma/database-url.js";
import { Migrator } from "../src/infra/prisma/migrator.js";

export const DAY_MS = 86_400_000;
/** Rows of the main table per transaction. */
export const SEED_BATCH = 1_000;

/** A column the seed sets, with its PostgreSQL type (the rest keep their defaults). */
export type Column<T> = readonly [keyof T & string, string];

/** Rows for one table, their columns named; built with `tableRows` so the names are checked. */
export interface TableRows {
  readonly table: string;
  readonly columns: readonly (readonly [string, string])[];
  readonly rows: readonly object[];
}

export function tableRows<T extends object>(table: string, columns: readonly Column<T>[], rows: readonly T[]): TableRows {
  return { table, columns, rows };
}

/** A seeded database: batches written in one transaction each, and plain reads for the seed's inputs. */
export interface SeedDatabase {
  write(tables: readonly TableRows[]): Promise<void>;
  /** Rows of a query without parameters (column names quoted as in the schema). */
  rows<T>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

const cell = (row: object, name: string): unknown => (row as Record<string, unknown>)[name] ?? null;

/** PostgreSQL: `INSERT … SELECT * FROM unnest($1::text[], …)`, one array parameter per column. */
async function postgresqlSeedDatabase(url: string): Promise<SeedDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const insert = async ({ table, columns, rows }: TableRows) => {
    if (rows.length === 0) return;
    const list = columns.map(([name]) => `"${name}"`).join(", ");
    const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
    await client.query(`INSERT INTO "${table}" (${list}) SELECT * FROM unnest(${arrays})`, columns.map(([name]) => rows.map((row) => cell(row, name))));
  };
  return {
    write: async (tables) => {
      await client.query("BEGIN");
      try {
        for (const table of tables) await insert(table);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    },
    rows: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    close: () => client.end(),
  };
}

/**
 * SQLite: prepared INSERTs through better-sqlite3 (the driver under Prisma's adapter). Values are
 * stored the way Prisma's adapter stores them (dates as `…T…+00:00` text, booleans as 0/1), so
 * Prisma reads and compares them like its own rows.
 */
async function sqliteSeedDatabase(filename: string): Promise<SeedDatabase> {
  const db = new SqliteDatabase(filename);
  db.pragma("journal_mode = WAL");
  const value = (v: unknown): unknown => (v instanceof Date ? v.toISOString().replace("Z", "+00:00") : typeof v === "boolean" ? Number(v) : v);
  const statements = new Map<string, SqliteDatabase.Statement>();
  const insert = ({ table, columns, rows }: TableRows) => {
    const sql = `INSERT INTO "${table}" (${columns.map(([name]) => `"${name}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
    const prepared = statements.get(sql) ?? db.prepare(sql);
    statements.set(sql, prepared);
    for (const row of rows) prepared.run(columns.map(([name]) => value(cell(row, name))));
  };
  const write = db.transaction((tables: readonly TableRows[]) => tables.forEach(insert));
  return { write: async (tables) => write(tables), rows: async <T>(sql: string) => db.prepare(sql).all() as T[], close: async () => void db.close() };
}

export function openSeedDatabase(target: DatabaseTarget): Promise<SeedDatabase> {
  return target.provider === "postgresql" ? postgresqlSeedDatabase(target.url) : sqliteSeedDatabase(target.filename);
}

/** Applies kpki's migrations, as `kpki serve` would, before a seed writes. */
export async function migrateForSeed(target: DatabaseTarget): Promise<void> {
  const migrator = new Migrator({ database: target, log: (line) => console.log(line) });
  try {
    await migrator.migrate();
  } finally {
    await migrator.close();
  }
}

/** A UUIDv7 (RFC 9562 §5.7) from a millisecond time and a counter: sorts by time, then counter. */
export function uuidV7At(ms: number, i: number): string {
  const hex = ms.toString(16).padStart(12, "0") + "7" + (i % 0x1000).toString(16).padStart(3, "0") + "8" + i.toString(16).padStart(15, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

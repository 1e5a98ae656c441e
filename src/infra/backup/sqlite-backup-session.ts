import Database from "better-sqlite3";
import { MIGRATIONS_TABLE } from "../prisma/migrator.js";
import type { BackupSession } from "./backup-session.js";
import { UnsupportedColumnError, portableDateTime, quoteIdentifier, type CatalogColumn, type CatalogTable, type ColumnType, type ForeignKey, type PortableValue } from "./catalog.js";

/** Declared column types of the SQLite migrations (Prisma's SQLite mapping) → portable types. */
const SQLITE_TYPES: Readonly<Record<string, ColumnType>> = { TEXT: "text", INTEGER: "int", BIGINT: "bigint", BOOLEAN: "bool", DATETIME: "datetime", BLOB: "bytes" };

/** Rows per INSERT: 500 rows × ~30 columns stays far below SQLite's 32766 bound variables. */
const INSERT_BATCH_ROWS = 500;

type SqliteValue = string | bigint | number | Buffer | null;

/** What a stored value is in the portable form (integers are read as bigint: safeIntegers). */
function toPortable(column: CatalogColumn, value: unknown, where: string): PortableValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case "text":
      if (typeof value === "string") return value;
      break;
    case "int":
      if (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
      break;
    case "bigint":
      if (typeof value === "bigint") return value.toString();
      break;
    case "bool":
      if (typeof value === "bigint") return value !== 0n;
      break;
    case "datetime":
      if (typeof value === "string" || typeof value === "bigint") return portableDateTime(value, where);
      break;
    case "bytes":
      if (Buffer.isBuffer(value)) return value.toString("base64");
      break;
  }
  throw new UnsupportedColumnError(`${where}: a stored ${typeof value} does not fit column type ${column.type}`);
}

/** The value as Prisma's SQLite adapter stores it (so Prisma reads and compares it as it wrote it). */
function toSqlite(column: CatalogColumn, value: PortableValue): SqliteValue {
  if (value === null) return null;
  switch (column.type) {
    case "text":
      return String(value);
    case "int":
      return Number(value);
    case "bigint":
      return BigInt(String(value));
    case "bool":
      return value === true ? 1 : 0;
    case "datetime":
      // @prisma/adapter-better-sqlite3 (timestampFormat "iso8601") writes toISOString() with "+00:00".
      return new Date(String(value)).toISOString().replace("Z", "+00:00");
    case "bytes":
      return Buffer.from(String(value), "base64");
  }
}

export async function openSqliteSession(filename: string): Promise<BackupSession> {
  const db = new Database(filename, { timeout: 60_000 });
  // Foreign keys enforced, checked at COMMIT (sqlite.org/foreignkeys.html §4.2 defer_foreign_keys).
  db.pragma("foreign_keys = ON");
  const where = (table: CatalogTable) => quoteIdentifier(table.name);
  return {
    beginSnapshot: async () => {
      db.exec("BEGIN");
      // In WAL mode a read transaction takes its snapshot at its first read (sqlite.org/wal.html §2.2).
      db.prepare("SELECT count(*) FROM sqlite_master").get();
    },
    beginWrite: async () => {
      db.exec("BEGIN IMMEDIATE");
      db.pragma("defer_foreign_keys = ON");
    },
    commit: async () => {
      db.exec("COMMIT");
    },
    rollback: async () => {
      if (db.inTransaction) db.exec("ROLLBACK");
    },
    catalog: async () => {
      const tables = db
        .prepare<[string], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ? ORDER BY name")
        .all(MIGRATIONS_TABLE);
      return tables.map(({ name, sql }) => {
        const info = db.prepare<[], { name: string; type: string; pk: number }>(`PRAGMA table_info(${quoteIdentifier(name)})`).all();
        const primaryKey = info.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk).map((column) => column.name);
        const autoincrement = /\bAUTOINCREMENT\b/i.test(sql);
        const columns = info.map((column): CatalogColumn => {
          const type = SQLITE_TYPES[column.type.toUpperCase()];
          if (type === undefined) throw new UnsupportedColumnError(`column ${name}.${column.name} has type ${column.type}, which kpki backup does not carry: refusing rather than losing it`);
          return { name: column.name, type, serial: autoincrement && primaryKey.length === 1 && primaryKey[0] === column.name };
        });
        const keys = db.prepare<[], { id: number; seq: number; table: string; from: string; to: string }>(`PRAGMA foreign_key_list(${quoteIdentifier(name)})`).all();
        const foreignKeys: ForeignKey[] = [...new Set(keys.map((key) => key.id))].map((id) => {
          const parts = keys.filter((key) => key.id === id).sort((a, b) => a.seq - b.seq);
          return { table: parts[0]?.table ?? "", columns: parts.map((part) => part.from), referencedColumns: parts.map((part) => part.to) };
        });
        return { name, columns, primaryKey: primaryKey.length > 0 ? primaryKey : ["rowid"], foreignKeys };
      });
    },
    appliedMigrations: async () => db.prepare<[], { name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`).all().map((row) => row.name),
    count: async (table) => Number((db.prepare(`SELECT count(*) AS n FROM ${where(table)}`).get() as { n: number }).n),
    rows: (table) => {
      const columns = table.columns.map((column) => quoteIdentifier(column.name)).join(", ");
      const order = table.primaryKey.map(quoteIdentifier).join(", ");
      const statement = db.prepare(`SELECT ${columns} FROM ${where(table)} ORDER BY ${order}`).raw(true).safeIntegers(true);
      return (async function* () {
        for (const raw of statement.iterate() as Iterable<unknown[]>) {
          yield table.columns.map((column, i) => toPortable(column, raw[i], `${table.name}.${column.name}`));
        }
      })();
    },
    insert: async (table, rows) => {
      const columns = table.columns.map((column) => quoteIdentifier(column.name)).join(", ");
      const tuple = `(${table.columns.map(() => "?").join(", ")})`;
      for (let start = 0; start < rows.length; start += INSERT_BATCH_ROWS) {
        const batch = rows.slice(start, start + INSERT_BATCH_ROWS);
        const values = batch.flatMap((row) => table.columns.map((column, i) => toSqlite(column, row[i] ?? null)));
        db.prepare(`INSERT INTO ${where(table)} (${columns}) VALUES ${batch.map(() => tuple).join(", ")}`).run(...values);
      }
    },
    deleteAll: async (tables) => {
      for (const table of [...tables].reverse()) db.prepare(`DELETE FROM ${where(table)}`).run();
    },
    resetCounters: async (tables) => {
      // AUTOINCREMENT keeps its high-water mark in sqlite_sequence (sqlite.org/autoinc.html): set it to
      // the restored maximum, also lowering one left behind by rows a forced restore removed.
      for (const table of tables) {
        for (const column of table.columns.filter((candidate) => candidate.serial)) {
          db.prepare("DELETE FROM sqlite_sequence WHERE name = ?").run(table.name);
          db.prepare(`INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(${quoteIdentifier(column.name)}), 0) FROM ${where(table)}`).run(table.name);
        }
      }
    },
    checkForeignKeys: async () => {
      const violations = db.pragma("foreign_key_check") as { table: string }[];
      if (violations.length > 0) throw new UnsupportedColumnError(`${violations.length} restored row(s) break a foreign key (first in ${violations[0]?.table ?? "?"})`);
    },
    close: async () => {
      db.close();
    },
  };
}

import pg from "pg";
import { MIGRATIONS_TABLE } from "../prisma/migrator.js";
import type { BackupSession } from "./backup-session.js";
import { UnsupportedColumnError, portableDateTime, quoteIdentifier, type CatalogColumn, type CatalogTable, type ColumnType, type ForeignKey, type PortableValue } from "./catalog.js";

/** information_schema data types of the PostgreSQL migrations (Prisma's mapping) → portable types. */
const POSTGRESQL_TYPES: Readonly<Record<string, ColumnType>> = {
  text: "text",
  integer: "int",
  bigint: "bigint",
  boolean: "bool",
  "timestamp without time zone": "datetime",
  bytea: "bytes",
};

/** Rows per keyset page when reading, and per INSERT (≤ 65535 parameters: 500 rows × ~30 columns). */
const PAGE_ROWS = 1000;
const INSERT_BATCH_ROWS = 500;

// int8 and timestamps as the server's text: a JavaScript number would round a BigInt, and the
// default timestamp parser reads a TIMESTAMP WITHOUT TIME ZONE (Prisma stores UTC) in local time.
const TEXT_OIDS = new Set([20, 1114, 1184]);
function textParser(oid: number): (value: string) => unknown {
  if (TEXT_OIDS.has(oid)) return (value) => value;
  // pg-types declares its parsers as returning `any`; what they return is checked in toPortable.
  const parser = pg.types.getTypeParser(oid, "text") as (value: string) => unknown;
  return parser;
}
const types = { getTypeParser: textParser as pg.CustomTypesConfig["getTypeParser"] };

function toPortable(column: CatalogColumn, value: unknown, where: string): PortableValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case "text":
      if (typeof value === "string") return value;
      break;
    case "int":
      if (typeof value === "number") return value;
      break;
    case "bigint":
      if (typeof value === "string") return value;
      break;
    case "bool":
      if (typeof value === "boolean") return value;
      break;
    case "datetime":
      if (typeof value === "string") return portableDateTime(value, where);
      break;
    case "bytes":
      if (Buffer.isBuffer(value)) return value.toString("base64");
      break;
  }
  throw new UnsupportedColumnError(`${where}: a stored ${typeof value} does not fit column type ${column.type}`);
}

/** Parameters as text the server casts to the column type; timestamps as UTC text (the zone is ignored by TIMESTAMP). */
function toPostgresql(column: CatalogColumn, value: PortableValue): string | number | boolean | Buffer | null {
  if (value === null) return null;
  switch (column.type) {
    case "bytes":
      return Buffer.from(String(value), "base64");
    case "datetime":
      return new Date(String(value)).toISOString().replace("T", " ").replace("Z", "");
    default:
      return value;
  }
}

export async function openPostgresqlSession(url: string): Promise<BackupSession> {
  const client = new pg.Client({ connectionString: url, types });
  client.on("error", () => undefined);
  await client.connect();
  const where = (table: CatalogTable) => quoteIdentifier(table.name);
  return {
    beginSnapshot: async () => {
      // One snapshot for every statement of the transaction (postgresql.org/docs/current/transaction-iso.html#XACT-REPEATABLE-READ).
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    },
    beginWrite: async () => {
      await client.query("BEGIN");
    },
    commit: async () => {
      await client.query("COMMIT");
    },
    rollback: async () => {
      await client.query("ROLLBACK").catch(() => undefined);
    },
    catalog: async () => {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1 ORDER BY table_name",
        [MIGRATIONS_TABLE],
      );
      const columns = await client.query<{ table_name: string; column_name: string; data_type: string; column_default: string | null }>(
        "SELECT table_name, column_name, data_type, column_default FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
      );
      const keys = await client.query<{ table_name: string; name: string; kind: string; columns: string[]; referenced_table: string | null; referenced_columns: string[] | null }>(
        `SELECT cl.relname AS table_name, c.conname AS name, c.contype AS kind,
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
                rf.relname AS referenced_table,
                CASE WHEN c.contype = 'f' THEN ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n) END AS referenced_columns
           FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace ns ON ns.oid = cl.relnamespace LEFT JOIN pg_class rf ON rf.oid = c.confrelid
          WHERE ns.nspname = current_schema() AND c.contype IN ('p', 'f') ORDER BY c.conname`,
      );
      return tables.rows.map(({ table_name: name }) => {
        const own = columns.rows.filter((column) => column.table_name === name);
        const catalogColumns = own.map((column): CatalogColumn => {
          const type = POSTGRESQL_TYPES[column.data_type];
          if (type === undefined) throw new UnsupportedColumnError(`column ${name}.${column.column_name} has type ${column.data_type}, which kpki backup does not carry: refusing rather than losing it`);
          return { name: column.column_name, type, serial: column.column_default?.startsWith("nextval(") === true };
        });
        const primaryKey = keys.rows.find((key) => key.table_name === name && key.kind === "p")?.columns;
        if (primaryKey === undefined) throw new UnsupportedColumnError(`table ${name} has no primary key: its rows have no stable order to back up`);
        const foreignKeys: ForeignKey[] = keys.rows
          .filter((key) => key.table_name === name && key.kind === "f")
          .map((key) => ({ table: key.referenced_table ?? "", columns: key.columns, referencedColumns: key.referenced_columns ?? [] }));
        return { name, columns: catalogColumns, primaryKey, foreignKeys };
      });
    },
    appliedMigrations: async () => (await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`)).rows.map((row) => row.name),
    count: async (table) => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${where(table)}`)).rows[0]?.n ?? 0),
    rows: (table) => {
      const columns = table.columns.map((column) => quoteIdentifier(column.name)).join(", ");
      const key = table.primaryKey.map(quoteIdentifier).join(", ");
      const keyIndexes = table.primaryKey.map((name) => table.columns.findIndex((column) => column.name === name));
      return (async function* () {
        // Keyset pages (WHERE (pk) > (last pk)) inside the snapshot: bounded memory, one consistent view.
        let last: unknown[] | undefined;
        for (;;) {
          const after = last === undefined ? "" : `WHERE (${key}) > (${last.map((_, i) => `$${i + 1}`).join(", ")})`;
          const page = await client.query<unknown[]>({ text: `SELECT ${columns} FROM ${where(table)} ${after} ORDER BY ${key} LIMIT ${PAGE_ROWS}`, values: last ?? [], rowMode: "array" });
          for (const raw of page.rows) yield table.columns.map((column, i) => toPortable(column, raw[i], `${table.name}.${column.name}`));
          const final = page.rows.at(-1);
          if (page.rows.length < PAGE_ROWS || final === undefined) return;
          last = keyIndexes.map((i) => final[i]);
        }
      })();
    },
    insert: async (table, rows) => {
      const columns = table.columns.map((column) => quoteIdentifier(column.name)).join(", ");
      const width = table.columns.length;
      for (let start = 0; start < rows.length; start += INSERT_BATCH_ROWS) {
        const batch = rows.slice(start, start + INSERT_BATCH_ROWS);
        const tuples = batch.map((_, r) => `(${table.columns.map((_, c) => `$${r * width + c + 1}`).join(", ")})`);
        const values = batch.flatMap((row) => table.columns.map((column, i) => toPostgresql(column, row[i] ?? null)));
        await client.query(`INSERT INTO ${where(table)} (${columns}) VALUES ${tuples.join(", ")}`, values);
      }
    },
    deleteAll: async (tables) => {
      if (tables.length > 0) await client.query(`TRUNCATE ${tables.map(where).join(", ")}`);
    },
    resetCounters: async (tables) => {
      // Rows restored with their ids leave a SERIAL's sequence where it was: move it past them.
      for (const table of tables) {
        for (const column of table.columns.filter((candidate) => candidate.serial)) {
          await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${quoteIdentifier(column.name)}) FROM ${where(table)}), 0) + 1, false)`, [
            where(table),
            column.name,
          ]);
        }
      }
    },
    // PostgreSQL checks each row as it is inserted (constraints are not deferrable): nothing left to check.
    checkForeignKeys: async () => undefined,
    close: () => client.end(),
  };
}

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import type { DatabaseTarget } from "./database-url.js";

// Prisma 6.19 cannot apply migrations to PostgreSQL here (ARCHITECTURE.md §4 "Offline facts"), so
// the SQL that `npm run migration:new` committed under prisma/migrations/<provider>/ is applied by
// this small migrator with the raw drivers: one transaction per file together with its bookkeeping
// row, a lock so replicas starting together are safe, and a checksum that refuses edited history.

/** Options of a Migrator. */
export interface MigratorOptions {
  readonly database: DatabaseTarget;
  /** The folder holding `sqlite/` and `postgresql/` (default: the package's `prisma/migrations`). */
  readonly migrationsDir?: string;
  /** Progress lines ("applying 0001_init", …). */
  readonly log?: (line: string) => void;
  /** The time recorded as `applied_at` (default: the system clock). */
  readonly clock?: () => Date;
  /** SQLite: how long to wait for another process's write lock (default 60 s). */
  readonly busyTimeoutMs?: number;
}

/** One migration file and whether the database has it. */
export interface MigrationStatus {
  readonly name: string;
  readonly applied: boolean;
  readonly appliedAt?: Date;
}

/** The migrator refuses to go on (edited or unknown history, bad files, a failed migration). */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

/** The bookkeeping table. */
export const MIGRATIONS_TABLE = "kpki_schema_migrations";
// pg_advisory_lock key: the ASCII bytes of "kpki-mig" as a bigint (any constant unique to kpki).
const PG_LOCK_KEY = "7741805858927765863";
const FILE_PATTERN = /^\d{4}_[a-z0-9_]+\.sql$/;

interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

interface AppliedRow {
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: Date;
}

/** What differs between the databases: one connection, its lock and its transactions. */
interface Session {
  tableExists(): Promise<boolean>;
  createTable(): Promise<void>;
  readApplied(): Promise<AppliedRow[]>;
  /** Runs fn holding the cross-process migration lock (SQLite: taken per transaction instead). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs fn in one transaction that also excludes other writers (SQLite: BEGIN IMMEDIATE). */
  inTransaction<T>(fn: () => Promise<T>): Promise<T>;
  exec(sql: string): Promise<void>;
  /** Inside a transaction, after a migration ran: refuse if it left broken references. */
  checkIntegrity(): Promise<void>;
  record(row: AppliedRow): Promise<void>;
  close(): Promise<void>;
}

/** Applies the committed migration SQL of the database's provider. */
export class Migrator {
  readonly #options: MigratorOptions;
  readonly #log: (line: string) => void;
  #session: Promise<Session> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: MigratorOptions) {
    this.#options = options;
    this.#log = options.log ?? (() => undefined);
  }

  /** Every migration file of this build, and whether (and when) it was applied. */
  status(): Promise<MigrationStatus[]> {
    return this.#serialize(async () => {
      const files = this.#readFiles();
      const session = await this.#connect();
      const rows = (await session.tableExists()) ? await session.readApplied() : [];
      pendingAfterChecks(files, rows);
      const appliedAt = new Map(rows.map((row) => [row.name, row.appliedAt]));
      return files.map((file) => {
        const at = appliedAt.get(file.name);
        return at === undefined ? { name: file.name, applied: false } : { name: file.name, applied: true, appliedAt: at };
      });
    });
  }

  /** True when the database has at least one applied migration (false on an empty database). */
  hasAppliedMigrations(): Promise<boolean> {
    return this.#serialize(async () => {
      const session = await this.#connect();
      return (await session.tableExists()) && (await session.readApplied()).length > 0;
    });
  }

  /**
   * Applies every pending migration (or those up to and including `upTo`: a restore brings an older
   * backup's data in at its own migration head, then migrates it), each in its own transaction;
   * returns their names in order.
   */
  migrate(options: { upTo?: string } = {}): Promise<{ applied: string[] }> {
    return this.#serialize(async () => {
      const files = this.#readFiles();
      const session = await this.#connect();
      const applied: string[] = [];
      await session.withLock(async () => {
        await session.createTable();
        for (;;) {
          // State is read inside each transaction: another replica may have moved on meanwhile.
          const name = await session.inTransaction(async () => {
            const next = pendingAfterChecks(files, await session.readApplied())[0];
            if (next === undefined || (options.upTo !== undefined && next.name > options.upTo)) return undefined;
            this.#log(`migrations: applying ${next.name}`);
            try {
              await session.exec(next.sql);
              await session.checkIntegrity();
            } catch (error) {
              const reason = error instanceof Error ? error.message : String(error);
              throw new MigrationError(`migration ${next.name} failed and was rolled back: ${reason}`, { cause: error });
            }
            await session.record({ name: next.name, checksum: next.checksum, appliedAt: (this.#options.clock ?? (() => new Date()))() });
            return next.name;
          });
          if (name === undefined) break;
          applied.push(name);
        }
      });
      this.#log(applied.length > 0 ? `migrations: applied ${applied.join(", ")}` : "migrations: database is up to date");
      return { applied };
    });
  }

  /** Closes the connection. The migrator cannot be used afterwards. */
  close(): Promise<void> {
    return this.#serialize(async () => {
      this.#closed = true;
      const session = this.#session;
      this.#session = undefined;
      if (session !== undefined) await (await session).close();
    });
  }

  // One operation at a time per migrator: a connection runs one transaction at a time.
  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new MigrationError("the migrator is closed");
      return fn();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #connect(): Promise<Session> {
    if (this.#session === undefined) {
      const { database } = this.#options;
      const session = database.provider === "sqlite" ? openSqlite(database.filename, this.#options.busyTimeoutMs ?? 60_000) : openPostgresql(database.url, this.#log);
      this.#session = session;
      session.catch(() => {
        if (this.#session === session) this.#session = undefined;
      });
    }
    return this.#session;
  }

  #readFiles(): MigrationFile[] {
    const folder = path.join(this.#options.migrationsDir ?? defaultMigrationsDir(), this.#options.database.provider);
    if (!existsSync(folder)) throw new MigrationError(`no migrations folder at ${folder}`);
    const names = readdirSync(folder).filter((name) => name.endsWith(".sql")).sort();
    const misnamed = names.filter((name) => !FILE_PATTERN.test(name));
    if (misnamed.length > 0) throw new MigrationError(`not a migration file name (expected NNNN_name.sql): ${misnamed.join(", ")} in ${folder}`);
    const numbers = names.map((name) => name.slice(0, 4));
    const duplicate = numbers.find((number, index) => numbers.indexOf(number) !== index);
    if (duplicate !== undefined) throw new MigrationError(`two migration files are numbered ${duplicate} in ${folder}`);
    if (names.length === 0) throw new MigrationError(`no migration files in ${folder}`);
    return names.map((file) => {
      const sql = readFileSync(path.join(folder, file), "utf8");
      // Line endings normalised so a checkout with CRLF conversion does not look like an edit.
      const checksum = createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex");
      return { name: file.slice(0, -".sql".length), sql, checksum };
    });
  }
}

/** Refuses unknown, edited or out-of-order history; returns the pending files in order. */
function pendingAfterChecks(files: readonly MigrationFile[], rows: readonly AppliedRow[]): MigrationFile[] {
  const byName = new Map(files.map((file) => [file.name, file]));
  const unknown = rows.filter((row) => !byName.has(row.name)).map((row) => row.name);
  if (unknown.length > 0) {
    throw new MigrationError(`database was migrated by a newer kpki: ${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not known to this build`);
  }
  for (const row of rows) {
    const file = byName.get(row.name);
    if (file !== undefined && file.checksum !== row.checksum) {
      throw new MigrationError(`migration ${row.name} was edited after it was applied (checksum ${row.checksum}≠${file.checksum})`);
    }
  }
  const appliedNames = new Set(rows.map((row) => row.name));
  const pending = files.filter((file) => !appliedNames.has(file.name));
  const latest = [...appliedNames].sort().at(-1);
  const early = latest === undefined ? undefined : pending.find((file) => file.name < latest);
  if (early !== undefined && latest !== undefined) {
    throw new MigrationError(`migration ${early.name} is older than the applied ${latest}: migrations must be added at the end`);
  }
  return pending;
}

/** The migrations this build ships for a provider, in order (names without `.sql`). */
export function migrationNames(provider: DatabaseTarget["provider"], migrationsDir: string = defaultMigrationsDir()): string[] {
  const folder = path.join(migrationsDir, provider);
  if (!existsSync(folder)) throw new MigrationError(`no migrations folder at ${folder}`);
  return readdirSync(folder)
    .filter((name) => FILE_PATTERN.test(name))
    .sort()
    .map((name) => name.slice(0, -".sql".length));
}

/** The package's own migrations folder: `<root>/prisma/migrations`, from src/ (tsx, vitest) or dist/. */
export function defaultMigrationsDir(): string {
  return path.join(findPackageRoot(path.dirname(fileURLToPath(import.meta.url))), "prisma", "migrations");
}

/** Walks up from `startDir` to the directory whose package.json names the package "kpki". */
export function findPackageRoot(startDir: string): string {
  for (let dir = startDir; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, "utf8"));
      if (typeof parsed === "object" && parsed !== null && "name" in parsed && parsed.name === "kpki") return dir;
    }
    if (path.dirname(dir) === dir) throw new MigrationError(`kpki package root not found above ${startDir}`);
  }
}

async function openSqlite(filename: string, busyTimeoutMs: number): Promise<Session> {
  mkdirSync(path.dirname(filename), { recursive: true });
  const db = new Database(filename, { timeout: busyTimeoutMs });
  db.pragma("journal_mode = WAL");
  return {
    tableExists: async () => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MIGRATIONS_TABLE) !== undefined,
    createTable: async () => {
      db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    },
    readApplied: async () =>
      db
        .prepare<[], { name: string; checksum: string; applied_at: string }>(`SELECT name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY name`)
        .all()
        .map((row) => ({ name: row.name, checksum: row.checksum, appliedAt: new Date(row.applied_at) })),
    withLock: (fn) => fn(),
    inTransaction: async (fn) => {
      // Prisma's SQLite table redefinitions need foreign keys off, which SQLite only allows outside a
      // transaction (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes");
      // checkIntegrity() runs foreign_key_check before the commit instead.
      db.pragma("foreign_keys = OFF");
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn();
          db.exec("COMMIT");
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
      } finally {
        db.pragma("foreign_keys = ON");
      }
    },
    exec: async (sql) => {
      db.exec(sql);
    },
    checkIntegrity: async () => {
      const violations = db.pragma("foreign_key_check") as unknown[];
      if (violations.length > 0) throw new Error(`it leaves ${violations.length} row(s) with a broken foreign key (PRAGMA foreign_key_check)`);
    },
    record: async (row) => {
      db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum, applied_at) VALUES (?, ?, ?)`).run(row.name, row.checksum, row.appliedAt.toISOString());
    },
    close: async () => {
      db.close();
    },
  };
}

async function openPostgresql(url: string, log: (line: string) => void): Promise<Session> {
  const client = new pg.Client({ connectionString: url });
  // An idle connection closed by the server must not crash the process; the next query fails instead.
  client.on("error", (error) => log(`migrations: database connection error: ${error.message}`));
  await client.connect();
  return {
    tableExists: async () => {
      const result = await client.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [MIGRATIONS_TABLE]);
      return result.rows[0]?.found === true;
    },
    createTable: async () => {
      await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`);
    },
    readApplied: async () => {
      const result = await client.query<{ name: string; checksum: string; applied_at: Date }>(`SELECT name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY name`);
      return result.rows.map((row) => ({ name: row.name, checksum: row.checksum, appliedAt: row.applied_at }));
    },
    withLock: async (fn) => {
      // A session-level lock on this one connection, held across the per-file transactions.
      const tried = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [PG_LOCK_KEY]);
      if (tried.rows[0]?.locked !== true) {
        log("migrations: another kpki instance is migrating; waiting for it");
        await client.query("SELECT pg_advisory_lock($1::bigint)", [PG_LOCK_KEY]);
      }
      try {
        return await fn();
      } finally {
        try {
          await client.query("SELECT pg_advisory_unlock($1::bigint)", [PG_LOCK_KEY]);
        } catch (error) {
          // The lock ends with the session anyway; do not hide the error that brought us here.
          log(`migrations: could not release the migration lock: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
    inTransaction: async (fn) => {
      await client.query("BEGIN");
      try {
        const result = await fn();
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    },
    exec: async (sql) => {
      await client.query(sql);
    },
    checkIntegrity: async () => undefined,
    record: async (row) => {
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum, applied_at) VALUES ($1, $2, $3)`, [row.name, row.checksum, row.appliedAt]);
    },
    close: () => client.end(),
  };
}

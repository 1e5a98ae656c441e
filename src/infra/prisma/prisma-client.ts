import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client.js";
import { PrismaClient as SqliteClient, type Prisma } from "./generated/sqlite/client.js";
import type { DatabaseTarget } from "./database-url.js";

/**
 * The client type repositories are written against. Both generated clients come from one source
 * schema (scripts/prisma-generate.mjs derives the PostgreSQL one), so their model APIs are the same;
 * the SQLite client's type stands for both.
 */
export type Database = SqliteClient;
/** Which SQL dialect a client speaks. */
export type DatabaseProvider = DatabaseTarget["provider"];

/** The driver adapter factory type the generated client accepts. */
type AdapterFactory = NonNullable<Prisma.PrismaClientOptions["adapter"]>;
/** A client bound to one interactive transaction (or the root client, for reads). */
export type DatabaseTransaction = Prisma.TransactionClient;

/**
 * Per-connection SQLite settings (https://www.sqlite.org/pragma.html):
 * - journal_mode=WAL: readers never block the writer, and a commit is one append to the log.
 * - synchronous=FULL: the log is synced at every commit, so a committed transaction survives power
 *   loss, not only a process crash. NORMAL would sync only at checkpoints: the file would stay
 *   consistent, but the last transactions before a power cut would be gone, after their answers
 *   were sent: an issued certificate whose serial is then issued again, a key a client already
 *   encrypts data under, the audit entries of both. A CA and a KMS cannot hand out what they may
 *   forget, so the commit waits for the disk (one fdatasync of the WAL; measured in bench/README.md).
 * - busy_timeout: a second process (`kpki rotate`) waits for the writer instead of failing at once.
 * - foreign_keys=ON: SQLite leaves them off by default.
 * - optimize: gives the query planner statistics (without them it may scan instead of using an index).
 */
const SQLITE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA optimize=0x10002;";

/** Opens a Prisma client for the target through its driver adapter (no Rust engine). */
export function createDatabase(target: DatabaseTarget, options: { poolSize?: number } = {}): Database {
  if (target.provider === "sqlite") {
    const inner = new PrismaBetterSQLite3({ url: `file:${target.filename}` });
    // The adapter opens the connection itself; wrap its factory to apply the pragmas on connect.
    const adapter: AdapterFactory = {
      provider: inner.provider,
      adapterName: inner.adapterName,
      connect: async () => {
        const connection = await inner.connect();
        await connection.executeScript(SQLITE_PRAGMAS);
        return connection;
      },
    };
    return new SqliteClient({ adapter });
  }
  const inner = new PrismaPg({ connectionString: target.url, max: options.poolSize ?? 10 });
  const pool: { current?: pg.Pool } = {};
  // The adapter makes its pg pool on connect; keep a reference to report its size (metrics).
  const adapter: AdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => {
      const connection = await inner.connect();
      pool.current = connection.underlyingDriver();
      return connection;
    },
  };
  // Same models, same API (see Database above); only the SQL dialect underneath differs.
  const db = new PostgresClient({ adapter }) as unknown as Database;
  pools.set(db, pool);
  return db;
}

/** Connections of a database's pool at one moment. */
export interface PoolStatistics {
  /** Open connections, idle or in use. */
  readonly total: number;
  readonly idle: number;
  /** Queries queued for a free connection. */
  readonly waiting: number;
}

/** The pg pools of PostgreSQL clients (SQLite has one connection and no pool). */
const pools = new WeakMap<Database, { current?: pg.Pool }>();

/**
 * The connection pool of a PostgreSQL client, or undefined for SQLite (one embedded connection,
 * no pool). All zero until the first query opens the pool.
 */
export function poolStatistics(db: Database): PoolStatistics | undefined {
  const pool = pools.get(db);
  if (pool === undefined) return undefined;
  return { total: pool.current?.totalCount ?? 0, idle: pool.current?.idleCount ?? 0, waiting: pool.current?.waitingCount ?? 0 };
}

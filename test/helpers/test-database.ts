import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";

/** A database of one test file (or one test), created empty and dropped afterwards. */
export interface TestDatabase {
  /** A DATABASE_URL for it: `file:/tmp/…/kpki.db` or `postgresql://…/kpki_test_<hex>`. */
  readonly url: string;
  readonly provider: "sqlite" | "postgresql";
  /** Removes it (PostgreSQL: ends leftover connections first). Safe to call twice. */
  drop(): Promise<void>;
}

/** Options of createTestDatabase. */
export interface TestDatabaseOptions {
  /** Default: PostgreSQL when env TEST_DATABASE_URL is set, SQLite otherwise. */
  readonly provider?: "sqlite" | "postgresql";
}

/** The PostgreSQL test runs are on: env TEST_DATABASE_URL (an admin-capable database URL). */
export function postgresqlTestUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL?.trim();
  return url === undefined || url === "" ? undefined : url;
}

/** The providers a database test should run against: SQLite always, PostgreSQL when configured. */
export function testProviders(): ("sqlite" | "postgresql")[] {
  return postgresqlTestUrl() === undefined ? ["sqlite"] : ["sqlite", "postgresql"];
}

/**
 * Creates a fresh, empty database. SQLite: a file path in a new temp directory (the file itself is
 * created by whoever opens it). PostgreSQL: `CREATE DATABASE kpki_test_<random hex>` through the
 * TEST_DATABASE_URL connection; 16 random bytes make collisions between parallel workers impossible.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = postgresqlTestUrl();
  const provider = options.provider ?? (adminUrl === undefined ? "sqlite" : "postgresql");
  if (provider === "sqlite") return createSqlite();
  if (adminUrl === undefined) throw new Error("createTestDatabase: PostgreSQL asked for, but TEST_DATABASE_URL is not set");
  return createPostgresql(adminUrl);
}

async function createSqlite(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kpki-test-"));
  return {
    url: `file:${path.join(dir, "kpki.db")}`,
    provider: "sqlite",
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

async function createPostgresql(adminUrl: string): Promise<TestDatabase> {
  if (!/^postgres(ql)?:\/\//.test(adminUrl)) throw new Error("TEST_DATABASE_URL must be a postgresql:// URL");
  const name = `kpki_test_${randomBytes(16).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    provider: "postgresql",
    drop: async () => {
      if (dropped) return;
      await withAdmin(adminUrl, async (client) => {
        // Connections a test forgot to close would make DROP DATABASE fail (55006 object_in_use);
        // a pool may reconnect between the two statements, hence the retries.
        for (let attempt = 1; ; attempt += 1) {
          await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
          try {
            await client.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (error) {
            const inUse = error instanceof Error && "code" in error && error.code === "55006";
            if (!inUse || attempt >= 5) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          }
        }
      });
      dropped = true;
    },
  };
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

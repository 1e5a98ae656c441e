import { readdirSync } from "node:fs";
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "../../../test/helpers/test-database.js";
import { parseDatabaseUrl } from "./database-url.js";
import { defaultMigrationsDir, findPackageRoot, MIGRATIONS_TABLE, Migrator, type MigratorOptions } from "./migrator.js";

const migratorModule = fileURLToPath(new URL("./migrator.ts", import.meta.url));
const packageRoot = findPackageRoot(path.dirname(migratorModule));
const committedDir = defaultMigrationsDir();

const tempDirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kpki-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A copy of the committed migrations that a test may change. */
async function copyOfMigrations(): Promise<string> {
  const dir = await tempDir("migrations");
  await cp(committedDir, dir, { recursive: true });
  return dir;
}

/** The committed migrations, so test files can be numbered after the real ones. */
const COMMITTED = readdirSync(path.join(committedDir, "sqlite")).filter((file) => file.endsWith(".sql")).map((file) => file.replace(/\.sql$/, "")).sort();
/** The number `n` places after the last committed migration, zero-padded. */
const next = (n: number): string => String(COMMITTED.length + n).padStart(4, "0");

/** Writes the same SQL as the next migration of both providers. */
async function addMigration(dir: string, fileName: string, sql: string): Promise<void> {
  await Promise.all(["sqlite", "postgresql"].map((provider) => writeFile(path.join(dir, provider, fileName), sql)));
}

/** Tables the source schema maps (every @@map), i.e. what 0001.. must have created. */
async function schemaTables(): Promise<string[]> {
  const schema = await readFile(path.join(packageRoot, "prisma", "schema.prisma"), "utf8");
  return [...schema.matchAll(/@@map\("(\w+)"\)/g)].map((match) => match[1] ?? "");
}

/** Raw read access for assertions, on its own short-lived connection. */
async function query<T extends object>(db: TestDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  const target = parseDatabaseUrl(db.url, os.tmpdir());
  if (target.provider === "sqlite") {
    const conn = new Database(target.filename, { readonly: true, fileMustExist: true });
    try {
      return conn.prepare<unknown[], T>(sql.replace(/\$\d+/g, "?")).all(...params);
    } finally {
      conn.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function tables(db: TestDatabase): Promise<string[]> {
  const sql =
    db.provider === "sqlite"
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
      : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'";
  return (await query<{ name: string }>(db, sql)).map((row) => row.name).sort();
}

async function bookkeeping(db: TestDatabase): Promise<{ name: string; checksum: string }[]> {
  return query(db, `SELECT name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY name`);
}

describe.each(testProviders())("Migrator on %s", (provider) => {
  let db: TestDatabase;
  const migrators: Migrator[] = [];

  beforeEach(async () => {
    db = await createTestDatabase({ provider });
  });
  afterEach(async () => {
    await Promise.all(migrators.splice(0).map((migrator) => migrator.close().catch(() => undefined)));
    await db.drop();
  });

  function migrator(options: Partial<MigratorOptions> = {}): Migrator {
    const created = new Migrator({ database: parseDatabaseUrl(db.url, os.tmpdir()), ...options });
    migrators.push(created);
    return created;
  }

  it("applies every committed migration to a fresh database and creates the schema's tables", async () => {
    const lines: string[] = [];
    const m = migrator({ log: (line) => lines.push(line) });
    const committed = (await readdir(path.join(committedDir, provider))).map((file) => file.replace(/\.sql$/, "")).sort();
    expect(committed[0]).toBe("0001_init");

    expect(await m.hasAppliedMigrations()).toBe(false);
    expect(await m.status()).toEqual(committed.map((name) => ({ name, applied: false })));

    const before = Date.now();
    expect(await m.migrate()).toEqual({ applied: committed });
    expect(lines).toContain("migrations: applying 0001_init");

    expect(await tables(db)).toEqual([...(await schemaTables()), MIGRATIONS_TABLE].sort());
    expect(await m.hasAppliedMigrations()).toBe(true);
    const status = await m.status();
    expect(status.map((entry) => [entry.name, entry.applied])).toEqual(committed.map((name) => [name, true]));
    for (const entry of status) expect(entry.appliedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it("applies nothing on a second run", async () => {
    await migrator().migrate();
    const rows = await query(db, `SELECT * FROM ${MIGRATIONS_TABLE} ORDER BY name`);
    const lines: string[] = [];
    expect(await migrator({ log: (line) => lines.push(line) }).migrate()).toEqual({ applied: [] });
    expect(lines).toEqual(["migrations: database is up to date"]);
    expect(await query(db, `SELECT * FROM ${MIGRATIONS_TABLE} ORDER BY name`)).toEqual(rows);
  });

  it("refuses a migration file edited after it was applied, and changes nothing", async () => {
    const dir = await copyOfMigrations();
    await migrator({ migrationsDir: dir }).migrate();
    const recorded = await bookkeeping(db);

    const file = path.join(dir, provider, "0001_init.sql");
    await writeFile(file, `${await readFile(file, "utf8")}\nCREATE TABLE sneaked_in (id INTEGER PRIMARY KEY);\n`);
    await addMigration(dir, `${next(1)}_extra.sql`, "CREATE TABLE extra_table (id INTEGER PRIMARY KEY);\n");

    const edited = /^migration 0001_init was edited after it was applied \(checksum [0-9a-f]{64}≠[0-9a-f]{64}\)$/;
    const m = migrator({ migrationsDir: dir });
    await expect(m.migrate()).rejects.toThrow(edited);
    await expect(m.status()).rejects.toThrow(edited);
    expect(await bookkeeping(db)).toEqual(recorded);
    expect(await tables(db)).not.toContain("extra_table");
    expect(await tables(db)).not.toContain("sneaked_in");
  });

  it("accepts a checked-out file whose line endings became CRLF", async () => {
    const dir = await copyOfMigrations();
    await migrator({ migrationsDir: dir }).migrate();
    const file = path.join(dir, provider, "0001_init.sql");
    await writeFile(file, (await readFile(file, "utf8")).replace(/\n/g, "\r\n"));
    expect(await migrator({ migrationsDir: dir }).migrate()).toEqual({ applied: [] });
  });

  it("refuses a database migrated by a newer build", async () => {
    const dir = await copyOfMigrations();
    await addMigration(dir, `${next(1)}_from_the_future.sql`, "CREATE TABLE future_table (id INTEGER PRIMARY KEY);\n");
    await migrator({ migrationsDir: dir }).migrate();

    const older = migrator({ migrationsDir: committedDir });
    const newer = new RegExp(`^database was migrated by a newer kpki: ${next(1)}_from_the_future is not known to this build$`);
    await expect(older.migrate()).rejects.toThrow(newer);
    await expect(older.status()).rejects.toThrow(newer);
    expect(await older.hasAppliedMigrations()).toBe(true);
    expect((await bookkeeping(db)).map((row) => row.name)).toContain(`${next(1)}_from_the_future`);
  });

  it("rolls back a failing migration with its bookkeeping row, and applies it once fixed", async () => {
    const dir = await copyOfMigrations();
    const fileName = `${next(1)}_half_done.sql`;
    await addMigration(dir, fileName, "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\nINSERT INTO half_done (id) VALUES (1);\nCREATE TABLE broken (;\n");

    await expect(migrator({ migrationsDir: dir }).migrate()).rejects.toThrow(new RegExp(`^migration ${next(1)}_half_done failed and was rolled back: .*syntax error`));
    expect((await bookkeeping(db)).map((row) => row.name)).toEqual(COMMITTED);
    expect(await tables(db)).not.toContain("half_done");

    await addMigration(dir, fileName, "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\nINSERT INTO half_done (id) VALUES (1);\n");
    expect(await migrator({ migrationsDir: dir }).migrate()).toEqual({ applied: [`${next(1)}_half_done`] });
    expect(await query(db, "SELECT id FROM half_done")).toEqual([{ id: 1 }]);
  });

  it("refuses a migration inserted before one already applied", async () => {
    const dir = await copyOfMigrations();
    await addMigration(dir, `${next(2)}_later.sql`, "CREATE TABLE later_table (id INTEGER PRIMARY KEY);\n");
    await migrator({ migrationsDir: dir }).migrate();
    await addMigration(dir, `${next(1)}_sneaky.sql`, "CREATE TABLE sneaky_table (id INTEGER PRIMARY KEY);\n");
    await expect(migrator({ migrationsDir: dir }).migrate()).rejects.toThrow(new RegExp(`^migration ${next(1)}_sneaky is older than the applied ${next(2)}_later`));
    expect(await tables(db)).not.toContain("sneaky_table");
  });

  it("refuses a migrations folder with a badly named or duplicate file before touching the database", async () => {
    const misnamed = await copyOfMigrations();
    await writeFile(path.join(misnamed, provider, "2_oops.sql"), "SELECT 1;\n");
    await expect(migrator({ migrationsDir: misnamed }).migrate()).rejects.toThrow(/not a migration file name .*2_oops\.sql/);

    const duplicate = await copyOfMigrations();
    await writeFile(path.join(duplicate, provider, "0001_again.sql"), "SELECT 1;\n");
    await expect(migrator({ migrationsDir: duplicate }).migrate()).rejects.toThrow(/two migration files are numbered 0001/);

    expect(await migrator().hasAppliedMigrations()).toBe(false);
  });

  it("applies each file exactly once when five processes migrate one fresh database together", async () => {
    const dir = await copyOfMigrations();
    await addMigration(dir, `${next(1)}_counter.sql`, "CREATE TABLE apply_log (what TEXT NOT NULL);\n");
    for (const n of [2, 3, 4, 5]) {
      await addMigration(dir, `${next(n)}_log.sql`, `INSERT INTO apply_log (what) VALUES ('${next(n)}');\n`);
    }
    const results = await runConcurrently(5, db.url, dir);

    const all = results.flatMap((result) => result.applied);
    const names = (await readdir(path.join(dir, provider))).map((file) => file.replace(/\.sql$/, "")).sort();
    expect([...all].sort()).toEqual(names);
    expect((await bookkeeping(db)).map((row) => row.name)).toEqual(names);
    expect(await query<{ what: string }>(db, "SELECT what FROM apply_log ORDER BY what")).toEqual(
      [2, 3, 4, 5].map((n) => ({ what: next(n) })),
    );
  });

  if (provider === "sqlite") {
    it("creates the database's parent directories and uses WAL", async () => {
      const root = await tempDir("sqlite-nested");
      const filename = path.join(root, "a", "b", "kpki.db");
      const m = new Migrator({ database: { provider: "sqlite", filename } });
      migrators.push(m);
      await m.migrate();
      const conn = new Database(filename, { readonly: true });
      try {
        expect(conn.pragma("journal_mode", { simple: true })).toBe("wal");
      } finally {
        conn.close();
      }
    });

    it("runs Prisma's table redefinitions with referencing rows, and refuses broken references", async () => {
      const dir = await tempDir("sqlite-redefine");
      const folder = path.join(dir, "sqlite");
      await cp(await prismaStyleMigrations(), folder, { recursive: true });
      expect(await migrator({ migrationsDir: dir }).migrate()).toEqual({ applied: ["0001_tables", "0002_rows", "0003_redefine_parent"] });
      expect(await query(db, "SELECT id, parentId FROM child")).toEqual([{ id: "c1", parentId: "p1" }]);
      expect(await query(db, "SELECT id, label FROM parent")).toEqual([{ id: "p1", label: null }]);

      await writeFile(path.join(folder, "0004_orphan.sql"), "DELETE FROM parent;\n");
      await expect(migrator({ migrationsDir: dir }).migrate()).rejects.toThrow(/^migration 0004_orphan failed and was rolled back: .*broken foreign key/);
      expect(await query(db, "SELECT id FROM parent")).toEqual([{ id: "p1" }]);
    });
  }
});

/** Starts `count` processes that each run Migrator.migrate() on one database at the same moment. */
async function runConcurrently(count: number, url: string, migrationsDir: string): Promise<{ applied: string[] }[]> {
  const dir = await tempDir("replica");
  const script = path.join(dir, "replica.mjs");
  await writeFile(
    script,
    [
      `import { Migrator } from ${JSON.stringify(pathToFileURL(migratorModule).href)};`,
      `import { parseDatabaseUrl } from ${JSON.stringify(pathToFileURL(path.join(path.dirname(migratorModule), "database-url.ts")).href)};`,
      "const [url, migrationsDir] = process.argv.slice(2);",
      // Barrier: every replica is loaded before any starts, so they really start together.
      "process.stdout.write('ready\\n');",
      "await new Promise((resolve) => process.stdin.once('data', resolve));",
      "const migrator = new Migrator({ database: parseDatabaseUrl(url, '.'), migrationsDir });",
      "try { process.stdout.write(JSON.stringify(await migrator.migrate()) + '\\n'); } finally { await migrator.close(); }",
    ].join("\n"),
  );
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ["--import", "tsx", script, url, migrationsDir], { cwd: packageRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => stdout.includes("ready\n") && (clearInterval(timer), resolve()), 10);
      child.once("exit", () => (clearInterval(timer), reject(new Error(`replica exited early: ${stderr}`))));
    });
    const done = new Promise<{ applied: string[] }>((resolve, reject) => {
      child.once("close", (code) => {
        if (code !== 0) return reject(new Error(`replica exited with ${String(code)}: ${stderr}`));
        const last = stdout.trim().split("\n").at(-1) ?? "";
        resolve(JSON.parse(last) as { applied: string[] });
      });
    });
    return { child, ready, done };
  });
  await Promise.all(children.map((entry) => entry.ready));
  for (const { child } of children) child.stdin.end("go\n");
  return Promise.all(children.map((entry) => entry.done));
}

/** SQLite migrations in the shape `prisma migrate diff` writes when a referenced table changes. */
async function prismaStyleMigrations(): Promise<string> {
  const dir = await tempDir("prisma-style");
  await writeFile(
    path.join(dir, "0001_tables.sql"),
    `CREATE TABLE "parent" ("id" TEXT NOT NULL PRIMARY KEY);
CREATE TABLE "child" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "parentId" TEXT NOT NULL,
    CONSTRAINT "child_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "parent" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
`,
  );
  await writeFile(path.join(dir, "0002_rows.sql"), `INSERT INTO "parent" ("id") VALUES ('p1');\nINSERT INTO "child" ("id", "parentId") VALUES ('c1', 'p1');\n`);
  await writeFile(
    path.join(dir, "0003_redefine_parent.sql"),
    `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_parent" ("id" TEXT NOT NULL PRIMARY KEY, "label" TEXT);
INSERT INTO "new_parent" ("id") SELECT "id" FROM "parent";
DROP TABLE "parent";
ALTER TABLE "new_parent" RENAME TO "parent";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`,
  );
  return dir;
}

describe("migration scripts (check-migrations, new-migration)", () => {
  const node = (script: string, args: string[]) => runNode(path.join(packageRoot, "scripts", script), args);

  async function copies(): Promise<{ schema: string; dir: string }> {
    const dir = await copyOfMigrations();
    const schema = path.join(await tempDir("schema"), "schema.prisma");
    await cp(path.join(packageRoot, "prisma", "schema.prisma"), schema);
    return { schema, dir };
  }

  it("passes on the committed migrations", async () => {
    const result = await node("check-migrations.mjs", []);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("fails when a model changed without a migration, passes on a comment-only change", async () => {
    const { schema, dir } = await copies();
    const text = await readFile(schema, "utf8");
    await writeFile(schema, text.replace("  lastUsedAt DateTime?\n", "  lastUsedAt DateTime?\n  touched    String?\n"));
    const failed = await node("check-migrations.mjs", ["--schema", schema, "--migrations", dir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/changed since the latest migration \(sqlite and postgresql SQL would change\): run `npm run migration:new -- <name>`/);

    await writeFile(schema, text.replace("/// A bearer API token.", "/// A bearer API token (reworded)."));
    const passed = await node("check-migrations.mjs", ["--schema", schema, "--migrations", dir]);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(/comments or layout only/);
  });

  it("fails on a gap, a duplicate number or providers that differ", async () => {
    const { schema, dir } = await copies();
    await writeFile(path.join(dir, "sqlite", `${next(2)}_gap.sql`), "SELECT 1;\n");
    await writeFile(path.join(dir, "postgresql", "0001_twin.sql"), "SELECT 1;\n");
    const result = await node("check-migrations.mjs", ["--schema", schema, "--migrations", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`sqlite: numbering must run 0001, 0002, … without gaps \\(${next(1)}_… is missing\\)`));
    expect(result.stderr).toMatch(/postgresql: 0001_init\.sql and 0001_twin\.sql have the same number/);
    expect(result.stderr).toContain(`only in sqlite/: ${next(2)}_gap.sql`);
    expect(result.stderr).toMatch(/only in postgresql\/: 0001_twin\.sql/);
  });

  it("new-migration writes the next file for both providers and the snapshot, and refuses no-ops and bad names", async () => {
    const { schema, dir } = await copies();
    const badName = await node("new-migration.mjs", ["Add-Thing", "--schema", schema, "--migrations", dir]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/must match \[a-z0-9_\]\+/);
    const noChange = await node("new-migration.mjs", ["nothing", "--schema", schema, "--migrations", dir]);
    expect(noChange.code).toBe(1);
    expect(noChange.stderr).toMatch(/no schema change since the latest migration/);

    await writeFile(schema, (await readFile(schema, "utf8")).replace("  lastUsedAt DateTime?\n", "  lastUsedAt DateTime?\n  touched    String?\n"));
    const created = await node("new-migration.mjs", ["add_touched", "--schema", schema, "--migrations", dir]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(await readFile(path.join(dir, "sqlite", `${next(1)}_add_touched.sql`), "utf8")).toMatch(/ALTER TABLE "api_tokens" ADD COLUMN "touched" TEXT;/);
    expect(await readFile(path.join(dir, "postgresql", `${next(1)}_add_touched.sql`), "utf8")).toMatch(/ALTER TABLE "api_tokens" ADD COLUMN\s+"touched" TEXT;/);
    expect(await readFile(path.join(dir, "schema.snapshot.prisma"), "utf8")).toBe(await readFile(schema, "utf8"));
    expect((await node("check-migrations.mjs", ["--schema", schema, "--migrations", dir])).code).toBe(0);

    // The new file applies on top of the committed ones.
    const db = await createTestDatabase({ provider: "sqlite" });
    const m = new Migrator({ database: parseDatabaseUrl(db.url, "."), migrationsDir: dir });
    try {
      expect((await m.migrate()).applied).toEqual([...COMMITTED, `${next(1)}_add_touched`]);
    } finally {
      await m.close();
      await db.drop();
    }
  });
});

async function runNode(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: packageRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

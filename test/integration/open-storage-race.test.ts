// Replicas started together on one new PostgreSQL database (TEST_DATABASE_URL; replicas need
// PostgreSQL, and in one process SQLite's synchronous driver cannot interleave two openers):
// every opener reads "no master-key check yet", migrates (serialized by the migration lock), then
// records its check. The first record wins; the others must find that their key opens it, or
// refuse to start. (Found by the replica test in CI: the losers failed on a unique violation.)
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MASTER_KEY_CHECK_SETTING } from "../../src/infra/crypto/master-key-check.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { openStorage, StorageError, type OpenStorage } from "../../src/infra/open-storage.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function newDatabase(): Promise<{ database: TestDatabase; dataDir: string }> {
  const database = await createTestDatabase({ provider: "postgresql" });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "kpki-open-race-"));
  cleanups.push(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { database, dataDir };
}

const open = (database: TestDatabase, dataDir: string, masterKey: string) =>
  openStorage({ dataDir, databaseUrl: database.url, masterKey }, { logger: createLogger("silent"), random: new NodeRandomSource() });

async function closeAll(results: PromiseSettledResult<OpenStorage>[]): Promise<void> {
  for (const result of results) if (result.status === "fulfilled") await result.value.close();
}

describe.skipIf(postgresqlTestUrl() === undefined)("openStorage on a new PostgreSQL database, several processes at once", () => {
  it("with the same master key: every one opens, and one check is recorded", async () => {
    const { database, dataDir } = await newDatabase();
    const key = randomBytes(32).toString("base64");
    const results = await Promise.allSettled([open(database, dataDir, key), open(database, dataDir, key), open(database, dataDir, key)]);
    try {
      expect(results.map((r) => (r.status === "rejected" ? String(r.reason) : "opened"))).toEqual(["opened", "opened", "opened"]);
      const first = results[0];
      if (first?.status !== "fulfilled") throw new Error("unreachable");
      expect(await first.value.db.meta.count({ where: { key: MASTER_KEY_CHECK_SETTING } })).toBe(1);
    } finally {
      await closeAll(results);
    }
  });

  it("with different master keys: exactly one opens; the other refuses and names the cause", async () => {
    const { database, dataDir } = await newDatabase();
    const results = await Promise.allSettled([open(database, dataDir, randomBytes(32).toString("base64")), open(database, dataDir, randomBytes(32).toString("base64"))]);
    try {
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(refused?.reason).toBeInstanceOf(StorageError);
      // Either it lost the race to record (this fix) or it started after the other had recorded.
      expect(String(refused?.reason)).toMatch(/refusing to start: (another kpki process started on this new database at the same moment|the configured master key)/);
    } finally {
      await closeAll(results);
    }
  });
});

import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { Logger } from "../core/shared/logger.js";
import type { RandomSource } from "../core/shared/random.js";
import { MASTER_KEY_CHECK_SETTING, createMasterKeyCheck, masterKeyCheckId, masterKeyOpensCheck } from "./crypto/master-key-check.js";
import { createMasterKeyFile, createMasterKeyRing, loadMasterKey, type MasterKey, type MasterKeyRing, type MasterKeySource } from "./crypto/master-key.js";
import { parseDatabaseUrl, defaultDatabaseUrl, type DatabaseTarget } from "./prisma/database-url.js";
import { Migrator } from "./prisma/migrator.js";
import { isUniqueViolation } from "./prisma/prisma-errors.js";
import { createDatabase, type Database } from "./prisma/prisma-client.js";

/** Where the master key comes from, resolved from the configuration. */
export type MasterKeyLocation = { readonly kind: "env"; readonly base64: string } | { readonly kind: "file"; readonly path: string };

/** What opening the storage needs from the configuration. */
export interface StorageSettings {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly masterKey?: string;
  readonly masterKeyFile?: string;
}

/** An open, migrated database and the master keys that open its sealed keys. */
export interface OpenStorage {
  readonly target: DatabaseTarget;
  readonly db: Database;
  readonly keyRing: MasterKeyRing;
  readonly masterKeyLocation: MasterKeyLocation;
  close(): Promise<void>;
}

/** Refusal to open: one line that says what is wrong and what to do. */
export class StorageError extends Error {
  override readonly name = "StorageError";
}

/** KPKI_MASTER_KEY wins; otherwise the key file (default `<dataDir>/master.key`). */
export function masterKeyLocation(settings: StorageSettings): MasterKeyLocation {
  if (settings.masterKey !== undefined) return { kind: "env", base64: settings.masterKey };
  return { kind: "file", path: settings.masterKeyFile ?? path.join(settings.dataDir, "master.key") };
}

/** The file a rotation writes the new key to before it commits (see master-key rotate). */
export function pendingMasterKeyPath(keyFile: string): string {
  return `${keyFile}.next`;
}

/** The database the settings point at. */
export function databaseTarget(settings: StorageSettings): DatabaseTarget {
  return parseDatabaseUrl(settings.databaseUrl ?? defaultDatabaseUrl(settings.dataDir), settings.dataDir);
}

/**
 * Opens the database for the service: verifies the master key against the data BEFORE changing
 * anything (no migration, no key file, no bootstrap when the key is missing or wrong), then applies
 * pending migrations and, on a new database, records the master-key check value.
 */
export async function openStorage(settings: StorageSettings, deps: { logger: Logger; random: RandomSource }): Promise<OpenStorage> {
  const target = databaseTarget(settings);
  // The data directory holds the key file and, by default, the database: owner-only.
  if (!existsSync(settings.dataDir)) mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  if (target.provider === "sqlite") mkdirSync(path.dirname(target.filename), { recursive: true, mode: 0o700 });
  const migrator = new Migrator({ database: target, log: (line) => deps.logger.info({ migration: line }, "migration") });
  let db: Database | undefined;
  try {
    const existing = await migrator.hasAppliedMigrations();
    const check = existing ? await readMasterKeyCheck(target) : undefined;
    const location = masterKeyLocation(settings);
    const keyRing = await resolveKeyRing(location, check, deps);
    await migrator.migrate();
    db = createDatabase(target);
    if (check === undefined) await recordMasterKeyCheck(db, target, keyRing.current, deps.random);
    const opened = db;
    return { target, db: opened, keyRing, masterKeyLocation: location, close: () => opened.$disconnect() };
  } catch (error) {
    await db?.$disconnect();
    throw error;
  } finally {
    await migrator.close();
  }
}

/**
 * Records the master-key check of a new database. Replicas started together on one new database
 * race here (each read "no check" before migrating): the first insert wins, and every other
 * process must be able to open the winner's check with its own key, as on any later start —
 * otherwise two replicas with different keys would both run, sealing under different keys.
 */
async function recordMasterKeyCheck(db: Database, target: DatabaseTarget, key: MasterKey, random: RandomSource): Promise<void> {
  try {
    await db.meta.create({ data: { key: MASTER_KEY_CHECK_SETTING, value: createMasterKeyCheck(key, random), updatedAt: new Date() } });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const written = await readMasterKeyCheck(target);
    if (written === undefined || !masterKeyOpensCheck(key, written)) {
      throw new StorageError(
        `refusing to start: another kpki process started on this new database at the same moment with master key ${masterKeyCheckId(written ?? "") ?? "?"}, and the configured master key ${key.id} does not open its data; configure the same key for every replica.`,
        { cause: error },
      );
    }
  }
}

/**
 * The master key ring for this data. With existing data (a check value) the configured key must
 * open it; a missing key file is never replaced by a new one. Rotation is one transaction, so
 * the data is sealed under exactly one key: the current one, or (after a rotation that committed
 * but did not rename its files) the one in `master.key.next`.
 */
async function resolveKeyRing(location: MasterKeyLocation, check: string | undefined, deps: { logger: Logger; random: RandomSource }): Promise<MasterKeyRing> {
  const source: MasterKeySource = location.kind === "env" ? { kind: "env", base64: location.base64 } : { kind: "file", path: location.path };
  let current: MasterKey;
  if (location.kind === "file" && !existsSync(location.path)) {
    if (check !== undefined) {
      throw new StorageError(
        `refusing to start: the database holds data sealed under master key ${masterKeyCheckId(check) ?? "?"}, but the master key file ${location.path} is missing; restore it (or set KPKI_MASTER_KEY / KPKI_MASTER_KEY_FILE). Nothing was changed.`,
      );
    }
    mkdirSync(path.dirname(location.path), { recursive: true, mode: 0o700 });
    current = await createMasterKeyFile(location.path, deps.random);
    deps.logger.info({ masterKeyId: current.id, file: location.path }, "created a new master key file (mode 0600); back it up: without it the data cannot be opened");
  } else {
    current = await loadMasterKey(source);
  }
  if (check === undefined || masterKeyOpensCheck(current, check)) {
    return createMasterKeyRing(current);
  }
  if (location.kind === "file") {
    const pending = pendingMasterKeyPath(location.path);
    if (existsSync(pending)) {
      const next = await loadMasterKey({ kind: "file", path: pending });
      if (masterKeyOpensCheck(next, check)) {
        throw new StorageError(
          `refusing to start: a master-key rotation committed but did not finish: the data is sealed under ${next.id} in ${pending}; run \`kpki master-key rotate\` again to complete it. Nothing was changed.`,
        );
      }
    }
  }
  throw new StorageError(
    `refusing to start: the configured master key ${current.id} does not open this database (its data is sealed under master key ${masterKeyCheckId(check) ?? "?"}); configure the right key. Nothing was changed.`,
  );
}

/**
 * The master-key check value, read without changing anything (a refused start must leave the
 * database byte-identical): SQLite through a read-only connection with no pragmas, PostgreSQL
 * through a plain query.
 */
async function readMasterKeyCheck(target: DatabaseTarget): Promise<string | undefined> {
  if (target.provider === "sqlite") {
    const connection = new BetterSqlite3(target.filename, { readonly: true, fileMustExist: true });
    try {
      const row = connection.prepare("SELECT value FROM kpki_meta WHERE key = ?").get(MASTER_KEY_CHECK_SETTING) as { value: string } | undefined;
      return row?.value;
    } finally {
      connection.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    const result = await client.query<{ value: string }>("SELECT value FROM kpki_meta WHERE key = $1", [MASTER_KEY_CHECK_SETTING]);
    return result.rows[0]?.value;
  } finally {
    await client.end();
  }
}

/** Whether `key` opens the data's master-key check (false for an empty database). */
export async function masterKeyOpensData(settings: StorageSettings, key: MasterKey): Promise<boolean> {
  const target = databaseTarget(settings);
  const migrator = new Migrator({ database: target });
  try {
    if (!(await migrator.hasAppliedMigrations())) return false;
  } finally {
    await migrator.close();
  }
  const check = await readMasterKeyCheck(target);
  return check !== undefined && masterKeyOpensCheck(key, check);
}

/**
 * Readiness of open storage (GET /readyz): one indexed single-row read proves the database answers,
 * and the loaded master key must still open the database's key check — after a master-key rotation
 * by another replica it does not, and this replica must be restarted before it can unseal new keys.
 */
export async function storageReadiness(storage: OpenStorage): Promise<{ database: string; masterKey: string }> {
  let check: string | undefined;
  try {
    check = (await storage.db.meta.findUnique({ where: { key: MASTER_KEY_CHECK_SETTING }, select: { value: true } }))?.value;
  } catch {
    return { database: "unreachable", masterKey: "not checked (database unreachable)" };
  }
  const loaded = storage.keyRing.current;
  if (check === undefined) return { database: "ok", masterKey: "the database has no master-key check value" };
  if (!masterKeyOpensCheck(loaded, check)) {
    return { database: "ok", masterKey: `the loaded master key ${loaded.id} does not open the database's key check (made with ${masterKeyCheckId(check) ?? "?"}): restart after a master-key rotation` };
  }
  return { database: "ok", masterKey: "ok" };
}

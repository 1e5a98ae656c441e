// The master key through the real executable: refusals with existing data (missing, wrong, badly
// protected key) leave the database exactly as it was; `kpki master-key rotate` re-seals every key
// and the service keeps working with the new key only. SQLite uses <data>/kpki.db; under
// TEST_DATABASE_URL the processes get DATABASE_URL of a PostgreSQL database made for this file.
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRuntime, rotateMasterKey } from "../../src/app.js";
import { loadConfig } from "../../src/config/load-config.js";
import { MASTER_KEY_CHECK_SETTING } from "../../src/infra/crypto/master-key-check.js";
import { createMasterKeyFile, loadMasterKey, MasterKey } from "../../src/infra/crypto/master-key.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { databaseTarget } from "../../src/infra/open-storage.js";
import { AUDIT_GENESIS_HASH, auditEntryHash } from "../../src/infra/prisma/audit-log.js";
import { createDatabase } from "../../src/infra/prisma/prisma-client.js";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type RunResult } from "../helpers/process.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
/** Several process starts and rotations in one test: a generous limit, as test files run in parallel. */
const SLOW = 240_000;

/** One kpki installation: a data directory and (SQLite) its kpki.db or (PostgreSQL) a database. */
interface Installation {
  readonly dataDir: string;
  readonly database?: TestDatabase;
  /** Environment for every process of this installation. */
  readonly env: Record<string, string>;
}

const installations: Installation[] = [];
const workDirs: string[] = [];

async function newInstallation(env: Record<string, string> = {}): Promise<Installation> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-mk-"));
  workDirs.push(workDir);
  const dataDir = path.join(workDir, "data");
  const database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  const installation: Installation = {
    dataDir,
    ...(database === undefined ? {} : { database }),
    env: { KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn", ...(database === undefined ? {} : { DATABASE_URL: database.url }), ...env },
  };
  installations.push(installation);
  return installation;
}

/** Rows of a query, on whichever database the installation uses (SQLite opened read-only). */
async function query<T>(inst: Installation, sql: string): Promise<T[]> {
  if (inst.database === undefined) {
    const db = new Database(path.join(inst.dataDir, "kpki.db"), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: inst.database.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Everything a refused start could have touched. SQLite: the bytes of every file in the data
 * directory (kpki.db, a non-empty WAL, master.key, ca-bundle.pem; not the -shm index, which is
 * only a cache). PostgreSQL: every row of every table, kpki_schema_migrations included, and the files.
 */
async function snapshot(inst: Installation): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const name of readdirSync(inst.dataDir).sort()) {
    if (name.endsWith("-shm")) continue;
    const bytes = readFileSync(path.join(inst.dataDir, name));
    // An empty WAL holds no data: SQLite deletes it when the last connection closes, so "empty"
    // and "absent" are the same database.
    if (name.endsWith("-wal") && bytes.length === 0) continue;
    state[`file:${name}`] = createHash("sha256").update(bytes).digest("hex");
  }
  if (inst.database !== undefined) {
    const tables = await query<{ table_name: string }>(inst, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["kpki_schema_migrations", "key_materials", "audit_events"]));
    for (const { table_name } of tables) {
      const rows = await query<Record<string, unknown>>(inst, `SELECT * FROM "${table_name}" ORDER BY 1`);
      state[`table:${table_name}`] = `${rows.length} rows, sha256 ${createHash("sha256").update(JSON.stringify(rows)).digest("hex")}`;
    }
  }
  return state;
}

/** Starts the service, makes an intermediate CA and a certificate, and stops it again. */
async function populate(inst: Installation, caName: string): Promise<void> {
  const server = await startKpkiServer({ env: inst.env });
  const bundle = readFileSync(path.join(inst.dataDir, "ca-bundle.pem"), "utf8");
  const ca = await httpsRequest(`${server.url}/v1/authorities`, { method: "POST", ca: bundle, headers: ADMIN, body: { name: caName, type: "intermediate", parent: "kpki-root", subject: { commonName: caName } } });
  expect(ca.status).toBe(201);
  await issueFrom(server.url, bundle, caName);
  expect(await server.stop()).toEqual({ code: 0, signal: null });
}

/** Issues a certificate from `caName` and checks its signature with the CA's public key. */
async function issueFrom(url: string, bundle: string, caName: string): Promise<void> {
  const issued = await httpsRequest(`${url}/v1/certificates`, { method: "POST", ca: bundle, headers: ADMIN, body: { ca: caName, profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: `from-${caName}` } } });
  expect(issued.status, issued.text).toBe(201);
  const caPem = await httpsRequest(`${url}/v1/authorities/${caName}/certificate`, { ca: bundle, headers: { Accept: "application/x-pem-file" } });
  const certificate = new X509Certificate(jsonBody<{ certificatePem: string }>(issued).certificatePem);
  expect(certificate.verify(new X509Certificate(caPem.text).publicKey)).toBe(true);
}

/** Starts `kpki serve` expecting a refusal; returns the result (the process must not serve). */
async function refusedStart(inst: Installation, env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const result = await runKpki(["serve"], { env: { ...inst.env, KPKI_LISTEN: "127.0.0.1:0", ...env } });
  expect(result.stderr).not.toMatch(/kpki: serving/);
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1); // one clear line, no stack trace
  expect(lines[0]).toMatch(/^kpki: refusing to start: /);
  return result;
}

const keyIdOfFile = async (file: string) => (await loadMasterKey({ kind: "file", path: file })).id;
const keyIdOfBase64 = (base64: string) => MasterKey.fromBytes(Buffer.from(base64, "base64")).id;

interface KeyRow {
  id: string;
  masterKeyId: string | null;
  sealedRef: unknown;
}
const sealedKeys = (inst: Installation) => query<KeyRow>(inst, `SELECT "id", "masterKeyId", "sealedRef" FROM "key_materials" WHERE "sealedRef" IS NOT NULL ORDER BY "id"`);
const checkKeyId = async (inst: Installation) => {
  const rows = await query<{ value: string }>(inst, `SELECT "value" FROM "kpki_meta" WHERE "key" = '${MASTER_KEY_CHECK_SETTING}'`);
  return (JSON.parse(rows[0]?.value ?? "{}") as { keyId?: string }).keyId;
};

/** The audit rows (through the product's own Prisma client, for exact types), checked to form one chain. */
async function auditChain(inst: Installation): Promise<{ action: string; details: string }[]> {
  const db = createDatabase(databaseTarget(loadConfig(inst.env)));
  try {
    const rows = await db.auditEvent.findMany({ orderBy: { seq: "asc" } });
    rows.forEach((row, i) => {
      expect(row.prevHash, `seq ${row.seq}`).toBe(i === 0 ? AUDIT_GENESIS_HASH : rows[i - 1]?.hash);
      expect(row.hash, `seq ${row.seq}`).toBe(auditEntryHash(row));
    });
    return rows;
  } finally {
    await db.$disconnect();
  }
}

afterAll(async () => {
  await stopAllKpki();
  for (const inst of installations) await inst.database?.drop();
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

describe("master key file with existing data", { timeout: SLOW }, () => {
  let inst: Installation;
  let keyFile: string;
  let originalId: string;

  beforeAll(async () => {
    inst = await newInstallation();
    keyFile = path.join(inst.dataDir, "master.key");
    await populate(inst, "mk-ca");
    originalId = await keyIdOfFile(keyFile);
    expect(await checkKeyId(inst)).toBe(originalId);
  });

  it("(a) a deleted key file stops the start, says so, creates no new key and changes nothing", async () => {
    const aside = path.join(os.tmpdir(), `kpki-master-key-aside-${randomBytes(6).toString("hex")}`);
    renameSync(keyFile, aside);
    try {
      const before = await snapshot(inst);
      const result = await refusedStart(inst);
      expect(result.stderr).toContain(`the master key file ${keyFile} is missing`);
      expect(result.stderr).toContain(originalId); // the key it needs
      expect(result.stderr).toContain("Nothing was changed");
      expect(existsSync(keyFile)).toBe(false);
      expect(await snapshot(inst)).toEqual(before);
    } finally {
      renameSync(aside, keyFile);
    }
  });

  it("(b) a different key in KPKI_MASTER_KEY is refused, naming both key ids, and changes nothing", async () => {
    const otherKey = randomBytes(32).toString("base64");
    const otherId = keyIdOfBase64(otherKey);
    expect(otherId).not.toBe(originalId);
    const before = await snapshot(inst);
    const result = await refusedStart(inst, { KPKI_MASTER_KEY: otherKey });
    expect(result.stderr).toContain(`configured master key ${otherId} does not open this database`);
    expect(result.stderr).toContain(`sealed under master key ${originalId}`);
    expect(result.stderr).not.toContain(otherKey);
    expect(await snapshot(inst)).toEqual(before);
  });

  it("(b) a KPKI_MASTER_KEY that is not a key is refused without echoing it", async () => {
    const before = await snapshot(inst);
    const garbage = "this-is-not-base64-of-32-bytes!!";
    const result = await runKpki(["serve"], { env: { ...inst.env, KPKI_LISTEN: "127.0.0.1:0", KPKI_MASTER_KEY: garbage } });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/master key from the environment is not valid base64/);
    expect(result.stderr + result.stdout).not.toContain(garbage);
    expect(await snapshot(inst)).toEqual(before);
  });

  it("(c) a key file readable by group or others (0644) is refused with the chmod to run", async () => {
    chmodSync(keyFile, 0o644);
    try {
      const before = await snapshot(inst);
      const result = await runKpki(["serve"], { env: { ...inst.env, KPKI_LISTEN: "127.0.0.1:0" } });
      expect(result.code).not.toBe(0);
      expect(result.stderr.trimEnd().split("\n"), result.stderr).toHaveLength(1);
      expect(result.stderr).toContain(`master key file ${keyFile} has mode 0644`);
      expect(result.stderr).toContain(`chmod 600 ${keyFile}`);
      expect(result.stderr).not.toMatch(/kpki: serving/);
      expect(statSync(keyFile).mode & 0o777).toBe(0o644); // not "fixed" behind the operator's back
      expect(await snapshot(inst)).toEqual(before);
    } finally {
      chmodSync(keyFile, 0o600);
    }
  });

  it("(d) `kpki master-key rotate` re-seals every key under a new key file; the old CAs keep issuing", async () => {
    const keysBefore = await sealedKeys(inst);
    expect(keysBefore.length).toBeGreaterThanOrEqual(4); // root, internal, mk-ca, the service's TLS key
    expect(new Set(keysBefore.map((k) => k.masterKeyId))).toEqual(new Set([originalId]));

    const rotated = await runKpki(["master-key", "rotate"], { env: inst.env });
    expect(rotated.code, rotated.stderr).toBe(0);
    const newId = await keyIdOfFile(keyFile);
    expect(newId).not.toBe(originalId);
    expect(rotated.stdout).toContain(`re-sealed ${keysBefore.length} keys under master key ${newId}`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const retired = path.join(inst.dataDir, `master.key.retired-${originalId}`);
    expect(await keyIdOfFile(retired)).toBe(originalId);
    expect(statSync(retired).mode & 0o777).toBe(0o600);
    expect(existsSync(`${keyFile}.next`)).toBe(false);

    const keysAfter = await sealedKeys(inst);
    expect(keysAfter.map((k) => k.id)).toEqual(keysBefore.map((k) => k.id));
    expect(new Set(keysAfter.map((k) => k.masterKeyId))).toEqual(new Set([newId]));
    keysAfter.forEach((key, i) => expect(Buffer.compare(Buffer.from(key.sealedRef as Uint8Array), Buffer.from(keysBefore[i]?.sealedRef as Uint8Array))).not.toBe(0));
    expect(await checkKeyId(inst)).toBe(newId);

    // The retired key no longer opens the data.
    const stale = await refusedStart(inst, { KPKI_MASTER_KEY_FILE: retired });
    expect(stale.stderr).toContain(`configured master key ${originalId} does not open this database`);
    expect(stale.stderr).toContain(`sealed under master key ${newId}`);

    await restartAndIssue(inst, ["mk-ca", "kpki-internal"]);

    // A second rotation works the same way and keeps both retired keys.
    const again = await runKpki(["master-key", "rotate"], { env: inst.env });
    expect(again.code, again.stderr).toBe(0);
    const thirdId = await keyIdOfFile(keyFile);
    expect(new Set([originalId, newId, thirdId]).size).toBe(3);
    expect(await keyIdOfFile(path.join(inst.dataDir, `master.key.retired-${newId}`))).toBe(newId);
    expect(existsSync(retired)).toBe(true);
    expect(new Set((await sealedKeys(inst)).map((k) => k.masterKeyId))).toEqual(new Set([thirdId]));
    await restartAndIssue(inst, ["mk-ca"]);

    // Both rotations are audited, in the same unbroken chain as everything else.
    const rotations = (await auditChain(inst)).filter((row) => row.action === "master-key.rotate");
    expect(rotations.map((row) => JSON.parse(row.details) as unknown)).toEqual([{ resealedKeys: keysBefore.length }, { resealedKeys: keysBefore.length + 1 }]);
  });
});

/** Starts the service, issues from existing CAs, creates one more intermediate under the root, stops. */
async function restartAndIssue(inst: Installation, caNames: readonly string[]): Promise<void> {
  const server = await startKpkiServer({ env: inst.env });
  try {
    const bundle = readFileSync(path.join(inst.dataDir, "ca-bundle.pem"), "utf8");
    expect((await httpsRequest(`${server.url}/healthz`, { ca: bundle })).status).toBe(200);
    for (const name of caNames) await issueFrom(server.url, bundle, name);
    const child = await httpsRequest(`${server.url}/v1/authorities`, {
      method: "POST",
      ca: bundle,
      headers: ADMIN,
      body: { name: `after-${randomBytes(4).toString("hex")}`, type: "intermediate", parent: "kpki-root", subject: { commonName: "signed by the re-sealed root key" } },
    });
    expect(child.status, child.text).toBe(201);
  } finally {
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
}

describe("master key from KPKI_MASTER_KEY", { timeout: SLOW }, () => {
  it("(e) rotate needs --new-key-file; afterwards the old key is refused and the new one works", async () => {
    const oldKey = randomBytes(32).toString("base64");
    const oldId = keyIdOfBase64(oldKey);
    const inst = await newInstallation({ KPKI_MASTER_KEY: oldKey });
    await populate(inst, "env-ca");
    expect(existsSync(path.join(inst.dataDir, "master.key"))).toBe(false); // the env key is used, no file made
    expect(await checkKeyId(inst)).toBe(oldId);

    // Without --new-key-file there is nowhere to put the new key: refused, nothing changed.
    const before = await snapshot(inst);
    const refused = await runKpki(["master-key", "rotate"], { env: inst.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--new-key-file");
    expect(refused.stderr).not.toContain(oldKey);
    expect(await snapshot(inst)).toEqual(before);

    const newKey = randomBytes(32).toString("base64");
    const newId = keyIdOfBase64(newKey);
    const newKeyFile = path.join(path.dirname(inst.dataDir), "new.key");
    writeFileSync(newKeyFile, `${newKey}\n`, { mode: 0o600 });
    const rotated = await runKpki(["master-key", "rotate", "--new-key-file", newKeyFile], { env: inst.env });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`now set KPKI_MASTER_KEY to the key in ${newKeyFile} (master key ${newId})`);
    expect(rotated.stdout + rotated.stderr).not.toContain(newKey);
    expect(new Set((await sealedKeys(inst)).map((k) => k.masterKeyId))).toEqual(new Set([newId]));
    expect(await checkKeyId(inst)).toBe(newId);

    const afterRotation = await snapshot(inst);
    const stale = await refusedStart(inst, { KPKI_MASTER_KEY: oldKey });
    expect(stale.stderr).toContain(`configured master key ${oldId} does not open this database`);
    expect(stale.stderr).toContain(`sealed under master key ${newId}`);
    expect(await snapshot(inst)).toEqual(afterRotation);

    await restartAndIssue({ ...inst, env: { ...inst.env, KPKI_MASTER_KEY: newKey } }, ["env-ca", "kpki-internal"]);
  });
});

describe("interrupted rotation", { timeout: SLOW }, () => {
  it("(f) a rotation that committed but did not swap the key files is refused at start and finished by `rotate`", async () => {
    const inst = await newInstallation();
    await populate(inst, "half-ca");
    const keyFile = path.join(inst.dataDir, "master.key");
    const oldId = await keyIdOfFile(keyFile);

    // What a crash between the commit and the file swap leaves: the data re-sealed under the key
    // in master.key.next, master.key still the old key. Made in-process with the same functions
    // `kpki master-key rotate` uses.
    const runtime = await openRuntime(loadConfig({ ...inst.env, KPKI_LOG_LEVEL: "silent" }), createLogger("silent"));
    let newId: string;
    try {
      const newKey = await createMasterKeyFile(`${keyFile}.next`, new NodeRandomSource());
      newId = newKey.id;
      expect(await rotateMasterKey(runtime, newKey, () => undefined)).toBeGreaterThanOrEqual(4);
    } finally {
      await runtime.close();
    }
    expect(new Set((await sealedKeys(inst)).map((k) => k.masterKeyId))).toEqual(new Set([newId]));

    const before = await snapshot(inst);
    const refused = await refusedStart(inst);
    expect(refused.stderr).toContain("a master-key rotation committed but did not finish");
    expect(refused.stderr).toContain(`sealed under ${newId} in ${keyFile}.next`);
    expect(refused.stderr).toContain("run `kpki master-key rotate` again");
    expect(await snapshot(inst)).toEqual(before);

    const finished = await runKpki(["master-key", "rotate"], { env: inst.env });
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).not.toMatch(/re-sealed/); // nothing to re-seal: only the files are swapped
    expect(finished.stdout).toContain(`${keyFile} now holds master key ${newId}`);
    expect(await keyIdOfFile(keyFile)).toBe(newId);
    expect(await keyIdOfFile(`${keyFile}.retired-${oldId}`)).toBe(oldId);
    expect(existsSync(`${keyFile}.next`)).toBe(false);
    await restartAndIssue(inst, ["half-ca", "kpki-internal"]);
  });
});

describe("rotation while the service runs", { timeout: SLOW }, () => {
  // Regression test: `kpki master-key rotate` (src/app.ts createLocalOperations.rotateMasterKey) re-seals the data while a running server (or another replica: the command says "restart every kpki replica" afterwards) still holds the old key as its only, current key. Until it restarts, every key that server generates — here a new root CA — is sealed under the retired key, while the database's check value names the new one. After the restart that CA answers 503 ("sealed under master key <old>, which is not loaded"), and every later `rotate` fails (exit 7) on that row.
  it("(g) a server that keeps running across `rotate` never leaves keys sealed under the retired key", async () => {
    const inst = await newInstallation();
    const keyFile = path.join(inst.dataDir, "master.key");
    const server = await startKpkiServer({ env: inst.env });
    let newId = "";
    try {
      const rotated = await runKpki(["master-key", "rotate"], { env: inst.env });
      expect(rotated.code, rotated.stderr).toBe(0);
      newId = await keyIdOfFile(keyFile);
      // The stale server may refuse (it knows its key is retired) or succeed; it must not seal under the old key.
      const bundle = readFileSync(path.join(inst.dataDir, "ca-bundle.pem"), "utf8");
      await httpsRequest(`${server.url}/v1/authorities`, { method: "POST", ca: bundle, headers: ADMIN, body: { name: "window-root", type: "root", subject: { commonName: "created during the rotation window" } } });
    } finally {
      await server.stop();
    }
    expect(new Set((await sealedKeys(inst)).map((k) => k.masterKeyId))).toEqual(new Set([newId]));
    const again = await runKpki(["master-key", "rotate"], { env: inst.env });
    expect(again.code, again.stderr).toBe(0);
  });
});

// `kpki backup` / `kpki restore` (the built CLI, real processes) between real databases: SQLite →
// SQLite always; PostgreSQL → PostgreSQL, SQLite → PostgreSQL and PostgreSQL → SQLite when
// TEST_DATABASE_URL is set. A populated installation (CA hierarchy, issued and revoked certificates
// with CRLs, a named key with two versions and ciphertexts, registered keys, a cluster with nodes,
// tokens, the audit log) is backed up and restored into a fresh database; then every table is
// row-for-row the same, the REST listings agree, openssl verifies old certificates against the
// restored CA and new ones against the old, old ciphertexts decrypt, the CRL number and the audit
// chain continue, and the refusals hold (data present without --force, altered or cut files, the
// wrong master key, a backup from a newer kpki). The file holds no key and no clear text.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { afterAll, describe, expect, it } from "vitest";
import { contentLine, type BackupHeader } from "../../src/infra/backup/backup-content.js";
import { openBackupSession } from "../../src/infra/backup/open-backup-session.js";
import { foreignKeyOrder, type PortableValue } from "../../src/infra/backup/catalog.js";
import { SealedWriter } from "../../src/infra/backup/sealed-stream.js";
import { loadMasterKey } from "../../src/infra/crypto/master-key.js";
import { parseDatabaseUrl } from "../../src/infra/prisma/database-url.js";
import { migrationNames, Migrator } from "../../src/infra/prisma/migrator.js";
import { cliOk } from "../helpers/cli-result.js";
import { opensslRun } from "../helpers/openssl.js";
import { runKpki, type RunResult } from "../helpers/process.js";
import { ADMIN, startTestRuntime, usageRecorderOf, type TestRuntime } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

type Provider = "sqlite" | "postgresql";

const CA = "backup-ca";
const workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-backup-"));
const cleanups: (() => Promise<void>)[] = [];
const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64");

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

const env = (dataDir: string, database: TestDatabase) => ({ KPKI_DATA_DIR: dataDir, DATABASE_URL: database.url, KPKI_LOG_LEVEL: "silent" });
const file = (name: string, content: string | Buffer) => {
  const target = path.join(workDir, name);
  writeFileSync(target, content);
  return target;
};

/** Exit `code` with the reason as the last stderr line (progress lines may come before it). */
function refused(result: RunResult, code: number): string {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(code);
  const last = result.stderr.trimEnd().split("\n").at(-1) ?? "";
  expect(last).toMatch(/^kpki: /);
  return last;
}

/** A binary body (CRLs). */
async function binary(t: TestRuntime, urlPath: string): Promise<Buffer> {
  const response = await request(t.app).get(urlPath).set("Accept", "application/pkix-crl").responseType("blob");
  expect(response.status).toBe(200);
  return response.body as Buffer;
}

async function ok<T>(test: request.Test, status = 200): Promise<T> {
  const response = await test;
  expect(response.status, response.text).toBe(status);
  return response.body as T;
}

/** Every table, row for row, in portable form (what the backup carries), read in one snapshot. */
async function tableContents(database: TestDatabase): Promise<Record<string, PortableValue[][]>> {
  const session = await openBackupSession(parseDatabaseUrl(database.url, workDir));
  try {
    await session.beginSnapshot();
    const contents: Record<string, PortableValue[][]> = {};
    for (const table of foreignKeyOrder(await session.catalog())) {
      const rows: PortableValue[][] = [];
      for await (const row of session.rows(table)) rows.push(row);
      contents[table.name] = rows;
    }
    await session.rollback();
    return contents;
  } finally {
    await session.close();
  }
}

/**
 * What the REST API lists. Token last-use times move with every call, so they are left out; lists
 * are compared as sets (rows made in the same millisecond, like a cluster's three CAs, have no
 * defined order among themselves, in either database).
 */
async function listings(t: TestRuntime): Promise<Record<string, unknown>> {
  const paths = ["/v1/authorities", "/v1/certificates", "/v1/tokens", "/v1/clusters", "/v1/clusters/backup-cluster", "/v1/keys", "/v1/keys/app-secrets", "/v1/objects"];
  const out: Record<string, unknown> = {};
  const normalise = (key: string, value: unknown): unknown =>
    key === "lastUsedAt" ? undefined : Array.isArray(value) ? [...(value as unknown[])].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : value;
  for (const urlPath of paths) out[urlPath] = JSON.parse(JSON.stringify(await ok(request(t.app).get(urlPath).set(ADMIN))), normalise);
  return out;
}

interface Source {
  readonly provider: Provider;
  readonly database: TestDatabase;
  readonly dataDir: string;
  readonly backupFile: string;
  readonly contents: Record<string, PortableValue[][]>;
  readonly listings: Record<string, unknown>;
  readonly chainPem: string;
  readonly leafPem: string;
  readonly serials: readonly string[];
  readonly ciphertexts: readonly { ciphertext: string; plaintext: string; context?: string }[];
  readonly rawKey: { uid: string; value: Buffer };
  readonly privateKeyPem: string;
  readonly privateKeyDer: Buffer;
  readonly lastCrlNumber: bigint;
}

const sources = new Map<Provider, Promise<Source>>();
const source = (provider: Provider): Promise<Source> => {
  let made = sources.get(provider);
  if (made === undefined) {
    made = populate(provider);
    sources.set(provider, made);
  }
  return made;
};

/** A populated installation on `provider`, stopped, and its backup made by `kpki backup`. */
async function populate(provider: Provider): Promise<Source> {
  const database = await createTestDatabase({ provider });
  const dataDir = mkdtempSync(path.join(workDir, `${provider}-source-`));
  cleanups.push(() => database.drop());
  const t = await startTestRuntime({ reuse: { database, dataDir } });
  try {
    const api = request(t.app);
    await ok(api.post("/v1/authorities").set(ADMIN).send({ name: CA, type: "intermediate", parent: "kpki-root", keyAlgorithm: "ECDSA-P256", subject: { commonName: "Backup Test CA" } }), 201);
    const issued: { id: string; serialNumber: string; certificatePem: string }[] = [];
    for (const name of ["one", "two", "three"]) {
      issued.push(await ok(api.post("/v1/certificates").set(ADMIN).send({ ca: CA, profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName: `${name}.backup.test` }, subjectAltNames: [`DNS:${name}.backup.test`] }), 201));
    }
    await binary(t, `/v1/authorities/${CA}/crl`);
    await ok(api.post(`/v1/certificates/${issued[1]?.id ?? ""}/revoke`).set(ADMIN).send({ reason: "keyCompromise" }));
    await binary(t, `/v1/authorities/${CA}/crl`);
    await binary(t, `/v1/authorities/${CA}/crl/delta`);

    await ok(api.post("/v1/keys").set(ADMIN).send({ name: "app-secrets" }), 201);
    const context = b64("tenant-7");
    const v1 = await ok<{ ciphertext: string }>(api.post("/v1/keys/app-secrets/encrypt").set(ADMIN).send({ plaintext: b64("first secret"), context }));
    await ok(api.post("/v1/keys/app-secrets/rotate").set(ADMIN));
    const v2 = await ok<{ ciphertext: string }>(api.post("/v1/keys/app-secrets/encrypt").set(ADMIN).send({ plaintext: b64("second secret") }));

    const rawValue = randomBytes(32);
    const rawKey = await ok<{ uid: string }>(api.post("/v1/objects/register").set(ADMIN).send({ objectType: "SymmetricKey", algorithm: "AES", format: "raw", value: b64(rawValue), extractable: true }), 201);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const privateKeyDer = privateKey.export({ type: "pkcs8", format: "der" });
    await ok(api.post("/v1/objects/register").set(ADMIN).send({ objectType: "PrivateKey", format: "pkcs8", value: b64(privateKeyDer), extractable: true, names: ["known-private-key"] }), 201);
    await ok(api.post("/v1/objects").set(ADMIN).send({ objectType: "SymmetricKey", algorithm: "AES", names: ["managed-one"] }), 201);

    await ok(
      api.post("/v1/clusters").set(ADMIN).send({
        name: "backup-cluster",
        controlPlaneEndpoint: "k8s.backup-cluster.internal:6443",
        keyAlgorithm: "ECDSA-P256",
        nodes: [
          { name: "cp-1", role: "control-plane", addresses: ["192.168.80.11"] },
          { name: "worker-1", role: "worker", addresses: ["192.168.80.21"] },
        ],
      }),
      201,
    );
    await ok(api.post("/v1/tokens").set(ADMIN).send({ name: "backup-reader", role: "reader" }), 201);

    const chainPem = (await api.get(`/v1/authorities/${CA}/chain`).set("Accept", "application/x-pem-file").buffer(true)).text;
    const lastCrl = await t.runtime.storage.db.crlRecord.findFirst({ where: { ca: { name: CA } }, orderBy: { number: "desc" } });
    // Counted key uses are written on a timer and at close; write them now, so the listing taken
    // here is what the backup (after close) holds, not a moment before the last flush.
    await usageRecorderOf(t).flush();
    const listed = await listings(t);
    await t.close({ keepData: true });

    const backupFile = path.join(workDir, `${provider}.kpkibak`);
    const run = await runKpki(["backup", "--out", backupFile], { env: env(dataDir, database) });
    expect(cliOk(run)).toMatch(/^backup written to .*: \d+ tables, \d+ rows, migration \d{4}_\w+, sealed under master key [0-9a-f]{16}/);
    expect(run.stderr).toMatch(/ {2}certificates: \d+ rows\n/);
    return {
      provider,
      database,
      dataDir,
      backupFile,
      contents: await tableContents(database),
      listings: listed,
      chainPem,
      leafPem: issued[0]?.certificatePem ?? "",
      serials: issued.map((cert) => cert.serialNumber),
      ciphertexts: [
        { ciphertext: v1.ciphertext, plaintext: "first secret", context },
        { ciphertext: v2.ciphertext, plaintext: "second secret" },
      ],
      rawKey: { uid: rawKey.uid, value: rawValue },
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      privateKeyDer,
      lastCrlNumber: lastCrl?.number ?? -1n,
    };
  } catch (error) {
    await t.close({ keepData: true });
    throw error;
  }
}

/** A fresh, empty target with the source's master key file. */
async function freshTarget(provider: Provider, from: Source): Promise<{ database: TestDatabase; dataDir: string }> {
  const database = await createTestDatabase({ provider });
  cleanups.push(() => database.drop());
  const dataDir = mkdtempSync(path.join(workDir, `${provider}-target-`));
  copyFileSync(path.join(from.dataDir, "master.key"), path.join(dataDir, "master.key"));
  return { database, dataDir };
}

const pairs: [Provider, Provider][] = postgresqlTestUrl() === undefined ? [["sqlite", "sqlite"]] : [["sqlite", "sqlite"], ["postgresql", "postgresql"], ["sqlite", "postgresql"], ["postgresql", "sqlite"]];

describe.each(pairs)("backup on %s, restore into %s", (from, to) => {
  it("restores every row; the restored service has the same inventory, keys, CAs, CRL numbers and audit chain", async () => {
    const src = await source(from);
    // The populated installation has rows in every kind of state the backup must carry.
    const filled = Object.entries(src.contents).filter(([, rows]) => rows.length > 0).map(([name]) => name);
    expect(filled).toEqual(expect.arrayContaining(["api_tokens", "audit_events", "certificate_authorities", "certificates", "cluster_nodes", "clusters", "crls", "key_materials", "kpki_meta", "managed_object_names", "managed_objects", "named_keys", "service_account_keys"]));
    const target = await freshTarget(to, src);
    const restored = await runKpki(["restore", "--in", src.backupFile], { env: env(target.dataDir, target.database) });
    expect(cliOk(restored)).toMatch(/^restored \d+ rows in \d+ tables/);
    expect(restored.stderr).toMatch(/audit_events: \d+ rows/);
    expect(restored.stderr).not.toMatch(/Warning|Error/);
    expect(await tableContents(target.database)).toEqual(src.contents);

    const verify = await runKpki(["audit", "verify"], { env: env(target.dataDir, target.database) });
    expect(cliOk(verify)).toContain(`audit log intact: ${src.contents.audit_events?.length ?? -1} entries`);

    const t = await startTestRuntime({ reuse: { database: target.database, dataDir: target.dataDir } });
    try {
      const api = request(t.app);
      expect(await listings(t)).toEqual(src.listings);
      // Old certificates verify against the restored CA, with the same chain.
      const restoredChain = file(`${from}-${to}-chain.pem`, (await api.get(`/v1/authorities/${CA}/chain`).set("Accept", "application/x-pem-file").buffer(true)).text);
      expect(readFileSync(restoredChain, "utf8")).toBe(src.chainPem);
      const oldLeaf = opensslRun(["verify", "-CAfile", restoredChain, file(`${from}-${to}-old.pem`, src.leafPem)]);
      expect(oldLeaf.status, oldLeaf.stderr).toBe(0);
      // The restored CA key signs: a new certificate, with a new serial, verifies against the old chain.
      const fresh = await ok<{ id: string; serialNumber: string; certificatePem: string }>(
        api.post("/v1/certificates").set(ADMIN).send({ ca: CA, profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName: "after.backup.test" }, subjectAltNames: ["DNS:after.backup.test"] }),
        201,
      );
      expect(src.serials).not.toContain(fresh.serialNumber);
      const newLeaf = opensslRun(["verify", "-CAfile", file(`${from}-${to}-old-chain.pem`, src.chainPem), file(`${from}-${to}-new.pem`, fresh.certificatePem)]);
      expect(newLeaf.status, newLeaf.stderr).toBe(0);
      // The CRL number continues after the last one issued before the backup.
      await ok(api.post(`/v1/certificates/${fresh.id}/revoke`).set(ADMIN).send({ reason: "superseded" }));
      const crl = file(`${from}-${to}.crl`, await binary(t, `/v1/authorities/${CA}/crl`));
      const crlText = opensslRun(["crl", "-inform", "DER", "-in", crl, "-noout", "-text"]);
      expect(crlText.status, crlText.stderr).toBe(0);
      expect(BigInt(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(crlText.stdout)?.[1] ?? "-1")).toBeGreaterThan(src.lastCrlNumber);
      const newer = await t.runtime.storage.db.crlRecord.findFirst({ where: { ca: { name: CA }, number: { gt: src.lastCrlNumber } }, orderBy: { number: "asc" } });
      expect(newer?.number).toBe(src.lastCrlNumber + 1n);
      // Old ciphertexts (both named-key versions) decrypt; sealed key material opens.
      for (const { ciphertext, plaintext, context } of src.ciphertexts) {
        const opened = await ok<{ plaintext: string }>(api.post("/v1/keys/app-secrets/decrypt").set(ADMIN).send({ ciphertext, ...(context === undefined ? {} : { context }) }));
        expect(Buffer.from(opened.plaintext, "base64").toString()).toBe(plaintext);
      }
      expect((await ok<{ value: string }>(api.get(`/v1/objects/${src.rawKey.uid}/value`).set(ADMIN))).value).toBe(b64(src.rawKey.value));
      // New audit entries extend the restored chain.
      await ok(api.post("/v1/tokens").set(ADMIN).send({ name: "after-restore", role: "reader" }), 201);
    } finally {
      await t.close({ keepData: true });
    }
    expect(cliOk(await runKpki(["audit", "verify"], { env: env(target.dataDir, target.database) }))).toContain("audit log intact");

    // Over existing data: refused without --force (nothing changes), replaced with it.
    const before = await tableContents(target.database);
    expect(refused(await runKpki(["restore", "--in", src.backupFile], { env: env(target.dataDir, target.database) }), 5)).toMatch(/the database is not empty .*--force/);
    expect(await tableContents(target.database)).toEqual(before);
    cliOk(await runKpki(["restore", "--in", src.backupFile, "--force"], { env: env(target.dataDir, target.database) }));
    expect(await tableContents(target.database)).toEqual(src.contents);
    expect(cliOk(await runKpki(["audit", "verify"], { env: env(target.dataDir, target.database) }))).toContain("audit log intact");
  }, 240_000);
});

describe("the backup file", () => {
  it("holds no key and no clear text: everything is sealed", async () => {
    const src = await source("sqlite");
    const bytes = readFileSync(src.backupFile);
    // The stored (sealed) keys and public keys, as they are in the database: the outer seal hides them too.
    const stored = (src.contents.key_materials ?? []).flatMap((row) => row.filter((value): value is string => typeof value === "string" && value.length > 60));
    expect(stored.length).toBeGreaterThan(0);
    for (const needle of [
      src.rawKey.value,
      Buffer.from(b64(src.rawKey.value)),
      Buffer.from(src.rawKey.value.toString("hex")),
      src.privateKeyDer,
      Buffer.from(b64(src.privateKeyDer)),
      Buffer.from(src.privateKeyPem.split("\n")[1] ?? "-"),
      Buffer.from("Backup Test CA"),
      Buffer.from("backup-cluster"),
      Buffer.from("app-secrets"),
      ...stored.flatMap((value) => [Buffer.from(value), Buffer.from(value, "base64")]),
    ]) {
      expect(bytes.includes(needle), `found ${needle.toString("utf8").slice(0, 40)}`).toBe(false);
    }
    const preamble = JSON.parse(bytes.subarray(0, bytes.indexOf(0x0a)).toString()) as Record<string, unknown>;
    const masterKey = await loadMasterKey({ kind: "file", path: path.join(src.dataDir, "master.key") });
    expect(preamble).toMatchObject({ format: "kpki-backup", version: 1, cipher: "AES-256-GCM-STREAM", kdf: "HKDF-SHA256", masterKeyId: masterKey.id });
  }, 240_000);

  it("is refused when altered, cut short, opened with another master key, or made by a newer kpki; the target stays empty", async () => {
    const src = await source("sqlite");
    const bytes = readFileSync(src.backupFile);
    const target = await freshTarget("sqlite", src);
    const restore = (name: string) => runKpki(["restore", "--in", name], { env: env(target.dataDir, target.database) });

    const flipped = Buffer.from(bytes);
    const middle = Math.floor(bytes.length / 2);
    flipped[middle] = (flipped[middle] ?? 0) ^ 0x01;
    expect(refused(await restore(file("flipped.kpkibak", flipped)), 2)).toMatch(/restore refused: segment \d+ does not authenticate/);
    const cut = bytes.subarray(0, bytes.length - 100);
    expect(refused(await restore(file("cut.kpkibak", cut)), 2)).toMatch(/restore refused: .*(cut short|does not authenticate)/);
    const newline = bytes.indexOf(0x0a);
    const preamble = JSON.parse(bytes.subarray(0, newline).toString()) as Record<string, string>;
    const otherSalt = Buffer.concat([Buffer.from(JSON.stringify({ ...preamble, salt: b64(randomBytes(32)) })), bytes.subarray(newline)]);
    expect(refused(await restore(file("salt.kpkibak", otherSalt)), 2)).toMatch(/does not authenticate/);
    expect(refused(await restore(file("garbage.kpkibak", randomBytes(4096))), 2)).toMatch(/not a kpki backup file/);

    // A newer kpki's backup (a migration this build does not know), properly sealed: refused by its header.
    const masterKey = await loadMasterKey({ kind: "file", path: path.join(src.dataDir, "master.key") });
    const chunks: Buffer[] = [];
    const writer = await SealedWriter.open(masterKey, async (chunk) => {
      chunks.push(chunk);
    });
    const header: BackupHeader = { kind: "header", format: 1, kpkiVersion: "99.0.0", provider: "sqlite", createdAt: new Date().toISOString(), masterKeyId: masterKey.id, migrations: ["0001_init", "9999_future"], migrationHead: "9999_future", tables: [] };
    await writer.write(contentLine(header));
    await writer.finish();
    expect(refused(await restore(file("newer.kpkibak", Buffer.concat(chunks))), 6)).toMatch(/made by a newer kpki \(99\.0\.0\): migration 9999_future/);

    // Another master key: refused before anything is read.
    writeFileSync(path.join(target.dataDir, "master.key"), `${b64(randomBytes(32))}\n`, { mode: 0o600 });
    expect(refused(await restore(src.backupFile), 4)).toMatch(new RegExp(`sealed under master key ${masterKey.id}, but the configured master key is [0-9a-f]{16}`));

    copyFileSync(path.join(src.dataDir, "master.key"), path.join(target.dataDir, "master.key"));
    const contents = await tableContents(target.database);
    expect(Object.values(contents).every((rows) => rows.length === 0)).toBe(true);
  }, 240_000);

  it("backup refuses to overwrite a file and refuses a master key that does not open the data", async () => {
    const src = await source("sqlite");
    expect(refused(await runKpki(["backup", "--out", src.backupFile], { env: env(src.dataDir, src.database) }), 5)).toMatch(/exists/);
    const otherKey = path.join(workDir, "other.key");
    writeFileSync(otherKey, `${b64(randomBytes(32))}\n`, { mode: 0o600 });
    const otherKeyRun = await runKpki(["backup", "--out", path.join(workDir, "other.kpkibak")], { env: { ...env(src.dataDir, src.database), KPKI_MASTER_KEY_FILE: otherKey } });
    expect(refused(otherKeyRun, 4)).toMatch(/does not open this database/);
  }, 240_000);
});

describe("a backup made at an older migration head", () => {
  it("is restored into a new database at its head, then migrated to this build's; refused over a newer database", async () => {
    const [older, head] = migrationNames("sqlite").slice(-2);
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const dataDir = mkdtempSync(path.join(workDir, "older-"));
    writeFileSync(path.join(dataDir, "master.key"), `${b64(randomBytes(32))}\n`, { mode: 0o600 });
    const target = parseDatabaseUrl(database.url, dataDir);
    const migrator = new Migrator({ database: target });
    await migrator.migrate({ upTo: older });
    await migrator.close();
    const session = await openBackupSession(target);
    const now = new Date().toISOString();
    const values: Record<string, PortableValue> = { key: "older-note", value: "from an older kpki", name: "old-key", algorithm: "AES-256-GCM", currentVersion: 1, minDecryptionVersion: 1, lastRotatedAt: now, createdAt: now, updatedAt: now };
    try {
      await session.beginWrite();
      for (const table of (await session.catalog()).filter((entry) => ["kpki_meta", "named_keys"].includes(entry.name))) {
        await session.insert(table, [table.columns.map((column) => values[column.name] ?? null)]);
      }
      await session.commit();
    } finally {
      await session.close();
    }
    const backupFile = path.join(workDir, "older.kpkibak");
    cliOk(await runKpki(["backup", "--out", backupFile], { env: env(dataDir, database) }));
    const before = await tableContents(database);

    const fresh = await createTestDatabase();
    cleanups.push(() => fresh.drop());
    const freshDir = mkdtempSync(path.join(workDir, "older-target-"));
    copyFileSync(path.join(dataDir, "master.key"), path.join(freshDir, "master.key"));
    const restored = await runKpki(["restore", "--in", backupFile], { env: env(freshDir, fresh) });
    cliOk(restored);
    expect(restored.stderr).toContain(`migrating the restored data from ${older ?? "?"} to ${head ?? "?"}`);
    const status = cliOk(await runKpki(["migrate", "--status"], { env: env(freshDir, fresh) }));
    expect(status).toMatch(new RegExp(`applied {2}${head ?? "?"}`));
    const after = await tableContents(fresh);
    expect(after.kpki_meta).toEqual(before.kpki_meta);
    expect(after.named_keys).toEqual(before.named_keys);

    const again = await runKpki(["restore", "--in", backupFile, "--force"], { env: env(freshDir, fresh) });
    expect(refused(again, 5)).toMatch(new RegExp(`older than this database's ${head ?? "?"}: restore it into a new, empty database`));
  }, 240_000);
});

// "A dump of the database contains no private key" (ARCHITECTURE.md §3): import CAs whose keys the
// test made, issue with a server-generated key, then dump the database with the real tools
// (`sqlite3 .dump`, `pg_dump`) and search the text for every form of every private key the test
// knows, including each key kpki stores (unsealed here through the runtime's own backend).
import { execFile } from "node:child_process";
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleFromRow } from "../../src/infra/prisma/key-material-repository.js";
import { ADMIN, startTestRuntime, TEST_ADMIN_TOKEN, type TestRuntime } from "../helpers/runtime.js";
import { postgresqlTestUrl } from "../helpers/test-database.js";

const run = promisify(execFile);

/** A private key and the byte strings that would betray it. */
interface KnownKey {
  readonly label: string;
  /** Hex (lower case) of: PKCS#8 DER, and the raw secret integers (EC scalar d; RSA d, p, q, dp, dq, qi). */
  readonly hex: readonly string[];
  /** Base64 of the same values (as a PEM body or a JSON field would carry them). */
  readonly base64: readonly string[];
  /** The raw byte strings, for searching binary database files. */
  readonly bytes: readonly Buffer[];
}

function knownKey(label: string, key: KeyObject, extraDer: readonly Buffer[] = []): KnownKey {
  const pkcs8 = key.export({ format: "der", type: "pkcs8" });
  const jwk = key.export({ format: "jwk" });
  const secrets = [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].flatMap((value) => (value === undefined ? [] : [Buffer.from(value, "base64url")]));
  expect(secrets.length, `${label}: no secret integers found`).toBeGreaterThan(0);
  const all = [pkcs8, ...extraDer, ...secrets];
  return {
    label,
    hex: all.map((bytes) => bytes.toString("hex")),
    base64: all.flatMap((bytes) => [bytes.toString("base64"), bytes.toString("base64url")]),
    bytes: all,
  };
}

/** Throws with the first needle found, naming it (never printing the key). */
function assertContainsNone(haystack: string, keys: readonly KnownKey[], where: string): void {
  const lower = haystack.toLowerCase();
  for (const key of keys) {
    key.hex.forEach((hex, i) => expect(lower.includes(hex), `${where} contains ${key.label} (hex value #${i})`).toBe(false));
    key.base64.forEach((b64, i) => expect(haystack.includes(b64), `${where} contains ${key.label} (base64 value #${i})`).toBe(false));
  }
}

let t: TestRuntime;
let workDir: string;
const keys: KnownKey[] = [];
/** Hex strings the dump must contain: proof that the search looks at the right data. */
const expectedHex: { label: string; hex: string }[] = [];
let leafCertificatePem: string;
let sqliteFilesBeforeClose: Buffer[] = [];
let dump: string;

/** A self-signed CA certificate for `key` made by openssl. */
async function caCertificateFor(key: KeyObject, name: string): Promise<string> {
  const keyFile = path.join(workDir, `${name}.key`);
  const certFile = path.join(workDir, `${name}.crt`);
  writeFileSync(keyFile, key.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  await run("openssl", [
    "req", "-x509", "-new", "-key", keyFile, "-out", certFile, "-days", "365", "-subj", `/O=kpki tests/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  rmSync(keyFile);
  return readFileSync(certFile, "utf8");
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-dump-"));
  t = await startTestRuntime();

  // Two imported CAs: EC P-256 sent as PKCS#8 PEM, RSA-2048 sent as PKCS#1 ("RSA PRIVATE KEY").
  const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const imports = [
    { name: "imported-ec", key: ec, pem: ec.export({ format: "pem", type: "pkcs8" }).toString() },
    { name: "imported-rsa", key: rsa, pem: rsa.export({ format: "pem", type: "pkcs1" }).toString() },
  ];
  keys.push(knownKey("imported EC CA key", ec), knownKey("imported RSA CA key", rsa, [rsa.export({ format: "der", type: "pkcs1" })]));
  for (const { name, key, pem } of imports) {
    const certificate = await caCertificateFor(key, name);
    const imported = await request(t.app).post("/v1/authorities/import").set(ADMIN).send({ name, certificate, privateKey: pem });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expectedHex.push({ label: `${name} certificate`, hex: Buffer.from(new X509Certificate(certificate).raw).toString("hex") });
  }

  // Certificates signed by both imported keys, one with a key the server generated and returned.
  const leaf = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "imported-ec", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "leaf-with-server-key" } });
  expect(leaf.status).toBe(201);
  const leafBody = leaf.body as { certificatePem: string; privateKeyPem?: string };
  expect(leafBody.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  leafCertificatePem = leafBody.certificatePem;
  keys.push(knownKey("server-generated leaf key", createPrivateKey(leafBody.privateKeyPem ?? "")));
  expectedHex.push({ label: "leaf certificate", hex: Buffer.from(new X509Certificate(leafCertificatePem).raw).toString("hex") });
  const rsaLeaf = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "imported-rsa", profile: "client", keyAlgorithm: "ECDSA-P384", subject: { commonName: "leaf-from-rsa" } });
  expect(rsaLeaf.status).toBe(201);
  keys.push(knownKey("second server-generated leaf key", createPrivateKey((rsaLeaf.body as { privateKeyPem: string }).privateKeyPem)));
  const child = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "generated-ca", type: "intermediate", parent: "imported-ec", subject: { commonName: "Generated CA" }, keyAlgorithm: "RSA-2048" });
  expect(child.status).toBe(201);

  // Every key kpki stores (bootstrap root and internal CA, the service TLS key, the CAs above),
  // unsealed through the runtime's own crypto backend, and its sealed form (which must be dumped).
  const rows = await t.runtime.storage.db.keyMaterial.findMany({ orderBy: { id: "asc" } });
  expect(rows.length).toBeGreaterThanOrEqual(6);
  for (const row of rows) {
    const handle = handleFromRow(row);
    if (handle === undefined) continue;
    const pkcs8 = Buffer.from(await t.runtime.crypto.exportPrivateKey(handle));
    keys.push(knownKey(`stored key ${row.id} (${row.algorithm})`, createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })));
    expectedHex.push({ label: `sealed key ${row.id}`, hex: Buffer.from(handle.ref).toString("hex") });
  }

  if (t.database.provider === "sqlite") {
    const file = t.database.url.slice("file:".length);
    const dir = path.dirname(file);
    sqliteFilesBeforeClose = readdirSync(dir).map((name) => readFileSync(path.join(dir, name)));
    await t.close({ keepData: true }); // the last connection checkpoints the WAL into the file
    dump = (await run("sqlite3", [file, ".dump"], { maxBuffer: 256 * 1024 * 1024 })).stdout;
  } else {
    dump = (await run("pg_dump", ["--no-owner", t.database.url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
  }
});

afterAll(async () => {
  if (t !== undefined) await t.close(); // drops the database and the data dir (safe after a keepData close)
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("database dump", () => {
  it("holds the data the search is about (positive control)", () => {
    expect(dump.length).toBeGreaterThan(10_000);
    const lower = dump.toLowerCase();
    expect(expectedHex.length).toBeGreaterThanOrEqual(8);
    for (const { label, hex } of expectedHex) {
      expect(hex.length, label).toBeGreaterThan(100);
      expect(lower.includes(hex), `dump lacks ${label}`).toBe(true);
    }
    for (const table of ["key_materials", "certificate_authorities", "certificates", "api_tokens", "audit_events"]) expect(dump).toContain(table);
    expect(dump).toContain("imported-rsa");
    // The admin token's hash is stored, so the token table is in the dump too.
    expect(dump).toContain(createHash("sha256").update(TEST_ADMIN_TOKEN, "utf8").digest("hex"));
  });

  it("contains no PEM private key", () => {
    expect(dump).not.toMatch(/-----BEGIN[A-Z ]*PRIVATE KEY-----/);
    expect(dump).not.toMatch(/PRIVATE KEY/i);
  });

  it("contains no PKCS#8/PKCS#1 DER and no raw secret integer of any known key, in hex or base64", () => {
    expect(keys.length).toBeGreaterThanOrEqual(10);
    assertContainsNone(dump, keys, "the dump");
  });

  it("contains no bearer token", () => {
    expect(dump).not.toContain(TEST_ADMIN_TOKEN);
    expect(dump).not.toMatch(/kpki_[A-Za-z0-9_-]{40,}/);
  });

  it.runIf(postgresqlTestUrl() === undefined)("SQLite: not even the raw database files (free pages, WAL) hold a key's bytes", () => {
    const file = t.database.url.slice("file:".length);
    const dir = path.dirname(file);
    const files = [...sqliteFilesBeforeClose, ...readdirSync(dir).map((name) => readFileSync(path.join(dir, name)))];
    expect(files.length).toBeGreaterThanOrEqual(2);
    const leafDer = Buffer.from(new X509Certificate(leafCertificatePem).raw);
    expect(files.some((bytes) => bytes.includes(leafDer))).toBe(true); // control: the files hold the certificates
    for (const bytes of files) {
      for (const key of keys) key.bytes.forEach((secret, i) => expect(bytes.includes(secret), `a database file contains ${key.label} (value #${i})`).toBe(false));
      expect(bytes.includes(Buffer.from("PRIVATE KEY"))).toBe(false);
    }
  });
});


// The audit log is hash-chained (ARCHITECTURE.md §3): after real operations over HTTP the rows of
// `audit_events`, read straight from the database, link by seq and every hash recomputes; no row
// carries a secret; a refused request leaves no row.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_GENESIS_HASH, auditEntryHash } from "../../src/infra/prisma/audit-log.js";
import { ADMIN, startTestRuntime, TEST_ADMIN_TOKEN, type TestRuntime } from "../helpers/runtime.js";

/** An `audit_events` row as Prisma returns it. */
interface AuditRow {
  seq: number;
  id: string;
  time: Date;
  actor: string;
  action: string;
  target: string;
  result: string;
  requestId: string | null;
  details: string;
  prevHash: string;
  hash: string;
}

/** Every way `rows` (ordered by seq) fail to be one unbroken chain; empty when intact. */
function chainProblems(rows: readonly AuditRow[]): string[] {
  const problems: string[] = [];
  rows.forEach((row, i) => {
    const expectedPrev = i === 0 ? AUDIT_GENESIS_HASH : rows[i - 1]?.hash;
    if (row.prevHash !== expectedPrev) problems.push(`seq ${row.seq}: prevHash does not match the previous entry's hash`);
    if (i > 0 && row.seq <= (rows[i - 1]?.seq ?? 0)) problems.push(`seq ${row.seq}: not increasing`);
    if (row.hash !== auditEntryHash(row)) problems.push(`seq ${row.seq}: hash does not match its content`);
  });
  return problems;
}

let t: TestRuntime;
let workDir: string;
/** Secrets that the log must never contain. */
const secrets: string[] = [TEST_ADMIN_TOKEN];
let readerToken: string;
let revokedToken: string;
let csrPem: string;

const auditRows = async (): Promise<AuditRow[]> => t.runtime.storage.db.auditEvent.findMany({ orderBy: { seq: "asc" } });

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-audit-"));
  t = await startTestRuntime();
  execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(workDir, "leaf.key"), "-out", path.join(workDir, "leaf.csr"), "-subj", "/CN=svc.audit.test", "-addext", "subjectAltName=DNS:svc.audit.test"], { stdio: "ignore" });
  csrPem = readFileSync(path.join(workDir, "leaf.csr"), "utf8");
  secrets.push(readFileSync(path.join(workDir, "leaf.key"), "utf8"));

  // A few operations of every kind, each a state change that must be audited.
  const ca = await request(t.app).post("/v1/authorities").set(ADMIN).set("X-Request-Id", "audit-create-ca-1").send({ name: "audit-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "Audit CA" } });
  expect(ca.status).toBe(201);
  const signed = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "audit-ca", profile: "server", csr: csrPem });
  expect(signed.status).toBe(201);
  const generated = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "audit-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "alice" } });
  expect(generated.status).toBe(201);
  secrets.push((generated.body as { privateKeyPem: string }).privateKeyPem);
  const idempotent = await request(t.app).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", "audit-idem-0001").send({ ca: "audit-ca", profile: "server", csr: csrPem });
  expect(idempotent.status).toBe(201);

  const reader = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "audit-reader", role: "reader" });
  expect(reader.status).toBe(201);
  readerToken = (reader.body as { token: string }).token;
  const doomed = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "audit-doomed", role: "issuer" });
  expect(doomed.status).toBe(201);
  revokedToken = (doomed.body as { token: string }).token;
  expect((await request(t.app).delete(`/v1/tokens/${(doomed.body as { id: string }).id}`).set(ADMIN)).status).toBe(200);
  secrets.push(readerToken, revokedToken);

  const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
  const keyPem = key.export({ format: "pem", type: "pkcs8" }).toString();
  writeFileSync(path.join(workDir, "ca.key"), keyPem, { mode: 0o600 });
  execFileSync("openssl", ["req", "-x509", "-new", "-key", path.join(workDir, "ca.key"), "-out", path.join(workDir, "ca.crt"), "-days", "30", "-subj", "/CN=Audit Imported CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"], { stdio: "ignore" });
  const imported = await request(t.app).post("/v1/authorities/import").set(ADMIN).send({ name: "audit-imported", certificate: readFileSync(path.join(workDir, "ca.crt"), "utf8"), privateKey: keyPem });
  expect(imported.status).toBe(201);
  secrets.push(keyPem);
});

afterAll(async () => {
  await t?.close();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("audit chain", () => {
  it("links every row to the previous one by seq, from the genesis hash, and every hash recomputes", async () => {
    const rows = await auditRows();
    // bootstrap (2 CAs, admin token, TLS certificate) + 1 CA + 3 certificates + 2 tokens + 1 revoke + 1 import
    expect(rows.length).toBeGreaterThanOrEqual(12);
    expect(rows[0]?.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(AUDIT_GENESIS_HASH).toBe("0".repeat(64));
    expect(chainProblems(rows)).toEqual([]);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length);
    for (const row of rows) expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("records each kind of operation, with the caller and the request id", async () => {
    const rows = await auditRows();
    const actions = rows.map((r) => r.action);
    for (const action of ["ca.create", "ca.import", "certificate.issue", "token.create", "token.revoke"]) expect(actions).toContain(action);
    expect(actions.filter((a) => a === "certificate.issue").length).toBeGreaterThanOrEqual(4); // 3 here + the service's TLS certificate
    const created = rows.find((r) => r.action === "ca.create" && r.requestId === "audit-create-ca-1");
    expect(created?.actor).toMatch(/^token:/);
    expect(JSON.parse(created?.details ?? "{}")).toMatchObject({ name: "audit-ca" });
  });

  it("detects tampering: the check fails on a changed, removed or reordered row", async () => {
    const rows = await auditRows();
    const middle = Math.floor(rows.length / 2);
    const changed = rows.map((r, i) => (i === middle ? { ...r, details: r.details.replace("}", ',"x":1}') } : r));
    expect(chainProblems(changed)).not.toEqual([]);
    expect(chainProblems(rows.filter((_, i) => i !== middle))).not.toEqual([]);
    const swapped = [...rows];
    [swapped[1], swapped[2]] = [rows[2] as AuditRow, rows[1] as AuditRow];
    expect(chainProblems(swapped)).not.toEqual([]);
  });

  it("contains no token, no private key and no PEM key material", async () => {
    const text = JSON.stringify(await auditRows());
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) {
      const probe = secret.includes("-----BEGIN") ? secret.split("\n")[2] ?? secret : secret; // a base64 line of a PEM
      expect(probe.length).toBeGreaterThan(30);
      expect(text.includes(probe)).toBe(false);
    }
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).not.toMatch(/kpki_[A-Za-z0-9_-]{40,}/);
  });
});

describe("refused requests", () => {
  const issue = { ca: "audit-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "refused" } };
  const refusals: [string, () => request.Test, number][] = [
    ["no token", () => request(t.app).post("/v1/certificates").send(issue), 401],
    ["a wrong token", () => request(t.app).post("/v1/certificates").set("Authorization", "Bearer kpki_not-a-real-token-000000000000000000000").send(issue), 401],
    ["a revoked token", () => request(t.app).post("/v1/certificates").set("Authorization", `Bearer ${revokedToken}`).send(issue), 401],
    ["a reader token issuing", () => request(t.app).post("/v1/certificates").set("Authorization", `Bearer ${readerToken}`).send(issue), 403],
    ["a reader token creating a token", () => request(t.app).post("/v1/tokens").set("Authorization", `Bearer ${readerToken}`).send({ name: "x", role: "admin" }), 403],
    ["an unknown field", () => request(t.app).post("/v1/certificates").set(ADMIN).send({ ...issue, extra: true }), 400],
    ["a damaged CSR", () => request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "audit-ca", profile: "server", csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n" }), 400],
    ["a server profile without DNS or IP name", () => request(t.app).post("/v1/certificates").set(ADMIN).send({ ...issue, profile: "server" }), 422],
    ["an unknown CA", () => request(t.app).post("/v1/certificates").set(ADMIN).send({ ...issue, ca: "no-such-ca" }), 404],
    ["an existing CA name", () => request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "audit-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "again" } }), 409],
    ["an idempotency key reused for another request", () => request(t.app).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", "audit-idem-0001").send({ ca: "audit-ca", profile: "server", csr: csrPem, ttlSeconds: 3600 }), 409],
    [
      "an import whose key does not match the certificate",
      () =>
        request(t.app)
          .post("/v1/authorities/import")
          .set(ADMIN)
          .send({ name: "audit-mismatch", certificate: readFileSync(path.join(workDir, "ca.crt"), "utf8"), privateKey: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString() }),
      400,
    ],
  ];

  it.each(refusals)("with %s add no audit row", async (_name, send, status) => {
    const before = await auditRows();
    const response = await send();
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    const after = await auditRows();
    expect(after.length).toBe(before.length);
    expect(after.at(-1)?.hash).toBe(before.at(-1)?.hash);
  });

  it("a replayed idempotent request adds no row either (it changes nothing)", async () => {
    const before = await auditRows();
    const replay = await request(t.app).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", "audit-idem-0001").send({ ca: "audit-ca", profile: "server", csr: csrPem });
    expect(replay.status).toBe(200);
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect((await auditRows()).length).toBe(before.length);
  });

  it("a successful request after the refusals extends the same chain by exactly one row", async () => {
    const before = await auditRows();
    const ok = await request(t.app).post("/v1/certificates").set(ADMIN).send(issue);
    expect(ok.status).toBe(201);
    const after = await auditRows();
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)?.prevHash).toBe(before.at(-1)?.hash);
    expect(after.at(-1)?.target).toBe(`certificate:${(ok.body as { id: string }).id}`);
    expect(chainProblems(after)).toEqual([]);
  });
});

// Concurrent issuance against one app (and, on PostgreSQL, two runtimes on one database, as two
// replicas would be): every certificate gets its own serial and id, the audit chain never forks,
// and concurrent retries with one Idempotency-Key yield one certificate.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHttpApp, openRuntime, type Runtime } from "../../src/app.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { AUDIT_GENESIS_HASH, auditEntryHash } from "../../src/infra/prisma/audit-log.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";
import { postgresqlTestUrl } from "../helpers/test-database.js";

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

interface IssuedJson {
  id: string;
  serialNumber: string;
}

let t: TestRuntime;
let workDir: string;
let csrPem: string;

const auditRows = async (): Promise<AuditRow[]> => t.runtime.storage.db.auditEvent.findMany({ orderBy: { seq: "asc" } });

/** The chain is one line: genesis first, each row points at the previous, no two rows share a parent, one head. */
async function expectLinearChain(): Promise<AuditRow[]> {
  const rows = await auditRows();
  expect(rows[0]?.prevHash).toBe(AUDIT_GENESIS_HASH);
  rows.forEach((row, i) => {
    if (i > 0) expect(row.prevHash, `seq ${row.seq}`).toBe(rows[i - 1]?.hash);
    expect(row.hash, `seq ${row.seq}`).toBe(auditEntryHash(row));
  });
  expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length); // no fork
  const referenced = new Set(rows.map((r) => r.prevHash));
  expect(rows.filter((r) => !referenced.has(r.hash))).toHaveLength(1); // one head
  return rows;
}

function issueBody(i: number): Record<string, unknown> {
  return i % 2 === 0
    ? { ca: "conc-ca", profile: "server", csr: csrPem }
    : { ca: "conc-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: `user-${i}` } };
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-conc-"));
  execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(workDir, "k.pem"), "-out", path.join(workDir, "r.csr"), "-subj", "/CN=conc.example.test", "-addext", "subjectAltName=DNS:conc.example.test"], { stdio: "ignore" });
  csrPem = readFileSync(path.join(workDir, "r.csr"), "utf8");
  t = await startTestRuntime();
  const ca = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "conc-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "Concurrency CA" } });
  expect(ca.status).toBe(201);
});

afterAll(async () => {
  await t?.close();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("concurrent issuance on one app", () => {
  it("50 at once (one reused CSR, and server-generated ECDSA keys) all succeed with unique serials and ids", async () => {
    const auditBefore = (await auditRows()).length;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => request(t.app).post("/v1/certificates").set(ADMIN).send(issueBody(i))));
    const problems = responses.filter((r) => r.status !== 201).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
    expect(problems).toEqual([]);
    const issued = responses.map((r) => r.body as IssuedJson);
    expect(new Set(issued.map((c) => c.id)).size).toBe(50);
    expect(new Set(issued.map((c) => c.serialNumber)).size).toBe(50);

    const stored = await t.runtime.storage.db.certificate.findMany({ where: { id: { in: issued.map((c) => c.id) } } });
    expect(stored).toHaveLength(50);
    expect(new Set(stored.map((c) => c.serialHex)).size).toBe(50);

    const rows = await expectLinearChain();
    const added = rows.slice(auditBefore);
    expect(added).toHaveLength(50);
    expect(new Set(added.map((r) => r.target))).toEqual(new Set(issued.map((c) => `certificate:${c.id}`)));
  });

  it("concurrent retries with one Idempotency-Key and one CSR body yield one certificate", async () => {
    const auditBefore = (await auditRows()).length;
    const key = "conc-idempotent-csr-0001";
    const responses = await Promise.all(Array.from({ length: 20 }, () => request(t.app).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", key).send(issueBody(0))));
    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    // The code path: every request that loses the insert race (unique requestedBy+idempotencyKey)
    // reads the winner's row and answers 200 with Idempotent-Replayed; only the winner gets 201.
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    for (const replay of responses.filter((r) => r.status === 200)) expect(replay.headers["idempotent-replayed"]).toBe("true");
    const ids = new Set(responses.map((r) => (r.body as IssuedJson).id));
    expect(ids.size).toBe(1);
    expect(new Set(responses.map((r) => (r.body as IssuedJson).serialNumber)).size).toBe(1);
    expect(await t.runtime.storage.db.certificate.count({ where: { idempotencyKey: key } })).toBe(1);
    const rows = await expectLinearChain();
    expect(rows.slice(auditBefore).map((r) => r.target)).toEqual([`certificate:${[...ids][0] ?? ""}`]);
  });

  it("concurrent retries with one Idempotency-Key for a server-generated key: one certificate, the others 409", async () => {
    const key = "conc-idempotent-keygen-0001";
    const body = { ca: "conc-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "idempotent-keygen" } };
    const responses = await Promise.all(Array.from({ length: 10 }, () => request(t.app).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", key).send(body)));
    const created = responses.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    // The key was returned once and is not stored, so a retry cannot be answered with it.
    expect(responses.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await t.runtime.storage.db.certificate.count({ where: { idempotencyKey: key } })).toBe(1);
    await expectLinearChain();
  });
});

describe.runIf(postgresqlTestUrl() !== undefined)("two runtimes on one PostgreSQL database (two replicas)", () => {
  let second: Runtime;
  let secondApp: Express;

  beforeAll(async () => {
    second = await openRuntime(t.config, createLogger("silent"));
    secondApp = buildHttpApp(second, { validateResponses: true });
  });
  afterAll(async () => {
    await second?.close();
  });

  it("issue concurrently with unique serials and one linear audit chain", async () => {
    const auditBefore = (await auditRows()).length;
    const apps = [t.app, secondApp];
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => request(apps[i % 2] as Express).post("/v1/certificates").set(ADMIN).send(issueBody(i))));
    expect(responses.filter((r) => r.status !== 201).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const issued = responses.map((r) => r.body as IssuedJson);
    expect(new Set(issued.map((c) => c.id)).size).toBe(60);
    expect(new Set(issued.map((c) => c.serialNumber)).size).toBe(60);
    const all = await t.runtime.storage.db.certificate.findMany({ select: { caId: true, serialHex: true } });
    expect(new Set(all.map((c) => `${c.caId}/${c.serialHex}`)).size).toBe(all.length);
    const rows = await expectLinearChain();
    expect(rows.length - auditBefore).toBe(60);
  });

  it("concurrent retries of one Idempotency-Key across both replicas yield one certificate", async () => {
    const key = "conc-idempotent-replicas-01";
    const apps = [t.app, secondApp];
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => request(apps[i % 2] as Express).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", key).send(issueBody(0))));
    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(responses.map((r) => (r.body as IssuedJson).id)).size).toBe(1);
    expect(await t.runtime.storage.db.certificate.count({ where: { idempotencyKey: key } })).toBe(1);
    await expectLinearChain();
  });
});

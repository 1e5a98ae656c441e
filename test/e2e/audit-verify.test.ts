// `kpki audit verify` (the built CLI, against the database of the run) passes on an untouched log
// and names the entry after a row is edited, deleted or reordered, and — given the head recorded
// earlier — when the newest entries were cut off. Each tampering is undone before the next.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent as Row } from "../../src/infra/prisma/generated/sqlite/client.js";
import { runKpki } from "../helpers/process.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";


let t: TestRuntime;
let rows: Row[];

const verify = (extra: readonly string[] = []) => runKpki(["audit", "verify", ...extra], { env: { KPKI_DATA_DIR: t.dataDir, DATABASE_URL: t.database.url, KPKI_LOG_LEVEL: "silent" } });
const db = () => t.runtime.storage.db;

/** Writes `row` back exactly as it was (all columns but seq). */
async function restore(row: Row): Promise<void> {
  await db().auditEvent.update({ where: { seq: row.seq }, data: { id: row.id, time: row.time, actor: row.actor, action: row.action, target: row.target, result: row.result, requestId: row.requestId, details: row.details, prevHash: row.prevHash, hash: row.hash } });
}

beforeAll(async () => {
  t = await startTestRuntime();
  for (const name of ["audit-a", "audit-b", "audit-c"]) {
    const created = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name, role: "reader" });
    expect(created.status).toBe(201);
  }
  const ca = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "audit-verify-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "Audit Verify CA" } });
  expect(ca.status).toBe(201);
  rows = (await db().auditEvent.findMany({ orderBy: { seq: "asc" } }));
  expect(rows.length).toBeGreaterThanOrEqual(6);
}, 60_000);

afterAll(async () => {
  await t.close();
});

const middle = () => rows[Math.floor(rows.length / 2)] as Row;

describe("kpki audit verify", () => {
  it("passes on the untouched log and prints the head", async () => {
    const result = await verify();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`audit log intact: ${rows.length} entries`);
    const last = rows.at(-1) as Row;
    expect(result.stdout).toContain(`head: seq ${last.seq} hash ${last.hash}`);
  });

  it("names an edited entry", async () => {
    const victim = middle();
    await db().auditEvent.update({ where: { seq: victim.seq }, data: { details: JSON.stringify({ note: "nothing happened here" }) } });
    try {
      const result = await verify();
      expect(result.code).toBe(5);
      expect(result.stdout).toContain("audit log BROKEN: 1 problem(s)");
      expect(result.stdout).toContain(`entry seq ${victim.seq} (id ${victim.id}, ${victim.action} on ${victim.target}) was edited`);
    } finally {
      await restore(victim);
    }
    expect((await verify()).code).toBe(0);
  });

  it("names where an entry was deleted", async () => {
    const victim = middle();
    const index = rows.indexOf(victim);
    const next = rows[index + 1] as Row;
    const before = rows[index - 1] as Row;
    await db().auditEvent.delete({ where: { seq: victim.seq } });
    try {
      const result = await verify();
      expect(result.code).toBe(5);
      expect(result.stdout).toContain(`entry seq ${next.seq} (id ${next.id}) does not follow entry seq ${before.seq}`);
    } finally {
      await db().auditEvent.create({ data: victim });
    }
    expect((await verify()).code).toBe(0);
  });

  it("names reordered entries (two rows' contents swapped)", async () => {
    const first = rows[2] as Row;
    const second = rows[3] as Row;
    // prevHash and id are unique: park one row on placeholder values while swapping.
    await db().auditEvent.update({ where: { seq: first.seq }, data: { id: "parked", prevHash: "parked" } });
    await db().auditEvent.update({ where: { seq: second.seq }, data: { id: first.id, time: first.time, actor: first.actor, action: first.action, target: first.target, result: first.result, requestId: first.requestId, details: first.details, prevHash: first.prevHash, hash: first.hash } });
    await db().auditEvent.update({ where: { seq: first.seq }, data: { id: second.id, time: second.time, actor: second.actor, action: second.action, target: second.target, result: second.result, requestId: second.requestId, details: second.details, prevHash: second.prevHash, hash: second.hash } });
    try {
      const result = await verify();
      expect(result.code).toBe(5);
      expect(result.stdout).toContain(`entry seq ${first.seq} (id ${second.id}) does not follow entry seq ${(rows[1] as Row).seq}`);
    } finally {
      await db().auditEvent.update({ where: { seq: first.seq }, data: { id: "parked", prevHash: "parked" } });
      await restore(second);
      await restore(first);
    }
    expect((await verify()).code).toBe(0);
  });

  it("with the head recorded earlier, names newest entries that were cut off", async () => {
    const last = rows.at(-1) as Row;
    const head = `${last.seq}:${last.hash}`;
    expect((await verify(["--expect-head", head])).code).toBe(0);
    await db().auditEvent.delete({ where: { seq: last.seq } });
    try {
      const shorter = await verify();
      expect(shorter.code).toBe(0); // a cut-off tail is still a valid chain by itself …
      const result = await verify(["--expect-head", head]);
      expect(result.code).toBe(5); // … but not against the head recorded before
      expect(result.stdout).toContain(`entry seq ${last.seq} recorded earlier is missing`);
    } finally {
      await db().auditEvent.create({ data: last });
    }
    expect((await verify(["--expect-head", "not-a-head"])).code).toBe(2);
  });
});

describe("GET /v1/audit", () => {
  it("an auditor reads the trail with filters and pages; a reader may not; the auditor may do nothing else", async () => {
    const auditor = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "the-auditor", role: "auditor" });
    expect(auditor.status, auditor.text).toBe(201);
    const bearer = { Authorization: `Bearer ${(auditor.body as { token: string }).token}` };
    const all = await request(t.app).get("/v1/audit?limit=500").set(bearer);
    expect(all.status, all.text).toBe(200);
    const items = (all.body as { items: { seq: number; action: string; hash: string }[] }).items;
    expect(items.map((item) => item.seq)).toEqual([...items.map((item) => item.seq)].sort((a, b) => a - b));
    expect(items.some((item) => item.action === "token.create")).toBe(true);
    const tokens = await request(t.app).get("/v1/audit?action=token.create&limit=2").set(bearer);
    expect((tokens.body as { items: { action: string }[] }).items.every((item) => item.action === "token.create")).toBe(true);
    const cursor = (tokens.body as { nextCursor?: string }).nextCursor;
    expect(cursor).toBeDefined();
    const next = await request(t.app).get(`/v1/audit?action=token.create&limit=2&cursor=${cursor ?? ""}`).set(bearer);
    expect((next.body as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect(JSON.stringify(all.body)).not.toContain((auditor.body as { token: string }).token);
    const reader = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "not-an-auditor", role: "reader" });
    expect((await request(t.app).get("/v1/audit").set({ Authorization: `Bearer ${(reader.body as { token: string }).token}` })).status).toBe(403);
    expect((await request(t.app).get("/v1/certificates").set(bearer)).status).toBe(403);
    expect((await request(t.app).get("/v1/audit?cursor=abc").set(bearer)).status).toBe(400);
  });
});

// KEK rotation and what it leaves behind (issue 5 item 2): per-version usage over REST, the
// migration report (which versions still decrypt), and the guard that keeps a version still used
// for decryption from being destroyed or retired unless forced — and that lets it go once the
// window has passed. Time is moved with the runtime's clock, which the usage counters read too.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, testClock, type TestClock, type TestRuntime } from "../helpers/runtime.js";

interface VersionJson {
  version: number;
  uid: string;
  state: string;
  encryptCount: number;
  decryptCount: number;
  lastEncryptAt?: string;
  lastDecryptAt?: string;
}
interface ReportJson {
  name: string;
  currentVersion: number;
  minDecryptionVersion: number;
  windowDays: number;
  since: string;
  generatedAt: string;
  versions: (VersionJson & { role: string; recentlyDecrypted: boolean })[];
  stillDecrypting: number[];
  safeMinDecryptionVersion: number;
}

const DAY = 86_400;
const b64 = (text: string) => Buffer.from(text).toString("base64");

let t: TestRuntime;
let clock: TestClock;

beforeAll(async () => {
  clock = testClock();
  t = await startTestRuntime({ clock });
});
afterAll(async () => {
  await t?.close();
});

async function call<T>(method: "get" | "post" | "patch" | "delete", path: string, body?: object, status = 200): Promise<T> {
  const agent = request(t.app)[method](path).set(ADMIN);
  const res = body === undefined ? await agent : await agent.send(body);
  expect(res.status, `${method.toUpperCase()} ${path} → ${res.status} ${res.text}`).toBe(status);
  return res.body as T;
}

const encrypt = async (key: string, text: string) => (await call<{ ciphertext: string }>("post", `/v1/keys/${key}/encrypt`, { plaintext: b64(text) })).ciphertext;
const decrypt = async (key: string, ciphertext: string) => Buffer.from((await call<{ plaintext: string }>("post", `/v1/keys/${key}/decrypt`, { ciphertext })).plaintext, "base64").toString();
const versionsOf = async (key: string) => (await call<{ versions: VersionJson[] }>("get", `/v1/keys/${key}`)).versions;
const report = (key: string, query = "") => call<ReportJson>("get", `/v1/keys/${key}/usage-report${query}`);

/** Audit rows of one action on one target, details parsed. */
async function auditDetails(action: string, target: string): Promise<Record<string, unknown>[]> {
  const rows = await t.runtime.storage.db.auditEvent.findMany({ where: { action, target }, orderBy: { seq: "asc" } });
  return rows.map((row) => JSON.parse(row.details) as Record<string, unknown>);
}

describe("a KEK rotation and its migration", () => {
  const KEY = "kek-a";
  let v1Ciphertext: string;

  beforeAll(async () => {
    await call("post", "/v1/keys", { name: KEY }, 201);
    v1Ciphertext = await encrypt(KEY, "secret under v1");
    expect((await call<{ currentVersion: number }>("post", `/v1/keys/${KEY}/rotate`)).currentVersion).toBe(2);
  });

  it("rotation changes what Encrypt uses; the old ciphertext still decrypts; per-version usage and state are visible", async () => {
    const v2Ciphertext = await encrypt(KEY, "secret under v2");
    expect(v1Ciphertext).toMatch(new RegExp(`^kpki:v1:${KEY}:1:`));
    expect(v2Ciphertext).toMatch(new RegExp(`^kpki:v1:${KEY}:2:`));
    expect(await decrypt(KEY, v1Ciphertext)).toBe("secret under v1");
    expect(await decrypt(KEY, v1Ciphertext)).toBe("secret under v1");
    expect(await decrypt(KEY, v2Ciphertext)).toBe("secret under v2");
    // The report writes this process's counted uses first, so they show at once.
    await report(KEY);
    const versions = await versionsOf(KEY);
    expect(versions.map((v) => [v.version, v.state, v.encryptCount, v.decryptCount])).toEqual([
      [1, "Deactivated", 1, 2],
      [2, "Active", 1, 1],
    ]);
    expect(Date.parse(versions[0]?.lastDecryptAt ?? "")).toBeGreaterThan(clock.now().getTime() - 60_000);
  });

  it("the usage report names version 1 as still decrypting, and how far the minimum can safely go", async () => {
    const body = await report(KEY);
    expect(body).toMatchObject({ name: KEY, currentVersion: 2, minDecryptionVersion: 1, windowDays: 30, stillDecrypting: [1], safeMinDecryptionVersion: 1 });
    expect(body.versions.map((v) => [v.version, v.role, v.recentlyDecrypted])).toEqual([
      [1, "decrypt-only", true],
      [2, "current", true],
    ]);
    expect(Date.parse(body.generatedAt) - Date.parse(body.since)).toBe(30 * DAY * 1000);
  });

  it("destroying version 1 is refused with 409 naming its last decryption; nothing changes", async () => {
    const [v1] = await versionsOf(KEY);
    const refused = await request(t.app).delete(`/v1/objects/${v1?.uid ?? ""}`).set(ADMIN);
    const problem = expectProblem(refused, { status: 409, code: "conflict", field: "uid", detail: `refusing to destroy version 1 of named key ${KEY}: named key ${KEY} version 1 decrypted 2 times, last at ${v1?.lastDecryptAt ?? "?"}` });
    expect(problem).toMatchObject({ kmipResultReason: "Illegal Operation" });
    expect(problem.detail).toContain("KPKI_KEY_RECENT_USE_DAYS");
    expect((await call<{ state: string }>("get", `/v1/objects/${v1?.uid ?? ""}`)).state).toBe("Deactivated");
    expect(await decrypt(KEY, v1Ciphertext)).toBe("secret under v1");
    // A batch has no force: its Destroy item is refused the same way.
    const batch = await call<{ items: { status: string; error?: { kmipResultReason: string } }[] }>("post", "/v1/batch", { items: [{ operation: "Destroy", uid: v1?.uid }] });
    expect(batch.items[0]).toMatchObject({ status: "Failed", error: { kmipResultReason: "Illegal Operation" } });
  });

  it("raising the minimum decryption version over version 1 is refused too; raising it to 1 (no change) is not", async () => {
    const refused = await request(t.app).patch(`/v1/keys/${KEY}`).set(ADMIN).send({ minDecryptionVersion: 2 });
    expectProblem(refused, { status: 409, code: "conflict", field: "minDecryptionVersion", detail: `refusing to raise the minimum decryption version of ${KEY} to 2` });
    expect((await call<{ minDecryptionVersion: number; rotatePeriodSeconds?: number }>("patch", `/v1/keys/${KEY}`, { minDecryptionVersion: 1, rotatePeriodSeconds: 7 * DAY })).rotatePeriodSeconds).toBe(7 * DAY);
  });

  it("after rewrapping, version 1 stays 'recent' until the window has passed; then the report is clear and retiring it is allowed", async () => {
    const rewrapped = (await call<{ ciphertext: string }>("post", `/v1/keys/${KEY}/rewrap`, { ciphertext: v1Ciphertext })).ciphertext;
    expect(rewrapped).toMatch(new RegExp(`^kpki:v1:${KEY}:2:`));
    clock.advance(29 * DAY);
    expect((await report(KEY)).stillDecrypting).toEqual([1]); // the rewrap decrypted with version 1, 29 days ago
    clock.advance(1 * DAY + 60);
    const cleared = await report(KEY);
    expect(cleared.stillDecrypting).toEqual([]);
    expect(cleared.safeMinDecryptionVersion).toBe(2);
    expect(cleared.versions.map((v) => v.recentlyDecrypted)).toEqual([false, false]);
    // A longer window on request still sees it.
    expect((await report(KEY, "?windowDays=31")).stillDecrypting).toEqual([1]);
    expect(await decrypt(KEY, rewrapped)).toBe("secret under v1");

    const retired = await call<{ minDecryptionVersion: number }>("patch", `/v1/keys/${KEY}`, { minDecryptionVersion: 2 });
    expect(retired.minDecryptionVersion).toBe(2);
    const [v1] = await versionsOf(KEY);
    expect((await call<{ state: string }>("delete", `/v1/objects/${v1?.uid ?? ""}`)).state).toBe("Destroyed");
    expect(await auditDetails("key.destroy", `key:${v1?.uid ?? ""}`)).toEqual([expect.not.objectContaining({ forced: expect.anything() as unknown })]);
    expect((await report(KEY)).versions.map((v) => v.role)).toEqual(["destroyed", "current"]);
  });
});

describe("forcing", () => {
  const KEY = "kek-b";

  it("force=true destroys a recently used version and the audit record says it was forced, with the last decryption", async () => {
    await call("post", "/v1/keys", { name: KEY }, 201);
    const old = await encrypt(KEY, "old data");
    await call("post", `/v1/keys/${KEY}/rotate`);
    expect(await decrypt(KEY, old)).toBe("old data");
    const [v1] = (await report(KEY)).versions;
    expect(v1?.recentlyDecrypted).toBe(true);

    const destroyed = await call<{ state: string }>("delete", `/v1/objects/${v1?.uid ?? ""}?force=true`);
    expect(destroyed.state).toBe("Destroyed");
    expect(await auditDetails("key.destroy", `key:${v1?.uid ?? ""}`)).toEqual([expect.objectContaining({ forced: "true", lastDecryptAt: v1?.lastDecryptAt })]);
    const gone = await request(t.app).post(`/v1/keys/${KEY}/decrypt`).set(ADMIN).send({ ciphertext: old });
    expect(expectProblem(gone, { status: 409, code: "wrong_state" })).toMatchObject({ kmipResultReason: "Object Destroyed" });
  });

  it("force=true raises the minimum decryption version over a recently used version, audited as forced", async () => {
    const key = "kek-c";
    await call("post", "/v1/keys", { name: key }, 201);
    const old = await encrypt(key, "old data");
    await call("post", `/v1/keys/${key}/rotate`);
    expect(await decrypt(key, old)).toBe("old data");
    expect((await call<{ minDecryptionVersion: number }>("patch", `/v1/keys/${key}?force=true`, { minDecryptionVersion: 2 })).minDecryptionVersion).toBe(2);
    const [details] = await auditDetails("named-key.update", `named-key:${key}`);
    expect(details).toMatchObject({ minDecryptionVersion: 2, forced: true });
    expect(String(details?.recentlyDecryptedVersions)).toMatch(/^1@\d{4}-/);
  });

  it("force=false is no force, and a bad windowDays is a 400", async () => {
    const key = "kek-d";
    await call("post", "/v1/keys", { name: key }, 201);
    const old = await encrypt(key, "x");
    await call("post", `/v1/keys/${key}/rotate`);
    await decrypt(key, old);
    expectProblem(await request(t.app).patch(`/v1/keys/${key}?force=false`).set(ADMIN).send({ minDecryptionVersion: 2 }), { status: 409, code: "conflict" });
    // Refusals that have nothing to do with recent use come first, with their own reasons.
    expectProblem(await request(t.app).patch(`/v1/keys/${key}`).set(ADMIN).send({ minDecryptionVersion: 3 }), { status: 400, code: "invalid_input", detail: "minDecryptionVersion: 1–2 (the current version)" });
    const current = (await versionsOf(key))[1];
    await decrypt(key, await encrypt(key, "y"));
    const active = await request(t.app).delete(`/v1/objects/${current?.uid ?? ""}`).set(ADMIN);
    expect(expectProblem(active, { status: 409, code: "wrong_state", detail: "revoke (deactivate) it first" })).toMatchObject({ kmipResultReason: "Wrong Key Lifecycle State" });
    expectProblem(await request(t.app).get(`/v1/keys/${key}/usage-report?windowDays=0`).set(ADMIN), { status: 400, code: "invalid_input" });
    expectProblem(await request(t.app).get(`/v1/keys/${key}/usage-report?windowDays=many`).set(ADMIN), { status: 400, code: "invalid_input" });
    expectProblem(await request(t.app).get("/v1/keys/no-such-key/usage-report").set(ADMIN), { status: 404, code: "not_found" });
  });

  it("a managed object that is not a named-key version is destroyed as before (KMIP Destroy, no usage guard)", async () => {
    const object = await call<{ uid: string }>("post", "/v1/objects", { objectType: "SymmetricKey", algorithm: "AES", activate: true }, 201);
    const sealed = await call<{ ciphertext: string; iv: string; tag: string }>("post", `/v1/objects/${object.uid}/encrypt`, { plaintext: b64("x") });
    await call("post", `/v1/objects/${object.uid}/decrypt`, { ciphertext: sealed.ciphertext, iv: sealed.iv, tag: sealed.tag });
    await call("post", `/v1/objects/${object.uid}/revoke`, { reason: "CessationOfOperation" });
    expect((await call<{ state: string }>("delete", `/v1/objects/${object.uid}`)).state).toBe("Destroyed");
  });
});

describe("KPKI_KEY_RECENT_USE_DAYS", () => {
  it("sets the window of the guard and the report's default", async () => {
    const shortClock = testClock();
    const short = await startTestRuntime({ clock: shortClock, env: { KPKI_KEY_RECENT_USE_DAYS: "7" } });
    try {
      const send = <T>(method: "get" | "post" | "patch", path: string, body?: object) => (body === undefined ? request(short.app)[method](path).set(ADMIN) : request(short.app)[method](path).set(ADMIN).send(body)).then((res) => res.body as T);
      await send("post", "/v1/keys", { name: "kek-e" });
      const { ciphertext } = await send<{ ciphertext: string }>("post", "/v1/keys/kek-e/encrypt", { plaintext: b64("x") });
      await send("post", "/v1/keys/kek-e/rotate");
      await send("post", "/v1/keys/kek-e/decrypt", { ciphertext });
      expect(await send<ReportJson>("get", "/v1/keys/kek-e/usage-report")).toMatchObject({ windowDays: 7, stillDecrypting: [1] });
      const refused = await request(short.app).patch("/v1/keys/kek-e").set(ADMIN).send({ minDecryptionVersion: 2 });
      expectProblem(refused, { status: 409, code: "conflict", detail: "within the last 7 days" });
      shortClock.advance(7 * DAY + 1);
      expect((await request(short.app).patch("/v1/keys/kek-e").set(ADMIN).send({ minDecryptionVersion: 2 })).status).toBe(200);
    } finally {
      await short.close();
    }
  });
});

// GET /readyz against a real database (SQLite, or PostgreSQL under TEST_DATABASE_URL): ready when
// the database answers and the loaded master key opens the database's key check; 503 with a
// problem naming the check otherwise — here, after another replica rotated the master key.
// (An unreachable database: http-contract.test.ts in process, serve-shutdown.test.ts on a process.)
import { randomBytes } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../src/infra/crypto/master-key.js";
import { MASTER_KEY_CHECK_SETTING, createMasterKeyCheck } from "../../src/infra/crypto/master-key-check.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { expectProblem } from "../helpers/problem.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

describe("GET /readyz", () => {
  it("is 200 with each check ok while the database answers and the master key matches it", async () => {
    const res = await request(t.app).get("/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", checks: { database: "ok", masterKey: "ok" } });
  });

  it("is 503 naming the master key once the database's key check was made with another key (a rotation elsewhere)", async () => {
    const loaded = t.runtime.storage.keyRing.current;
    const rotated = await loadMasterKey({ kind: "env", base64: randomBytes(32).toString("base64") });
    const original = await t.runtime.uow.read((r) => r.settings.get(MASTER_KEY_CHECK_SETTING));
    await t.runtime.uow.run((r) => r.settings.set(MASTER_KEY_CHECK_SETTING, createMasterKeyCheck(rotated, new NodeRandomSource()), new Date()));
    try {
      const res = await request(t.app).get("/readyz");
      expectProblem(res, { status: 503, code: "unavailable", detail: `masterKey: the loaded master key ${loaded.id} does not open the database's key check (made with ${rotated.id})` });
      expect(JSON.parse(res.text)).not.toMatchObject({ detail: expect.stringContaining("database:") });
    } finally {
      await t.runtime.uow.run((r) => r.settings.set(MASTER_KEY_CHECK_SETTING, original ?? "", new Date()));
    }
    expect((await request(t.app).get("/readyz")).status).toBe(200);
  });
});

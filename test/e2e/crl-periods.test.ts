// CRL numbering and periods with a clock the test moves (RFC 5280 §5.2.3, §5.2.4, §5.1.2.5): a new
// base CRL on schedule empties the delta, a delta lists only what its base does not, a CRL past
// half its validity is reissued, numbers only go up (also when two writers race), on the real
// database of the run (SQLite, or PostgreSQL under TEST_DATABASE_URL). openssl reads every CRL.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM } from "../../src/core/access/index.js";
import { CrlService, RevocationService, type CrlRecord } from "../../src/core/pki/index.js";
import { opensslRun } from "../helpers/openssl.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

let t: TestRuntime;
let now = new Date();
const clock = { now: () => now };
const advance = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};
let crls: CrlService;
let revocation: RevocationService;
const context = { principal: SYSTEM, requestId: "crl-periods" };
const CA = "periods-ca";

interface CrlView {
  readonly number: number;
  readonly baseNumber?: number;
  readonly serials: readonly string[];
  readonly thisUpdate: string;
}

/** What openssl reads in a DER CRL. */
function view(crl: CrlRecord): CrlView {
  const run = opensslRun(["crl", "-inform", "DER", "-text", "-noout"], Buffer.from(crl.der));
  expect(run.status, run.stderr).toBe(0);
  const base = /Delta CRL Indicator: critical\s*\n\s*(\d+)/.exec(run.stdout)?.[1];
  return {
    number: Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(run.stdout)?.[1] ?? "NaN"),
    ...(base === undefined ? {} : { baseNumber: Number(base) }),
    serials: [...run.stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => (m[1] ?? "").toLowerCase()).sort(),
    thisUpdate: /Last Update: (.+)/.exec(run.stdout)?.[1] ?? "",
  };
}

async function issue(commonName: string): Promise<{ id: string; serialNumber: string }> {
  const response = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: CA, profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName }, subjectAltNames: [`DNS:${commonName}`] });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; serialNumber: string };
}

beforeAll(async () => {
  t = await startTestRuntime();
  const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: CA, type: "intermediate", parent: "kpki-root", subject: { commonName: "Periods CA" } });
  expect(created.status, created.text).toBe(201);
  crls = new CrlService({ uow: t.runtime.uow, crypto: t.runtime.crypto, clock });
  revocation = new RevocationService({ uow: t.runtime.uow, clock, crls });
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe("CRL periods and numbering", () => {
  let a: { id: string; serialNumber: string };
  let b: { id: string; serialNumber: string };
  let firstBase: CrlView;

  it("the first CRL is an empty base with an empty delta relative to it", async () => {
    a = await issue("a.periods.test");
    b = await issue("b.periods.test");
    firstBase = view(await crls.current(CA, "full"));
    const delta = view(await crls.current(CA, "delta"));
    expect(firstBase.serials).toEqual([]);
    expect(firstBase.baseNumber).toBeUndefined();
    expect(delta).toMatchObject({ baseNumber: firstBase.number, serials: [] });
    expect(delta.number).toBe(firstBase.number + 1);
  });

  it("a revocation: the complete CRL and the delta list it at once", async () => {
    advance(60);
    await revocation.revoke(context, a.id, "keyCompromise");
    const full = view(await crls.current(CA, "full"));
    const delta = view(await crls.current(CA, "delta"));
    expect(full.serials).toEqual([a.serialNumber]);
    expect(delta).toMatchObject({ baseNumber: firstBase.number, serials: [a.serialNumber] });
    expect(full.number).toBeGreaterThan(firstBase.number + 1);
  });

  it("the scheduled refresh makes a new base after the base period; the delta is empty again", async () => {
    expect(await crls.refreshDue()).not.toContain(CA); // not due yet (CAs without any CRL are)
    advance(25 * 3600);
    expect(await crls.refreshDue()).toContain(CA);
    const base = view(await crls.current(CA, "full"));
    const delta = view(await crls.current(CA, "delta"));
    expect(base.serials).toEqual([a.serialNumber]);
    expect(delta).toMatchObject({ baseNumber: base.number, serials: [] });
  });

  it("a delta lists only what its base does not", async () => {
    advance(60);
    await revocation.revoke(context, b.id, "superseded");
    const full = view(await crls.current(CA, "full"));
    const delta = view(await crls.current(CA, "delta"));
    expect(full.serials).toEqual([a.serialNumber, b.serialNumber].sort());
    expect(delta.serials).toEqual([b.serialNumber]);
  });

  it("a CRL past half its validity is reissued with a higher number; a fresh one is served as it is", async () => {
    const before = view(await crls.current(CA, "full"));
    advance(60);
    expect(view(await crls.current(CA, "full"))).toEqual(before);
    advance(4 * 86_400); // past half of the 7-day validity
    const after = view(await crls.current(CA, "full"));
    expect(after.number).toBeGreaterThan(before.number);
    expect(after.thisUpdate).not.toBe(before.thisUpdate);
    expect(after.serials).toEqual(before.serials);
  });

  it("writers racing for the next number all succeed with distinct, increasing numbers", async () => {
    const ca = await t.runtime.uow.read((r) => r.authorities.findByName(CA));
    if (ca === undefined) throw new Error("CA missing");
    advance(1);
    const before = await t.runtime.uow.read((r) => r.crls.highestNumber(ca.id));
    await Promise.all([crls.revoked(ca), crls.revoked(ca), crls.revoked(ca)]);
    const after = await t.runtime.uow.read((r) => r.crls.highestNumber(ca.id));
    expect(after - before).toBe(6n); // three complete CRLs and three deltas, none lost, none shared
  });
});

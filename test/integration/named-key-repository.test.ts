// PrismaNamedKeyRepository against a real database (SQLite; PostgreSQL under TEST_DATABASE_URL):
// named keys round-trip with and without a rotation period, update replaces what may change, names
// are unique, and the listing is ordered by name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NamedKey } from "../../src/core/kms/named-key.js";
import type { Repositories } from "../../src/infra/prisma/prisma-unit-of-work.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const CREATED = new Date("2027-01-01T00:00:00.000Z");
const later = (seconds: number): Date => new Date(CREATED.getTime() + seconds * 1000);

let t: TestRuntime;

function namedKey(name: string, overrides: Partial<NamedKey> = {}): NamedKey {
  return { name, algorithm: "AES-256-GCM", currentVersion: 1, minDecryptionVersion: 1, lastRotatedAt: CREATED, createdAt: CREATED, updatedAt: CREATED, ...overrides };
}

const run = <T>(work: (repositories: Repositories) => Promise<T>): Promise<T> => t.runtime.uow.run(work);
const find = (name: string) => t.runtime.uow.read((r) => r.namedKeys.findByName(name));

beforeAll(async () => {
  t = await startTestRuntime();
});

afterAll(async () => {
  await t?.close();
});

describe("named keys", () => {
  const cases: { name: string; key: NamedKey }[] = [
    { name: "AES-256-GCM without a rotation period", key: namedKey("orders") },
    { name: "AES-128-GCM rotated every 30 days, later versions", key: namedKey("kube-secrets", { algorithm: "AES-128-GCM", rotatePeriodSeconds: 30 * 86_400, currentVersion: 4, minDecryptionVersion: 2, lastRotatedAt: later(60) }) },
  ];

  it.each(cases)("round trip: $name", async ({ key }) => {
    await run((r) => r.namedKeys.create(key));
    expect(await find(key.name)).toEqual(key);
  });

  it("an unknown name reads as undefined", async () => {
    expect(await find("no-such-key")).toBeUndefined();
  });

  it("a name that exists → already_exists", async () => {
    await run((r) => r.namedKeys.create(namedKey("taken")));
    await expect(run((r) => r.namedKeys.create(namedKey("taken", { algorithm: "AES-128-GCM" })))).rejects.toMatchObject({ code: "already_exists", message: expect.stringContaining("taken") });
    expect((await find("taken"))?.algorithm).toBe("AES-256-GCM");
  });

  const updates: { name: string; change: Partial<NamedKey> }[] = [
    { name: "rotation: next version, rotation date", change: { currentVersion: 2, lastRotatedAt: later(10), updatedAt: later(10) } },
    { name: "raise the minimum decryption version", change: { minDecryptionVersion: 2, updatedAt: later(20) } },
    { name: "set a rotation period", change: { rotatePeriodSeconds: 3600, updatedAt: later(30) } },
    { name: "clear the rotation period", change: { rotatePeriodSeconds: undefined, updatedAt: later(40) } },
  ];

  it("update replaces the mutable fields, step by step", async () => {
    let current = namedKey("rotating", { rotatePeriodSeconds: 600 });
    await run((r) => r.namedKeys.create(current));
    for (const { name, change } of updates) {
      current = { ...current, ...change };
      await run((r) => r.namedKeys.update(current));
      expect(await find("rotating"), name).toEqual(current);
    }
  });

  it("update of an unknown name → not_found", async () => {
    await expect(run((r) => r.namedKeys.update(namedKey("ghost")))).rejects.toMatchObject({ code: "not_found" });
  });

  it("list returns every key, ordered by name", async () => {
    await run((r) => r.namedKeys.create(namedKey("aaa-first")));
    const names = (await t.runtime.uow.read((r) => r.namedKeys.list())).map((k) => k.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["aaa-first", "orders", "kube-secrets", "taken", "rotating"]));
    expect(names[0]).toBe("aaa-first");
  });
});

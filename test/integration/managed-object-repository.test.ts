// PrismaManagedObjectRepository against a real database (SQLite; PostgreSQL under
// TEST_DATABASE_URL): every attribute round-trips, Update replaces the sets, Destroy erases the
// sealed key and keeps the metadata, Locate matches an in-memory oracle (key-state.ts
// `effectiveState` for states) for each filter, their combinations and every page size, named-key
// versions are unique even when two writers race, and usage counters add up under concurrency.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyPairHandle } from "../../src/core/crypto/key-handle.js";
import { effectiveState } from "../../src/core/kms/key-state.js";
import { OBJECT_TYPES, STATES, usageMask, type State } from "../../src/core/kms/kmip-vocabulary.js";
import type { ManagedObject } from "../../src/core/kms/managed-object.js";
import type { DateRange, LocateQuery } from "../../src/core/kms/ports.js";
import { newId } from "../../src/core/shared/ids.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { locateUidsSql } from "../../src/infra/prisma/managed-object-locate.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const NOW = new Date("2027-01-01T00:00:00.000Z");
const DAY_MS = 86_400_000;
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY_MS);
const random = new NodeRandomSource();

let t: TestRuntime;
let keys: KeyPairHandle[];
/** Every object this file stored, as last written: the oracle Locate is checked against. */
const stored = new Map<string, ManagedObject>();

/** UUIDv7s one millisecond apart: uid order is creation order. */
let clockMs = Date.parse("2026-06-01T00:00:00Z");
const nextUid = (): string => newId(new Date((clockMs += 1)), random);

/** A minimal object (no optional attribute), with overrides. */
function object(overrides: Partial<ManagedObject> = {}): ManagedObject {
  return {
    uid: nextUid(),
    objectType: "OpaqueObject",
    usageMask: 0,
    state: "Pre-Active",
    names: [],
    initialDate: at(-30),
    links: [],
    sensitive: false,
    extractable: true,
    customAttributes: {},
    lastChangeDate: at(-30),
    createdBy: "test:managed-objects",
    ...overrides,
  };
}

const repos = () => t.runtime.uow;
async function create(o: ManagedObject): Promise<void> {
  await repos().run((r) => r.managedObjects.create(o));
  stored.set(o.uid, o);
}
/**
 * How an update finds what is stored: read again under the row lock, or handed the object
 * findForUpdate read in the same transaction (a read-change-write).
 */
const UPDATE_MODES = ["re-read", "read for update"] as const;
async function update(o: ManagedObject, mode: (typeof UPDATE_MODES)[number] = "re-read"): Promise<void> {
  await repos().run(async (r) => (mode === "re-read" ? r.managedObjects.update(o) : r.managedObjects.update(o, await r.managedObjects.findForUpdate(o.uid))));
  stored.set(o.uid, o);
}
const find = (uid: string) => repos().read((r) => r.managedObjects.findByUid(uid));

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
/** An object in a form where sets compare as sets and bytes as hex. */
function comparable(o: ManagedObject | undefined) {
  if (o === undefined) return undefined;
  return {
    ...o,
    names: [...new Set(o.names)].sort(),
    links: [...new Map(o.links.map((l) => [`${l.type} ${l.uid}`, l])).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, l]) => l),
    key: o.key === undefined ? undefined : { ...o.key, ref: hex(o.key.ref) },
    publicKeySpki: o.publicKeySpki === undefined ? undefined : hex(o.publicKeySpki),
  };
}

function inRange(date: Date | undefined, range: DateRange | undefined): boolean {
  if (range === undefined || (range.from === undefined && range.to === undefined)) return true;
  if (date === undefined) return false;
  return (range.from === undefined || date >= range.from) && (range.to === undefined || date < range.to);
}

/** What Locate must return: the oracle over everything stored, in uid order. */
function expected(q: Omit<LocateQuery, "limit">): string[] {
  return [...stored.values()]
    .filter(
      (o) =>
        (q.name === undefined || o.names.includes(q.name)) &&
        (q.objectType === undefined || o.objectType === q.objectType) &&
        (q.algorithm === undefined || o.algorithm === q.algorithm) &&
        (q.state === undefined || effectiveState(o, q.now) === q.state) &&
        (q.customAttribute === undefined || o.customAttributes[q.customAttribute.name] === q.customAttribute.value) &&
        inRange(o.initialDate, q.initialDate) &&
        inRange(o.activationDate, q.activationDate) &&
        inRange(o.deactivationDate, q.deactivationDate) &&
        (q.after === undefined || o.uid > q.after),
    )
    .map((o) => o.uid)
    .sort();
}

/** Follows nextCursor to the end; checks every page's size and cursor. */
async function locateAll(q: Omit<LocateQuery, "limit">, limit: number): Promise<{ uids: string[]; pages: number }> {
  const uids: string[] = [];
  let after = q.after;
  for (let pages = 1; ; pages++) {
    const page = await repos().read((r) => r.managedObjects.locate({ ...q, limit, ...(after === undefined ? {} : { after }) }));
    expect(page.items.length).toBeLessThanOrEqual(limit);
    uids.push(...page.items.map((o) => o.uid));
    if (page.nextCursor === undefined) return { uids, pages };
    expect(page.items.length).toBe(limit);
    expect(page.nextCursor).toBe(page.items.at(-1)?.uid);
    after = page.nextCursor;
  }
}

beforeAll(async () => {
  t = await startTestRuntime();
  keys = await Promise.all(Array.from({ length: 4 }, () => t.runtime.crypto.generateKeyPair("ECDSA-P256")));
});

afterAll(async () => {
  await t?.close();
});

describe("create and read back", () => {
  const everything = (): ManagedObject =>
    object({
      objectType: "SymmetricKey",
      algorithm: "AES",
      length: 256,
      usageMask: usageMask(["Encrypt", "Decrypt"]),
      state: "Compromised",
      names: ["app-key", "app-key-alias"],
      activationDate: at(-20),
      deactivationDate: at(-10),
      destroyDate: at(-5),
      compromiseDate: at(-4),
      compromiseOccurrenceDate: at(-12),
      revocationReason: { code: "KeyCompromise", message: "laptop stolen" },
      links: [
        { type: "ReplacedObjectLink", uid: nextUid() },
        { type: "ReplacementObjectLink", uid: nextUid() },
      ],
      sensitive: true,
      extractable: false,
      customAttributes: { "x-owner": "team-a", "x-ticket": "SEC-42" },
      lastChangeDate: at(-4),
      key: keys[0]!.handle,
      version: { name: "roundtrip-key", version: 3 },
    });
  const cases: { name: string; make: () => ManagedObject }[] = [
    { name: "every optional attribute set (symmetric key, named-key version)", make: everything },
    { name: "no optional attribute set (opaque object)", make: () => object() },
    {
      name: "private key: sealed key and its public key, links to the public key",
      make: () =>
        object({ objectType: "PrivateKey", algorithm: "EC", length: 256, curve: "P-256", usageMask: usageMask(["Sign"]), key: keys[1]!.handle, publicKeySpki: keys[1]!.publicKeySpki, links: [{ type: "PublicKeyLink", uid: nextUid() }] }),
    },
    { name: "public key: SPKI only, no key material", make: () => object({ objectType: "PublicKey", algorithm: "EC", curve: "P-384", length: 384, publicKeySpki: keys[2]!.publicKeySpki }) },
    { name: "revocation reason without message", make: () => object({ state: "Deactivated", revocationReason: { code: "Superseded" }, activationDate: at(-3), deactivationDate: at(-1) }) },
    { name: "a name and a link given twice are stored once", make: () => object({ names: ["twice", "twice"], links: [{ type: "PublicKeyLink", uid: "u-1" }, { type: "PublicKeyLink", uid: "u-1" }] }) },
  ];

  it.each(cases)("$name", async ({ make }) => {
    const o = make();
    await create(o);
    expect(comparable(await find(o.uid))).toEqual(comparable(o));
    if (o.version !== undefined) {
      const byVersion = await repos().read((r) => r.managedObjects.findVersion(o.version!.name, o.version!.version));
      expect(comparable(byVersion)).toEqual(comparable(o));
    }
  });

  it("unknown uid and unknown version read as undefined", async () => {
    expect(await find(nextUid())).toBeUndefined();
    expect(await repos().read((r) => r.managedObjects.findVersion("roundtrip-key", 99))).toBeUndefined();
  });

  it("a uid or a named-key version that exists → already_exists, and the transaction leaves nothing behind", async () => {
    const first = object({ key: keys[3]!.handle, version: { name: "dup-key", version: 1 } });
    await create(first);
    await expect(repos().run((r) => r.managedObjects.create({ ...first, version: { name: "dup-key", version: 2 } }))).rejects.toMatchObject({ code: "already_exists" });
    const sameVersion = object({ key: keys[3]!.handle, version: { name: "dup-key", version: 1 } });
    await expect(repos().run((r) => r.managedObjects.create(sameVersion))).rejects.toMatchObject({ code: "already_exists", message: expect.stringContaining("version 1 of named key dup-key") });
    expect(await find(sameVersion.uid)).toBeUndefined();
    expect(await t.runtime.storage.db.keyMaterial.findUnique({ where: { id: `mo-key:${sameVersion.uid}` } })).toBeNull();
  });

  it("two writers creating the same next version at once: one wins, the other gets already_exists", async () => {
    const racers = [object({ version: { name: "race-key", version: 2 } }), object({ version: { name: "race-key", version: 2 } })];
    const results = await Promise.allSettled(racers.map((o) => repos().run((r) => r.managedObjects.create(o))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "already_exists" } });
    const winner = racers[results.findIndex((r) => r.status === "fulfilled")]!;
    stored.set(winner.uid, winner);
    expect((await repos().read((r) => r.managedObjects.findVersion("race-key", 2)))?.uid).toBe(winner.uid);
  });
});

describe("update", () => {
  const transitions: { name: string; before: Partial<ManagedObject>; after: Partial<ManagedObject> }[] = [
    {
      name: "sets replaced: some kept, some dropped, some added, an attribute value changed",
      before: { names: ["a", "b"], links: [{ type: "PublicKeyLink", uid: "p1" }, { type: "ReplacedObjectLink", uid: "r1" }], customAttributes: { "x-a": "1", "x-b": "2" } },
      after: { names: ["b", "c"], links: [{ type: "ReplacedObjectLink", uid: "r1" }, { type: "ReplacementObjectLink", uid: "n1" }], customAttributes: { "x-b": "3", "x-c": "4" } },
    },
    { name: "sets emptied", before: { names: ["a"], links: [{ type: "PublicKeyLink", uid: "p1" }], customAttributes: { "x-a": "1" } }, after: { names: [], links: [], customAttributes: {} } },
    { name: "sets filled from empty", before: {}, after: { names: ["n"], links: [{ type: "PrivateKeyLink", uid: "k" }], customAttributes: { "x-n": "v" } } },
    {
      name: "state, dates, flags, usage mask and revocation replaced",
      before: { state: "Pre-Active", activationDate: at(5), usageMask: usageMask(["Encrypt"]) },
      after: { state: "Deactivated", activationDate: at(-2), deactivationDate: at(-1), revocationReason: { code: "CessationOfOperation", message: "retired" }, sensitive: true, extractable: false, usageMask: usageMask(["Decrypt"]), lastChangeDate: at(-1) },
    },
    { name: "optional dates and revocation cleared", before: { activationDate: at(-2), deactivationDate: at(-1), revocationReason: { code: "Unspecified" } }, after: { activationDate: undefined, deactivationDate: undefined, revocationReason: undefined } },
  ];

  it.each(transitions.flatMap((transition) => UPDATE_MODES.map((mode) => ({ ...transition, mode }))))("$name ($mode)", async ({ before, after, mode }) => {
    const original = object(before);
    await create(original);
    const changed: ManagedObject = { ...original, ...after };
    await update(changed, mode);
    expect(comparable(await find(original.uid))).toEqual(comparable(changed));
  });

  it.each(UPDATE_MODES)("Destroy erases the sealed key (key_materials row keeps its id, public key and date) and keeps the object (%s)", async (mode) => {
    const key = await t.runtime.crypto.generateKeyPair("ECDSA-P256");
    const live = object({ objectType: "PrivateKey", algorithm: "EC", curve: "P-256", state: "Deactivated", activationDate: at(-3), deactivationDate: at(-2), key: key.handle, publicKeySpki: key.publicKeySpki, names: ["doomed"] });
    await create(live);
    const { key: _erased, ...rest } = live;
    const destroyed: ManagedObject = { ...rest, state: "Destroyed", destroyDate: at(-1), lastChangeDate: at(-1) };
    await update(destroyed, mode);

    const read = await find(live.uid);
    expect(read?.key).toBeUndefined();
    expect(comparable(read)).toEqual(comparable(destroyed));
    const row = await t.runtime.storage.db.keyMaterial.findUnique({ where: { id: `mo-key:${live.uid}` } });
    expect(row).toMatchObject({ sealedRef: null, masterKeyId: null, destroyedAt: at(-1) });
    expect(hex(row!.publicKeySpki)).toBe(hex(key.publicKeySpki));
    const objectRow = await t.runtime.storage.db.managedObject.findUnique({ where: { uid: live.uid } });
    expect(objectRow?.keyMaterialId).toBe(`mo-key:${live.uid}`);
    // A second update of the destroyed object changes nothing about the key.
    await update({ ...destroyed, names: ["doomed", "still-listed"] }, mode);
    expect((await t.runtime.storage.db.keyMaterial.findUnique({ where: { id: `mo-key:${live.uid}` } }))?.destroyedAt).toEqual(at(-1));
  });

  it("an unknown uid → not_found", async () => {
    await expect(repos().run((r) => r.managedObjects.update(object()))).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("locate", () => {
  const past = at(-1);
  const future = at(1);
  /** Date options of the effective-state matrix: none, past, exactly now, future. */
  const DATES: (Date | undefined)[] = [undefined, past, NOW, future];

  beforeAll(async () => {
    // The effective-state matrix: every stored state × activation date × deactivation date.
    for (const state of ["Pre-Active", "Active", "Deactivated", "Compromised", "Destroyed"] as const) {
      for (const activationDate of DATES) {
        for (const deactivationDate of DATES) {
          await create(object({ state, activationDate, deactivationDate, customAttributes: { "x-suite": "state-matrix" } }));
        }
      }
    }
    // A varied inventory for the other filters.
    for (let i = 0; i < 40; i++) {
      const objectType = OBJECT_TYPES[i % OBJECT_TYPES.length]!;
      await create(
        object({
          objectType,
          ...(objectType === "SymmetricKey" ? { algorithm: "AES" as const, length: 256 } : objectType === "SecretData" || objectType === "OpaqueObject" ? {} : { algorithm: i % 2 === 0 ? ("EC" as const) : ("RSA" as const) }),
          state: STATES[i % 4]!,
          names: [`inventory-${i}`, ...(i % 3 === 0 ? ["shared-a"] : []), ...(i % 4 === 0 ? ["shared-b"] : [])],
          customAttributes: { "x-team": `team-${i % 3}`, ...(i % 5 === 0 ? { "x-env": "prod" } : {}) },
          initialDate: at(-40 + i),
          ...(i % 2 === 0 ? { activationDate: at(-40 + i + 1) } : {}),
          ...(i % 3 === 1 ? { deactivationDate: at(-40 + i + 5) } : {}),
        }),
      );
    }
  });

  it("the oracle agrees with hand-worked effective states", () => {
    const cases: [State, Date | undefined, Date | undefined, State][] = [
      ["Pre-Active", undefined, undefined, "Pre-Active"],
      ["Pre-Active", future, undefined, "Pre-Active"],
      ["Pre-Active", NOW, undefined, "Active"],
      ["Pre-Active", past, future, "Active"],
      ["Pre-Active", past, past, "Deactivated"],
      ["Active", undefined, NOW, "Deactivated"],
      ["Active", past, future, "Active"],
      ["Compromised", past, past, "Compromised"],
    ];
    for (const [state, activationDate, deactivationDate, effective] of cases) expect(effectiveState({ state, activationDate, deactivationDate }, NOW)).toBe(effective);
  });

  it.each(STATES.map((state) => ({ state })))("effective state $state over the whole matrix", async ({ state }) => {
    const q = { state, now: NOW };
    const want = expected(q);
    if (state !== "Destroyed Compromised") expect(want.length).toBeGreaterThan(0);
    expect((await locateAll(q, 500)).uids).toEqual(want);
    expect((await locateAll({ ...q, customAttribute: { name: "x-suite", value: "state-matrix" } }, 7)).uids).toEqual(want.filter((uid) => stored.get(uid)?.customAttributes["x-suite"] === "state-matrix"));
  });

  // Locate looks up overtaken branches' uids first; past OVERTAKEN_LOOKUP_MAX of them (the
  // lifecycle job is behind) the page query evaluates those branches itself: that path too.
  it.each(STATES.map((state) => ({ state })))("effective state $state, overtaken branches inside the page query", async ({ state }) => {
    const want = expected({ state, now: NOW });
    for (const [limit, after] of [[500, undefined], [3, want[1]]] as const) {
      const query = { state, now: NOW, limit, ...(after === undefined ? {} : { after }) };
      const rows = await t.runtime.storage.db.$queryRaw<{ uid: string }[]>(locateUidsSql(query));
      const from = after === undefined ? 0 : want.indexOf(after) + 1;
      expect(rows.map((row) => row.uid)).toEqual(want.slice(from, from + limit + 1));
    }
  });

  const filters: { name: string; q: Omit<LocateQuery, "limit" | "now"> }[] = [
    { name: "name (unique)", q: { name: "inventory-7" } },
    { name: "name (shared)", q: { name: "shared-a" } },
    { name: "name (unknown)", q: { name: "nobody" } },
    { name: "objectType", q: { objectType: "PrivateKey" } },
    { name: "algorithm", q: { algorithm: "EC" } },
    { name: "custom attribute", q: { customAttribute: { name: "x-team", value: "team-1" } } },
    { name: "custom attribute (value of another name)", q: { customAttribute: { name: "x-env", value: "team-1" } } },
    { name: "initialDate range: from inclusive, to exclusive", q: { initialDate: { from: at(-30), to: at(-20) } } },
    { name: "initialDate open end", q: { initialDate: { from: at(-5) } } },
    { name: "activationDate range", q: { activationDate: { from: at(-39), to: at(-25) } } },
    { name: "activationDate up to now (exclusive)", q: { activationDate: { to: NOW } } },
    { name: "deactivationDate range", q: { deactivationDate: { from: at(-30), to: NOW } } },
    { name: "objectType + state", q: { objectType: "SymmetricKey", state: "Active" } },
    { name: "name + objectType", q: { name: "shared-a", objectType: "PublicKey" } },
    { name: "name + custom attribute", q: { name: "shared-b", customAttribute: { name: "x-team", value: "team-0" } } },
    { name: "custom attribute + state (overtaken branches)", q: { customAttribute: { name: "x-suite", value: "state-matrix" }, state: "Deactivated" } },
    { name: "name + state + algorithm", q: { name: "shared-a", state: "Deactivated", algorithm: "RSA" } },
    { name: "algorithm + initialDate + deactivationDate", q: { algorithm: "AES", initialDate: { from: at(-40) }, deactivationDate: { to: at(30) } } },
    { name: "everything at once", q: { name: "shared-b", objectType: "SymmetricKey", algorithm: "AES", state: "Pre-Active", customAttribute: { name: "x-env", value: "prod" }, initialDate: { from: at(-41) } } },
  ];

  it.each(filters)("$name", async ({ q }) => {
    const query = { ...q, now: NOW };
    expect((await locateAll(query, 500)).uids).toEqual(expected(query));
  });

  it("combinations used above are not vacuous", () => {
    for (const name of ["objectType + state", "name + objectType", "name + custom attribute", "custom attribute + state (overtaken branches)", "initialDate range: from inclusive, to exclusive"]) {
      const filter = filters.find((f) => f.name === name)!;
      expect(expected({ ...filter.q, now: NOW }).length, name).toBeGreaterThan(0);
    }
  });

  it("returns whole objects, equal to what was stored", async () => {
    const page = await repos().read((r) => r.managedObjects.locate({ name: "shared-a", now: NOW, limit: 500 }));
    expect(page.items.map(comparable)).toEqual(expected({ name: "shared-a", now: NOW }).map((uid) => comparable(stored.get(uid))));
  });

  const paginations: { query: string; q: Omit<LocateQuery, "limit" | "now">; limit: number }[] = [
    ...[
      { query: "no filter", q: {} },
      { query: "state Active (two branches)", q: { state: "Active" as const } },
      { query: "custom attribute", q: { customAttribute: { name: "x-suite", value: "state-matrix" } } },
    ].flatMap(({ query, q }) => [2, 7, 25, 80].map((limit) => ({ query, q, limit }))),
    ...[1, 3, 14].map((limit) => ({ query: "shared name", q: { name: "shared-a" }, limit })),
  ];

  it.each(paginations)("pages of $limit, $query: every object once, in uid order", async ({ q, limit }) => {
    const query = { ...q, now: NOW };
    const want = expected(query);
    expect(want.length).toBeGreaterThanOrEqual(q.name === undefined ? 25 : 10);
    const { uids, pages } = await locateAll(query, limit);
    expect(uids).toEqual(want);
    expect(pages).toBe(Math.max(1, Math.ceil(want.length / limit)));
  });

  it("a page that ends exactly at the last object has no nextCursor", async () => {
    const want = expected({ name: "shared-a", now: NOW });
    const page = await repos().read((r) => r.managedObjects.locate({ name: "shared-a", now: NOW, limit: want.length }));
    expect(page.items).toHaveLength(want.length);
    expect(page.nextCursor).toBeUndefined();
  });
});

describe("usage counters", () => {
  it("20 concurrent flushes add up exactly; the last-use dates only move forward", async () => {
    const v1 = object({ objectType: "SymmetricKey", algorithm: "AES", length: 256, version: { name: "usage-key", version: 1 } });
    const v2 = object({ objectType: "SymmetricKey", algorithm: "AES", length: 256, version: { name: "usage-key", version: 2 } });
    await create(v2);
    await create(v1);
    const times = Array.from({ length: 20 }, (_, i) => at(-((i * 7) % 20) / 24));
    await Promise.all(times.map((time, i) => repos().run((r) => r.managedObjects.addUsage(v2.uid, { encrypts: i + 1, decrypts: 2, lastEncryptAt: time, lastDecryptAt: time }))));
    const latest = new Date(Math.max(...times.map((d) => d.getTime())));

    const usage = await repos().read((r) => r.managedObjects.listVersionUsage("usage-key"));
    expect(usage).toEqual([
      { version: 1, uid: v1.uid, state: expect.any(String), encryptCount: 0, decryptCount: 0 },
      { version: 2, uid: v2.uid, state: expect.any(String), encryptCount: 210, decryptCount: 40, lastEncryptAt: latest, lastDecryptAt: latest },
    ]);

    await repos().run((r) => r.managedObjects.addUsage(v2.uid, { encrypts: 0, decrypts: 1, lastDecryptAt: at(-10) }));
    await repos().run((r) => r.managedObjects.addUsage(v2.uid, { encrypts: 1, decrypts: 0 }));
    const after = (await repos().read((r) => r.managedObjects.listVersionUsage("usage-key")))[1];
    expect(after).toEqual({ version: 2, uid: v2.uid, state: expect.any(String), encryptCount: 211, decryptCount: 41, lastEncryptAt: latest, lastDecryptAt: latest });
  });

  it("an unknown object → not_found; an unknown key has no versions", async () => {
    await expect(repos().run((r) => r.managedObjects.addUsage(nextUid(), { encrypts: 1, decrypts: 0 }))).rejects.toMatchObject({ code: "not_found" });
    expect(await repos().read((r) => r.managedObjects.listVersionUsage("no-such-key"))).toEqual([]);
  });
});

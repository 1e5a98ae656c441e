// Transient database contention never reaches the caller (issue 7): the unit of work reruns a
// transaction the database refused because of another one (PostgreSQL deadlock victim, SQLite
// busy), and the usage flush and Re-key, which used to deadlock on PostgreSQL, take their locks in
// one order. Runs on SQLite, and on PostgreSQL under TEST_DATABASE_URL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/core/shared/request-context.js";
import { createDatabase, type Database } from "../../src/infra/prisma/prisma-client.js";
import { PrismaUnitOfWork, type Repositories } from "../../src/infra/prisma/prisma-unit-of-work.js";
import { startTestRuntimeFlushingByHand, type TestRuntime, type UsageFlush } from "../helpers/runtime.js";

const CONTEXT: RequestContext = { principal: { id: "test:contention", displayName: "contention test" } };

let t: TestRuntime;
let usage: UsageFlush;
/** A second connection (pool) to the same database, as a second replica or process would have. */
let otherDb: Database;
let other: PrismaUnitOfWork;

beforeAll(async () => {
  ({ t, usage } = await startTestRuntimeFlushingByHand());
  otherDb = createDatabase(t.runtime.storage.target);
  other = new PrismaUnitOfWork(otherDb, t.runtime.storage.target.provider);
});
afterAll(async () => {
  await otherDb?.$disconnect();
  await t?.close();
});

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/**
 * Where two transactions wait for each other once: each `arrive` resolves when both have arrived
 * (or after `timeoutMillis`, for a database that serializes them so the second cannot arrive).
 * A rerun arrives again and passes at once.
 */
function meetingPoint(timeoutMillis = 1000): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => undefined;
  const bothThere = new Promise<void>((resolve) => {
    release = resolve;
  });
  return async () => {
    if (++arrived === 2) release();
    await Promise.race([bothThere, sleep(timeoutMillis)]);
  };
}

async function newKey(): Promise<string> {
  return (await t.runtime.services.objects.create(CONTEXT, { objectType: "SymmetricKey", algorithm: "AES", length: 256, activate: true, extractable: false })).uid;
}

const encryptCount = async (uid: string) => (await t.runtime.storage.db.managedObject.findUniqueOrThrow({ where: { uid } })).encryptCount;

/** A transaction function that counts its runs. */
function counted(work: (r: Repositories) => Promise<void>): { runs: () => number; work: (r: Repositories) => Promise<void> } {
  let runs = 0;
  return {
    runs: () => runs,
    work: async (r) => {
      runs++;
      await work(r);
    },
  };
}

describe("the unit of work reruns a transaction refused for contention", () => {
  it("two transactions locking two rows in opposite order both commit, each exactly once", async () => {
    const [a, b] = [await newKey(), await newKey()];
    const [beforeA, beforeB] = [await encryptCount(a), await encryptCount(b)];
    const meet = meetingPoint();
    const lock = (r: Repositories, uid: string) => r.managedObjects.addUsage(uid, { encrypts: 1, decrypts: 0 });
    const forward = counted(async (r) => {
      await lock(r, a);
      await meet();
      await lock(r, b);
    });
    const backward = counted(async (r) => {
      await lock(r, b);
      await meet();
      await lock(r, a);
    });
    // SQLite has one writer, and better-sqlite3 waits for a lock on the event loop's thread: two
    // connections in one process would only stall each other. kpki's one connection queues them.
    const second = t.runtime.storage.target.provider === "postgresql" ? other : t.runtime.uow;
    await Promise.all([t.runtime.uow.run(forward.work), second.run(backward.work)]);
    // Each transaction's increments landed once: a rerun started from a rolled-back state.
    expect(await encryptCount(a)).toBe(beforeA + 2n);
    expect(await encryptCount(b)).toBe(beforeB + 2n);
    // PostgreSQL picked a deadlock victim, and the unit of work ran it again.
    if (t.runtime.storage.target.provider === "postgresql") expect(forward.runs() + backward.runs()).toBeGreaterThan(2);
  });

  it("two transactions that read, then write the same row both commit, each exactly once", async () => {
    const a = await newKey();
    const before = await encryptCount(a);
    const meet = meetingPoint();
    const readThenWrite = () =>
      counted(async (r) => {
        await r.managedObjects.findByUid(a);
        await meet();
        await r.managedObjects.addUsage(a, { encrypts: 1, decrypts: 0 });
        await sleep(50);
      });
    const [first, second] = [readThenWrite(), readThenWrite()];
    await Promise.all([t.runtime.uow.run(first.work), other.run(second.work)]);
    expect(await encryptCount(a)).toBe(before + 2n);
    // SQLite cannot upgrade the second reader to a writer while the first writes (SQLITE_BUSY): rerun.
    if (t.runtime.storage.target.provider === "sqlite") expect(first.runs() + second.runs()).toBeGreaterThan(2);
  });
});

describe("Re-key racing the usage flush", () => {
  it("every Re-key and every flush succeeds, and every counted use is written once", async () => {
    const uids = await Promise.all(Array.from({ length: 6 }, () => newKey()));
    const before = await Promise.all(uids.map(encryptCount));
    const ROUNDS = 8;
    for (let round = 0; round < ROUNDS; round++) {
      for (const uid of uids) usage.record(CONTEXT.principal.id, uid, "Encrypt");
      // The flush locks every key row; each Re-key locks one of them, in the opposite order.
      const results = await Promise.allSettled([usage.flush(), ...[...uids].reverse().map((uid) => t.runtime.services.objects.rekey(CONTEXT, uid))]);
      const failures = results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
      expect(failures, `round ${round}`).toEqual([]);
    }
    expect(await Promise.all(uids.map(encryptCount))).toEqual(before.map((count) => count + BigInt(ROUNDS)));
  });
});

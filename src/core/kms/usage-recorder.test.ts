import { describe, expect, it } from "vitest";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { KmsRepositories } from "./ports.js";
import { UsageRecorder } from "./usage-recorder.js";

/** A unit of work whose transactions commit only when the test releases them, recording what was written. */
function heldUnitOfWork() {
  const committed: { uid: string; encrypts: number }[] = [];
  const releases: (() => void)[] = [];
  const uow = {
    async run<T>(work: (r: KmsRepositories) => Promise<T>): Promise<T> {
      const written: { uid: string; encrypts: number }[] = [];
      const repositories = {
        managedObjects: { addUsage: async (uid: string, usage: { encrypts: number }) => void written.push({ uid, encrypts: usage.encrypts }) },
        audit: { record: async () => undefined },
      } as unknown as KmsRepositories;
      const result = await work(repositories);
      await new Promise<void>((resolve) => releases.push(resolve));
      committed.push(...written);
      return result;
    },
    read: async () => {
      throw new Error("not used");
    },
  } as UnitOfWork<KmsRepositories>;
  return { uow, committed, releaseNext: () => releases.shift()?.() };
}

const clock = { now: () => new Date("2026-11-28T00:00:00Z") };
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("UsageRecorder.flush", () => {
  it("returns only after an earlier flush still in its transaction has committed (so shutdown never closes the database under it)", async () => {
    const { uow, committed, releaseNext } = heldUnitOfWork();
    const recorder = new UsageRecorder({ uow, clock });
    recorder.record("admin", "key-1", "Encrypt");
    const timed = recorder.flush(); // the timer's flush: its transaction is held open
    await tick();
    let shutdownDone = false;
    const shutdown = recorder.flush().then((count) => {
      shutdownDone = true;
      return count;
    });
    await tick();
    expect(shutdownDone).toBe(false);
    releaseNext();
    expect(await timed).toBe(1);
    expect(await shutdown).toBe(0); // nothing new was counted, but it waited
    expect(committed).toEqual([{ uid: "key-1", encrypts: 1 }]);
  });

  it("keeps the counts of a failed flush for the next one, and the next one still runs", async () => {
    let fail = true;
    const committed: number[] = [];
    const uow = {
      async run<T>(work: (r: KmsRepositories) => Promise<T>): Promise<T> {
        const repositories = {
          managedObjects: { addUsage: async (_uid: string, usage: { encrypts: number }) => void committed.push(usage.encrypts) },
          audit: { record: async () => undefined },
        } as unknown as KmsRepositories;
        if (fail) throw new Error("database unavailable");
        return work(repositories);
      },
      read: async () => {
        throw new Error("not used");
      },
    } as UnitOfWork<KmsRepositories>;
    const recorder = new UsageRecorder({ uow, clock });
    recorder.record("admin", "key-1", "Encrypt");
    await expect(recorder.flush()).rejects.toThrow("database unavailable");
    recorder.record("admin", "key-1", "Encrypt");
    fail = false;
    expect(await recorder.flush()).toBe(1);
    expect(committed).toEqual([2]);
  });
});

// The job runner on the real database (SQLite, and PostgreSQL under TEST_DATABASE_URL): each job
// runs once per period slot however many runners claim it at once, a rerun after success does
// nothing, a failed run is retried in the same slot, a run whose holder died is taken over once its
// lease expires, and the history and status reflect all of it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openRuntime, type Runtime } from "../../src/app.js";
import { JobRunner, slotOf, type JobDefinition } from "../../src/core/jobs/index.js";
import type { RequestContext } from "../../src/core/shared/request-context.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { startTestRuntime, testClock, type TestClock, type TestRuntime } from "../helpers/runtime.js";
import { postgresqlTestUrl } from "../helpers/test-database.js";

const CONTEXT: RequestContext = { principal: { id: "test:jobs", displayName: "job runner test" } };
const HOUR = 3600;

let t: TestRuntime;
let clock: TestClock;
let jobCounter = 0;

beforeAll(async () => {
  clock = testClock();
  t = await startTestRuntime({ clock });
});
afterAll(async () => {
  await t?.close();
});

function runner(holder: string, runtime: Runtime = t.runtime): JobRunner {
  return new JobRunner({ uow: runtime.uow, clock, random: new NodeRandomSource(), holder });
}

/** A job that counts its runs and remembers the contexts it ran with; `body` decides what a run does. */
function countingJob(body: (run: number) => Promise<void> = async () => undefined): JobDefinition & { runs: number; contexts: RequestContext[] } {
  const job = {
    name: `test-job-${++jobCounter}`,
    description: "counts its runs",
    periodSeconds: HOUR,
    runs: 0,
    contexts: [] as RequestContext[],
    async run(context: RequestContext) {
      job.runs++;
      job.contexts.push(context);
      await body(job.runs);
      return { changed: 1, message: `run ${job.runs}` };
    },
  };
  return job;
}

const rowsOf = (job: string) => t.runtime.storage.db.jobRun.findMany({ where: { job } });

describe("once per slot", () => {
  it("runs a due job, records it, and a rerun in the same period reports it as already done", async () => {
    const job = countingJob();
    const first = await runner("host-a:1").runOne(CONTEXT, job);
    expect(first).toMatchObject({ job: job.name, slot: slotOf(job, clock.now()), status: "ran", changed: 1, message: "run 1" });
    expect(job.contexts[0]?.requestId).toBe(`job:${job.name}:${first.slot}`);
    const again = await runner("host-b:2").runOne(CONTEXT, job);
    expect(again).toMatchObject({ status: "skipped-already-done", slot: first.slot, run: { holder: "host-a:1", status: "succeeded" } });
    expect(job.runs).toBe(1);
    const rows = await rowsOf(job.name);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "succeeded", holder: "host-a:1", attempts: 1, summary: "1: run 1" });
  });

  it("with 8 runners claiming at the same moment, exactly one runs it; the others skip", async () => {
    const job = countingJob(() => new Promise((resolve) => setTimeout(resolve, 300)));
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => runner(`host-${i}:${i}`).runOne(CONTEXT, job)));
    expect(job.runs).toBe(1);
    expect(outcomes.filter((o) => o.status === "ran")).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "skipped-held-by-other" || o.status === "skipped-already-done")).toHaveLength(7);
    expect(await rowsOf(job.name)).toHaveLength(1);
  });

  it.runIf(postgresqlTestUrl() !== undefined)("with two runtimes (two replicas' connection pools) claiming at once, exactly one runs it", async () => {
    const second = await openRuntime(t.config, createLogger("silent"));
    try {
      const job = countingJob(() => new Promise((resolve) => setTimeout(resolve, 200)));
      const outcomes = await Promise.all([0, 1, 2, 3].map((i) => runner(`replica-${i}:${i}`, i % 2 === 0 ? t.runtime : second).runOne(CONTEXT, job)));
      expect(job.runs).toBe(1);
      expect(outcomes.filter((o) => o.status === "ran")).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("runs again in the next period", async () => {
    const job = countingJob();
    const first = await runner("host-a:1").runOne(CONTEXT, job);
    clock.advance(HOUR);
    const next = await runner("host-a:1").runOne(CONTEXT, job);
    expect(next.status).toBe("ran");
    expect(next.slot).not.toBe(first.slot);
    expect(job.runs).toBe(2);
  });
});

describe("failures and leases", () => {
  it("a failed run is recorded with its error and retried by the next attempt in the same slot", async () => {
    const job = countingJob(async (run) => {
      if (run === 1) throw new Error("the CA is offline");
    });
    const failed = await runner("host-a:1").runOne(CONTEXT, job);
    expect(failed).toMatchObject({ status: "failed", message: "the CA is offline" });
    expect((await rowsOf(job.name))[0]).toMatchObject({ status: "failed", error: "the CA is offline", attempts: 1 });
    const retried = await runner("host-b:2").runOne(CONTEXT, job);
    expect(retried).toMatchObject({ status: "ran", slot: failed.slot });
    const rows = await rowsOf(job.name);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "succeeded", holder: "host-b:2", attempts: 2, error: null });
  });

  it("a run whose holder vanished is held until its lease expires, then taken over once; the late holder's finish reports a failure", async () => {
    let release: () => void = () => undefined;
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const job = countingJob(async (run) => {
      if (run === 1) await hanging;
    });
    const stuck = runner("host-dead:1").runOne(CONTEXT, job);
    await expect.poll(() => job.runs).toBe(1);
    expect(await runner("host-b:2").runOne(CONTEXT, job)).toMatchObject({ status: "skipped-held-by-other", run: { holder: "host-dead:1" } });
    clock.advance(11 * 60); // the 10-minute lease has run out (same hourly slot is not guaranteed: compare slots)
    const takeover = await runner("host-c:3").runOne(CONTEXT, job);
    expect(takeover.status).toBe("ran");
    expect(job.runs).toBe(2);
    release();
    const late = await stuck;
    if (takeover.slot === late.slot) {
      expect(late).toMatchObject({ status: "failed", message: expect.stringContaining("outlived its 10-minute lease") as unknown });
      expect((await rowsOf(job.name)).find((row) => row.slot === late.slot)).toMatchObject({ holder: "host-c:3", status: "succeeded", attempts: 2 });
    } else {
      // The clock crossed into the next hour: host-c ran the new slot, the late run finished its own.
      expect(late.status).toBe("ran");
    }
  });
});

describe("status and history", () => {
  let job: JobDefinition & { runs: number };
  beforeEach(() => {
    job = countingJob();
  });

  it("status says due before a run, done after it with the next period's start, running while held", async () => {
    const jobRunner = runner("host-a:1");
    const [before] = await jobRunner.status([job]);
    expect(before).toMatchObject({ state: "due", slot: slotOf(job, clock.now()) });
    expect(before?.lastRun).toBeUndefined();
    await jobRunner.runOne(CONTEXT, job);
    const now = clock.now();
    const [after] = await jobRunner.status([job]);
    expect(after).toMatchObject({ state: "done", lastRun: { status: "succeeded", holder: "host-a:1" } });
    expect(after?.nextDueAt.getTime()).toBe((Math.floor(now.getTime() / (HOUR * 1000)) + 1) * HOUR * 1000);

    let release: () => void = () => undefined;
    const held = countingJob(() => new Promise<void>((resolve) => (release = resolve)));
    const running = jobRunner.runOne(CONTEXT, held);
    await expect.poll(() => held.runs).toBe(1);
    expect((await jobRunner.status([held]))[0]?.state).toBe("running");
    release();
    await running;
  });

  it("history lists runs newest first, filters by job, and pages with a cursor", async () => {
    const jobRunner = runner("host-a:1");
    for (let i = 0; i < 3; i++) {
      await jobRunner.runOne(CONTEXT, job);
      clock.advance(HOUR);
    }
    const page1 = await jobRunner.history({ job: job.name, limit: 2 });
    expect(page1.items.map((run) => run.summary)).toEqual(["1: run 3", "1: run 2"]);
    expect(page1.nextCursor).toBe(page1.items[1]?.id);
    const page2 = await jobRunner.history({ job: job.name, limit: 2, ...(page1.nextCursor === undefined ? {} : { after: page1.nextCursor }) });
    expect(page2.items.map((run) => run.summary)).toEqual(["1: run 1"]);
    expect(page2.nextCursor).toBeUndefined();
    expect((await jobRunner.history({ limit: 500 })).items.length).toBeGreaterThan(3);
    await expect(jobRunner.history({ limit: 0 })).rejects.toThrow(/limit: 1–500/);
  });

  it("purgeHistory deletes finished runs older than the period kept, never a running one", async () => {
    const jobRunner = runner("host-a:1");
    const old = countingJob();
    await jobRunner.runOne(CONTEXT, old);
    let release: () => void = () => undefined;
    const held = countingJob(() => new Promise<void>((resolve) => (release = resolve)));
    const running = jobRunner.runOne(CONTEXT, held);
    await expect.poll(() => held.runs).toBe(1);
    clock.advance(91 * 86_400);
    const fresh = countingJob();
    await jobRunner.runOne(CONTEXT, fresh);
    const before = await t.runtime.storage.db.jobRun.count();
    const deleted = await jobRunner.purgeHistory(90 * 86_400);
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await t.runtime.storage.db.jobRun.count()).toBe(before - deleted);
    expect(await rowsOf(old.name)).toHaveLength(0);
    expect(await rowsOf(held.name)).toHaveLength(1);
    expect(await rowsOf(fresh.name)).toHaveLength(1);
    release();
    await running;
  });
});

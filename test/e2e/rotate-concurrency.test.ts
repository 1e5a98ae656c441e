// Acceptance (issue 5): two `kpki rotate` processes started together against one database run each
// due job exactly once, both exit 0 with a table saying who ran what, and a third run does nothing.
// The built CLI (dist) runs as a CronJob would; the database is PostgreSQL under TEST_DATABASE_URL
// (the acceptance run) and SQLite otherwise (two processes on one file, WAL + busy timeout).
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_OPERATOR } from "../../src/core/access/index.js";
import { ROOT_CA_NAME } from "../../src/core/bootstrap/bootstrap-service.js";
import { runKpki, spawnKpki, stopAllKpki, type RunResult } from "../helpers/process.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";
import { postgresqlTestUrl } from "../helpers/test-database.js";
import { SCHEDULED_JOBS } from "../helpers/scheduled-jobs.js";

const JOBS: readonly string[] = SCHEDULED_JOBS;
/** The shortest job period (apply-lifecycle-dates); every other period is a multiple of it. */
const SHORTEST_PERIOD_SECONDS = 300;
const DAY_MS = 86_400_000;

interface Row {
  job: string;
  slot: string;
  outcome: string;
  duration: string;
  summary: string;
}

/** The `kpki rotate` table: a header, then one row per job; columns are separated by two or more spaces. */
function parseTable(stdout: string): Row[] {
  const [header, ...lines] = stdout.trimEnd().split("\n");
  expect(header?.split(/\s{2,}/)).toEqual(["JOB", "SLOT", "OUTCOME", "DURATION", "SUMMARY"]);
  return lines.map((line) => {
    const [job = "", slot = "", outcome = "", duration = "", ...rest] = line.split(/\s{2,}/);
    return { job, slot, outcome, duration, summary: rest.join("  ") };
  });
}

function expectSuccess(result: RunResult): Row[] {
  expect(result.code, `exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return parseTable(result.stdout);
}

/**
 * Waits, if needed, until the current 5-minute slot has at least `seconds` left, so that every run
 * of this test falls in the same period slot of every job (the hourly and daily slots start on
 * 5-minute boundaries too) and "a third run does nothing" is exact.
 */
async function awaitSlotRoom(seconds: number): Promise<void> {
  const left = SHORTEST_PERIOD_SECONDS - ((Date.now() / 1000) % SHORTEST_PERIOD_SECONDS);
  if (left < seconds) await sleep((left + 1) * 1000);
}

let t: TestRuntime;
let env: Record<string, string>;
let expiredTokenId: string;
let lapsedObjectUid: string;

beforeAll(async () => {
  t = await startTestRuntime();
  const context = { principal: LOCAL_OPERATOR };
  const { services, storage } = t.runtime;
  // Due work for every kind of job:
  // - a named key whose automatic rotation is 2 hours overdue, and one without automatic rotation;
  await services.namedKeys.create(context, { name: "auto-kek", rotatePeriodSeconds: 3600 });
  await services.namedKeys.create(context, { name: "manual-kek" });
  await storage.db.namedKey.update({ where: { name: "auto-kek" }, data: { lastRotatedAt: new Date(Date.now() - 2 * 3600_000) } });
  // - a CA that expires in 10 days (renewed within 30 by default);
  await services.hierarchy.create(context, { name: "short-ca", type: "intermediate", parent: ROOT_CA_NAME, subject: { commonName: "Short-lived CA" }, keyAlgorithm: "ECDSA-P256", ttlSeconds: 10 * 86_400 });
  // - an API token that expired 40 days ago (purged after 30);
  expiredTokenId = (await services.tokens.create(context, { name: "long-expired", role: "reader", ttlSeconds: 60 })).token.id;
  await storage.db.apiToken.update({ where: { id: expiredTokenId }, data: { expiresAt: new Date(Date.now() - 40 * DAY_MS) } });
  // - an Active key whose Deactivation Date has passed (stored state lags until the job writes it).
  const object = await services.objects.create(context, { objectType: "SymmetricKey", algorithm: "AES", activate: true, extractable: false });
  lapsedObjectUid = object.uid;
  await storage.db.managedObject.update({ where: { uid: object.uid }, data: { deactivationDate: new Date(Date.now() - 60_000) } });
  await t.close({ keepData: true });
  env = { DATABASE_URL: t.database.url, KPKI_DATA_DIR: t.dataDir, KPKI_LOG_LEVEL: "warn" };
}, 120_000);

afterAll(async () => {
  await stopAllKpki();
  await t?.database.drop();
});

/** A fresh look at the database the processes worked on (the test's own installation by default). */
async function inspect<T>(look: (runtime: TestRuntime["runtime"]) => Promise<T>, target: TestRuntime = t): Promise<T> {
  const again = await startTestRuntime({ reuse: { database: target.database, dataDir: target.dataDir } });
  try {
    return await look(again.runtime);
  } finally {
    await again.close({ keepData: true });
  }
}

describe(`two kpki rotate processes at once (${postgresqlTestUrl() === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let first: Row[];
  let second: Row[];
  let pids: number[];

  it("both exit 0; every due job ran in exactly one of them, the other skipped it", async () => {
    await awaitSlotRoom(120);
    const a = spawnKpki(["rotate"], { env });
    const b = spawnKpki(["rotate"], { env });
    pids = [a.child.pid ?? 0, b.child.pid ?? 0];
    await Promise.all([a.exited, b.exited]);
    first = expectSuccess({ ...(await a.exited), stdout: a.stdout(), stderr: a.stderr() });
    second = expectSuccess({ ...(await b.exited), stdout: b.stdout(), stderr: b.stderr() });
    expect(first.map((row) => row.job)).toEqual(JOBS);
    expect(second.map((row) => row.job)).toEqual(JOBS);
    for (const job of JOBS) {
      const outcomes = [first, second].map((rows) => rows.find((row) => row.job === job)?.outcome);
      expect(outcomes.filter((outcome) => outcome === "ran"), `${job}: ${outcomes.join(" / ")}`).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === "skipped-already-done" || outcome === "skipped-held-by-other"), `${job}: ${outcomes.join(" / ")}`).toHaveLength(1);
      const [slotA, slotB] = [first, second].map((rows) => rows.find((row) => row.job === job)?.slot);
      expect(slotA).toBe(slotB);
      expect(slotA).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ\/(5m|1h|1d)$/);
    }
    // Progress lines go to stderr, one per job start and end.
    expect(a.stderr()).toMatch(/^kpki rotate: rotate-named-keys: rotate named keys/m);
    const ran = [...first, ...second].filter((row) => row.outcome === "ran");
    expect(ran.find((row) => row.job === "rotate-named-keys")?.summary).toBe("rotated auto-kek → version 2");
    expect(ran.find((row) => row.job === "renew-authorities")?.summary).toBe("renewed short-ca");
    expect(ran.find((row) => row.job === "purge-expired-tokens")?.summary).toBe("deleted 1 expired tokens");
    expect(ran.find((row) => row.job === "apply-lifecycle-dates")?.summary).toBe("updated 1 objects");
    expect(ran.find((row) => row.job === "renew-service-certificate")?.summary).toMatch(/^TLS certificate is current/);
    expect(ran.find((row) => row.job === "purge-job-runs")?.summary).toBe("nothing to purge");
    for (const row of ran) expect(row.duration).toMatch(/^\d+ms$/);
  }, 240_000);

  it("the database shows one succeeded run per job, each held by the process that says it ran it, and each change made once", async () => {
    await inspect(async (runtime) => {
      const db = runtime.storage.db;
      const runs = await db.jobRun.findMany();
      expect(runs.map((run) => run.job).sort()).toEqual([...JOBS].sort());
      for (const run of runs) {
        expect(run).toMatchObject({ status: "succeeded", attempts: 1 });
        const ranIn = first.find((row) => row.job === run.job)?.outcome === "ran" ? 0 : 1;
        expect(run.holder.endsWith(`:${pids[ranIn] ?? -1}`), `${run.job} held by ${run.holder}, pids ${pids.join(",")}`).toBe(true);
      }
      expect((await db.namedKey.findUnique({ where: { name: "auto-kek" } }))?.currentVersion).toBe(2);
      expect(await db.managedObject.count({ where: { keyName: "auto-kek" } })).toBe(2);
      expect((await db.namedKey.findUnique({ where: { name: "manual-kek" } }))?.currentVersion).toBe(1);
      expect(await db.auditEvent.count({ where: { action: "ca.renew" } })).toBe(1);
      expect(await db.auditEvent.count({ where: { action: "named-key.rotate" } })).toBe(1);
      expect(await db.apiToken.findUnique({ where: { id: expiredTokenId } })).toBeNull();
      expect((await db.managedObject.findUnique({ where: { uid: lapsedObjectUid } }))?.state).toBe("Deactivated");
    });
  });

  it("a third run does nothing: every job is already done in this period, and nothing changes", async () => {
    const auditBefore = await inspect((runtime) => runtime.storage.db.auditEvent.count());
    const third = expectSuccess(await runKpki(["rotate"], { env }));
    expect(third.map((row) => [row.job, row.outcome, row.duration])).toEqual(JOBS.map((job) => [job, "skipped-already-done", "-"]));
    for (const row of third) expect(row.summary).toMatch(/^already ran in this period \(finished \S+ by .+:\d+\)$/);
    await inspect(async (runtime) => {
      expect(await runtime.storage.db.jobRun.count()).toBe(JOBS.length);
      expect(await runtime.storage.db.jobRun.count({ where: { attempts: { gt: 1 } } })).toBe(0);
      expect((await runtime.storage.db.namedKey.findUnique({ where: { name: "auto-kek" } }))?.currentVersion).toBe(2);
      // The inspecting runtimes audit nothing; only a run would.
      expect(await runtime.storage.db.auditEvent.count()).toBe(auditBefore);
    });
  }, 120_000);

  it("--dry-run --json says every job is done with its next due time; --job limits the run", async () => {
    const plan = await runKpki(["rotate", "--dry-run", "--json"], { env });
    expect(plan.code, plan.stderr).toBe(0);
    const entries = (JSON.parse(plan.stdout) as { plan: { job: string; state: string; nextDueAt: string; lastRun?: { status: string } }[] }).plan;
    expect(entries.map((entry) => [entry.job, entry.state, entry.lastRun?.status])).toEqual(JOBS.map((job) => [job, "done", "succeeded"]));
    for (const entry of entries) expect(Date.parse(entry.nextDueAt)).toBeGreaterThan(Date.now());

    const one = await runKpki(["rotate", "--job", "purge-expired-tokens", "--json"], { env });
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as { outcomes: { job: string; outcome: string }[] }).outcomes).toEqual([expect.objectContaining({ job: "purge-expired-tokens", outcome: "skipped-already-done" })]);
  }, 120_000);

  it("refuses an unknown job (exit 2, naming the jobs) before running anything", async () => {
    const result = await runKpki(["rotate", "--job", "rotate-named-keys", "--job", "make-coffee"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`kpki: unknown job make-coffee; the jobs are ${JOBS.join(", ")}`);
    expect(result.stdout).toBe("");
  }, 60_000);
});

describe("kpki rotate failures", () => {
  it("a failing job makes it exit 8 with the table and the job's error; the next run retries it", async () => {
    const broken = await startTestRuntime();
    try {
      const context = { principal: LOCAL_OPERATOR };
      const { services, storage } = broken.runtime;
      await services.namedKeys.create(context, { name: "broken-kek", rotatePeriodSeconds: 3600 });
      await storage.db.namedKey.update({ where: { name: "broken-kek" }, data: { lastRotatedAt: new Date(Date.now() - 2 * 3600_000) } });
      // Its current version destroyed (revoke, then destroy): KMIP Re-key of it is refused.
      const current = (await services.namedKeys.get("broken-kek")).versions[0];
      await services.objects.revoke(context, current?.uid ?? "", { code: "CessationOfOperation" });
      await services.objects.destroy(context, current?.uid ?? "");
      await broken.close({ keepData: true });
      const brokenEnv = { DATABASE_URL: broken.database.url, KPKI_DATA_DIR: broken.dataDir };
      await awaitSlotRoom(60);

      const result = await runKpki(["rotate", "--job", "rotate-named-keys", "--job", "purge-expired-tokens"], { env: brokenEnv });
      expect(result.code, result.stderr).toBe(8);
      const rows = parseTable(result.stdout);
      expect(rows.map((row) => [row.job, row.outcome])).toEqual([
        ["rotate-named-keys", "failed"],
        ["purge-expired-tokens", "ran"],
      ]);
      expect(rows[0]?.summary).toMatch(/^rotated 0 of 1 due keys; failed: broken-kek \(.*Destroyed.*\)$/);
      expect(result.stderr).toMatch(/^kpki: 1 of 2 jobs failed: rotate-named-keys$/m);

      const retry = await runKpki(["rotate", "--job", "rotate-named-keys"], { env: brokenEnv });
      expect(retry.code).toBe(8);
      const run = await inspect((runtime) => runtime.storage.db.jobRun.findFirst({ where: { job: "rotate-named-keys" } }), broken);
      expect(run).toMatchObject({ status: "failed", attempts: 2 });
    } finally {
      await broken.database.drop();
    }
  }, 180_000);

  it("refuses a database kpki serve never set up, creating nothing", async () => {
    const missing = `${t.dataDir}-missing`;
    const result = await runKpki(["rotate"], { env: { KPKI_DATA_DIR: missing } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^kpki: no database at .*-missing\/kpki\.db: `kpki serve` creates it on its first start/);
    expect(existsSync(missing)).toBe(false);
  }, 60_000);
});

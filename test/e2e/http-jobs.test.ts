// The scheduled jobs over REST: GET /v1/jobs (schedule, state in the current period, last run,
// next due), GET /v1/jobs/runs (history with paging) and POST /v1/jobs/{job}/run (a run now, under
// the same once-per-period lease), with their access rules.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, testClock, type TestClock, type TestRuntime } from "../helpers/runtime.js";
import { SCHEDULED_JOBS } from "../helpers/scheduled-jobs.js";

interface JobRunJson {
  id: string;
  job: string;
  slot: string;
  status: string;
  holder: string;
  startedAt: string;
  finishedAt?: string;
  attempts: number;
  summary?: string;
  error?: string;
}
interface JobJson {
  name: string;
  description: string;
  periodSeconds: number;
  slot: string;
  state: string;
  nextDueAt: string;
  lastRun?: JobRunJson;
}
interface OutcomeJson {
  job: string;
  slot: string;
  outcome: string;
  changed?: number;
  message?: string;
  durationMs?: number;
  run?: JobRunJson;
}

const SCHEDULE: readonly string[] = SCHEDULED_JOBS;

let t: TestRuntime;
let clock: TestClock;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  clock = testClock();
  t = await startTestRuntime({ clock });
  for (const role of ["operator", "reader", "issuer"]) {
    const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: `jobs-${role}`, role });
    tokens[role] = (res.body as { token: string }).token;
  }
});
afterAll(async () => {
  await t?.close();
});

const as = (role: string) => ({ Authorization: `Bearer ${tokens[role] ?? ""}` });

async function get<T>(path: string, auth: Record<string, string> = ADMIN): Promise<T> {
  const res = await request(t.app).get(path).set(auth);
  expect(res.status, `GET ${path} → ${res.status} ${res.text}`).toBe(200);
  return res.body as T;
}
async function run(job: string, auth: Record<string, string> = ADMIN): Promise<OutcomeJson> {
  const res = await request(t.app).post(`/v1/jobs/${job}/run`).set(auth);
  expect(res.status, `POST /v1/jobs/${job}/run → ${res.status} ${res.text}`).toBe(200);
  return res.body as OutcomeJson;
}

describe("GET /v1/jobs", () => {
  it("lists the one schedule, every job due before it ever ran", async () => {
    const { items } = await get<{ items: JobJson[] }>("/v1/jobs");
    expect(items.map((job) => job.name)).toEqual(SCHEDULE);
    for (const job of items) {
      expect(job).toMatchObject({ state: "due" });
      expect(job.lastRun).toBeUndefined();
      expect(job.slot).toBe(`${job.periodSeconds}s:${Math.floor(clock.now().getTime() / (job.periodSeconds * 1000))}`);
    }
    expect(items.find((job) => job.name === "apply-lifecycle-dates")?.periodSeconds).toBe(300);
  });
});

describe("POST /v1/jobs/{job}/run", () => {
  it("rotates a named key whose period has passed, once; the rerun in the same period does nothing", async () => {
    await request(t.app).post("/v1/keys").set(ADMIN).send({ name: "auto-kek", rotatePeriodSeconds: 3600 }).expect(201);
    await request(t.app).post("/v1/keys").set(ADMIN).send({ name: "manual-kek" }).expect(201);
    clock.advance(2 * 3600);
    const first = await run("rotate-named-keys");
    expect(first).toMatchObject({ job: "rotate-named-keys", outcome: "ran", changed: 1, message: "rotated auto-kek → version 2" });
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    const second = await run("rotate-named-keys", as("operator"));
    expect(second).toMatchObject({ outcome: "skipped-already-done", slot: first.slot, run: { status: "succeeded", summary: "1: rotated auto-kek → version 2" } });
    expect((await get<{ currentVersion: number }>("/v1/keys/auto-kek")).currentVersion).toBe(2);
    expect((await get<{ currentVersion: number }>("/v1/keys/manual-kek")).currentVersion).toBe(1);

    const listed = (await get<{ items: JobJson[] }>("/v1/jobs", as("operator"))).items.find((job) => job.name === "rotate-named-keys");
    expect(listed).toMatchObject({ state: "done", lastRun: { status: "succeeded", slot: first.slot } });
    expect(Date.parse(listed?.nextDueAt ?? "")).toBeGreaterThan(clock.now().getTime());
  });

  it("an unknown job is 404 naming the jobs there are; a malformed name is 400", async () => {
    expectProblem(await request(t.app).post("/v1/jobs/no-such-job/run").set(ADMIN), { status: 404, code: "not_found", detail: "the jobs are rotate-named-keys, apply-lifecycle-dates" });
    expectProblem(await request(t.app).post("/v1/jobs/Bad_Name/run").set(ADMIN), { status: 400, code: "invalid_input" });
  });
});

describe("GET /v1/jobs/runs", () => {
  it("shows each run with its holder, times and summary, newest first, and pages", async () => {
    await run("purge-expired-tokens");
    await run("apply-lifecycle-dates");
    const all = await get<{ items: JobRunJson[]; nextCursor?: string }>("/v1/jobs/runs");
    expect(all.items.map((r) => r.job)).toEqual(["apply-lifecycle-dates", "purge-expired-tokens", "rotate-named-keys"]);
    for (const item of all.items) {
      expect(item).toMatchObject({ status: "succeeded", attempts: 1, holder: expect.stringMatching(/^.+:\d+$/) as unknown });
      expect(Date.parse(item.finishedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(item.startedAt));
    }
    const page1 = await get<{ items: JobRunJson[]; nextCursor?: string }>("/v1/jobs/runs?limit=2");
    expect(page1.items.map((r) => r.job)).toEqual(["apply-lifecycle-dates", "purge-expired-tokens"]);
    const page2 = await get<{ items: JobRunJson[]; nextCursor?: string }>(`/v1/jobs/runs?limit=2&cursor=${page1.nextCursor ?? ""}`);
    expect(page2.items.map((r) => r.job)).toEqual(["rotate-named-keys"]);
    expect(page2.nextCursor).toBeUndefined();
    const filtered = await get<{ items: JobRunJson[] }>("/v1/jobs/runs?job=purge-expired-tokens", as("operator"));
    expect(filtered.items.map((r) => r.summary)).toEqual(["0: nothing to purge"]);
  });

  it.each([["limit=0"], ["limit=501"], ["cursor=not-a-uuid"], ["job=UPPER"], ["other=1"]])("refuses %s with 400", async (query) => {
    expectProblem(await request(t.app).get(`/v1/jobs/runs?${query}`).set(ADMIN), { status: 400, code: "invalid_input" });
  });
});

describe("access", () => {
  it.each([
    ["reader", "get", "/v1/jobs", "jobs.read"],
    ["reader", "get", "/v1/jobs/runs", "jobs.read"],
    ["reader", "post", "/v1/jobs/purge-expired-tokens/run", "jobs.run"],
    ["issuer", "get", "/v1/jobs", "jobs.read"],
    ["issuer", "post", "/v1/jobs/purge-expired-tokens/run", "jobs.run"],
  ] as const)("%s: %s %s is 403 (lacks %s)", async (role, method, path, permission) => {
    const runsBefore = await t.runtime.storage.db.jobRun.count();
    const res = await request(t.app)[method](path).set(as(role));
    expectProblem(res, { status: 403, code: "permission_denied", detail: `role ${role} lacks permission ${permission}` });
    expect(await t.runtime.storage.db.jobRun.count()).toBe(runsBefore);
  });
});

// `kpki jobs list|runs|run` against a real `kpki serve`, whose scheduler runs the same jobs as
// `kpki rotate` as soon as it starts: the history shows the server's runs, a run on request in the
// same period is skipped, and the access rules hold for a reader.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKpki, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";
import { SCHEDULED_JOBS } from "../helpers/scheduled-jobs.js";

const JOBS: readonly string[] = SCHEDULED_JOBS;

let database: TestDatabase | undefined;
let workDir: string;
let server: ServingKpki;
let adminToken: string;
let readerToken: string;

const remote = (tokenFile: string) => ["--server", server.url, "--ca-cert", path.join(workDir, "data", "ca-bundle.pem"), "--token-file", tokenFile];
const kpki = (args: readonly string[], tokenFile = adminToken) => runKpki([...args, ...remote(tokenFile)], { cwd: workDir });

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-cli-jobs-"));
  database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  server = await startKpkiServer({ env: { KPKI_DATA_DIR: path.join(workDir, "data"), KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn", ...(database === undefined ? {} : { DATABASE_URL: database.url }) } });
  adminToken = path.join(workDir, "admin.token");
  writeFileSync(adminToken, `${TEST_ADMIN_TOKEN}\n`, { mode: 0o600 });
  const created = await runKpki(["token", "create", "jobs-reader", "--role", "reader", ...remote(adminToken)], { cwd: workDir });
  expect(created.code, created.stderr).toBe(0);
  readerToken = path.join(workDir, "reader.token");
  writeFileSync(readerToken, `${created.stdout.trim().split("\n").at(-1) ?? ""}\n`, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("kpki jobs", () => {
  it("list: the server's scheduler has run every job at start, so each is done in its period", async () => {
    let lines: string[] = [];
    await expect
      .poll(
        async () => {
          const result = await kpki(["jobs", "list"]);
          expect(result.code, result.stderr).toBe(0);
          lines = result.stdout.trimEnd().split("\n");
          return lines.slice(1).map((line) => line.split(/\s{2,}/)[2]);
        },
        { timeout: 30_000, interval: 500 },
      )
      .toEqual(JOBS.map(() => "done"));
    expect(lines[0]).toMatch(/^JOB\s+PERIOD\s+STATE\s+LAST RUN\s+NEXT DUE$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(0, 2))).toEqual([
      ["rotate-named-keys", "1h"],
      ["apply-lifecycle-dates", "5m"],
      ["renew-authorities", "1d"],
      ["renew-service-certificate", "1d"],
      ["purge-expired-tokens", "1d"],
      ["purge-job-runs", "1d"],
      ["refresh-crls", "1h"],
      ["retire-service-account-keys", "1h"],
      ["start-service-account-key-rotations", "1h"],
      ["start-static-key-rotations", "1h"],
    ]);
  }, 60_000);

  it("runs: the history names the server process as holder; --json gives the runs", async () => {
    const result = await kpki(["jobs", "runs", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const runs = JSON.parse(result.stdout) as { job: string; status: string; holder: string; summary?: string }[];
    // (apply-lifecycle-dates runs every 5 minutes: a slow test may see it twice)
    expect([...new Set(runs.map((run) => run.job))].sort()).toEqual([...JOBS].sort());
    for (const run of runs) {
      expect(run.status).toBe("succeeded");
      expect(run.holder).toMatch(new RegExp(`:${server.child.pid ?? -1}$`));
    }
    const table = await kpki(["jobs", "runs", "--job", "purge-expired-tokens"]);
    expect(table.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^JOB\s+SLOT\s+STATUS\s+HOLDER\s+STARTED\s+FINISHED\s+SUMMARY$/),
      expect.stringMatching(/^purge-expired-tokens\s+\d{4}-\d\d-\d\dT00:00Z\/1d\s+succeeded\s+\S+:\d+\s+\S+\s+\S+\s+0: nothing to purge$/),
    ]);
  });

  it("run: a job that already ran in this period is skipped (exit 0); an unknown one is exit 3", async () => {
    const result = await kpki(["jobs", "run", "renew-authorities"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^renew-authorities \d{4}-\d\d-\d\dT00:00Z\/1d: skipped-already-done — already ran in this period \(finished \S+ by \S+:\d+\)\n$/);
    const unknown = await kpki(["jobs", "run", "no-such-job"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^kpki: no job no-such-job; the jobs are rotate-named-keys/);
  });

  it("a reader may not see or run jobs (exit 4)", async () => {
    for (const args of [["jobs", "list"], ["jobs", "runs"], ["jobs", "run", "purge-expired-tokens"]]) {
      const result = await kpki(args, readerToken);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(4);
      expect(result.stderr).toMatch(/lacks permission jobs\.(read|run)/);
    }
  });
});

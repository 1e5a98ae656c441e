import type { Command } from "commander";
import { table, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";
import { periodLabel, slotLabel } from "./rotate-command.js";

/** A run as `GET /v1/jobs/runs` returns it. */
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

/** A job as `GET /v1/jobs` returns it. */
interface JobJson {
  name: string;
  periodSeconds: number;
  state: string;
  nextDueAt: string;
  lastRun?: JobRunJson;
}

/** The outcome of `POST /v1/jobs/{job}/run`. */
interface JobOutcomeJson {
  job: string;
  slot: string;
  outcome: string;
  message?: string;
  durationMs?: number;
}

/** `kpki jobs list|runs|run`: the scheduled jobs and their history, over the REST API (permission jobs.read / jobs.run). */
export function registerJobCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const jobs = program.command("jobs").description("scheduled jobs (what `kpki serve` and `kpki rotate` run) and their run history");

  withRemoteOptions(jobs.command("list").description("the jobs: period, state in the current period, last run, next due").option("--json", "print JSON")).action(async (flags: RemoteFlags & { json?: boolean }) => {
    const { body } = await clientFor(flags, env).json<{ items: JobJson[] }>("GET", "/v1/jobs");
    if (flags.json === true) io.out(JSON.stringify(body.items, null, 2) + "\n");
    else
      io.out(
        table([
          ["JOB", "PERIOD", "STATE", "LAST RUN", "NEXT DUE"],
          ...body.items.map((job) => [job.name, periodLabel(job.periodSeconds), job.state, job.lastRun === undefined ? "-" : `${job.lastRun.status} ${job.lastRun.startedAt}`, job.state === "due" ? "now" : job.nextDueAt]),
        ]),
      );
  });

  withRemoteOptions(
    jobs
      .command("runs")
      .description("the run history, newest first")
      .option("--job <name>", "only this job's runs")
      .option("--limit <n>", "runs per page (1–500, default 50)")
      .option("--all", "follow every page")
      .option("--json", "print JSON"),
  ).action(async (flags: RemoteFlags & { job?: string; limit?: string; all?: boolean; json?: boolean }) => {
    const client = clientFor(flags, env);
    const query = new URLSearchParams();
    if (flags.job !== undefined) query.set("job", flags.job);
    if (flags.limit !== undefined) query.set("limit", flags.limit);
    const runs: JobRunJson[] = [];
    for (;;) {
      const { body } = await client.json<{ items: JobRunJson[]; nextCursor?: string }>("GET", `/v1/jobs/runs?${query.toString()}`);
      runs.push(...body.items);
      if (flags.all !== true || body.nextCursor === undefined) break;
      query.set("cursor", body.nextCursor);
    }
    if (flags.json === true) io.out(JSON.stringify(runs, null, 2) + "\n");
    else
      io.out(
        table([
          ["JOB", "SLOT", "STATUS", "HOLDER", "STARTED", "FINISHED", "SUMMARY"],
          ...runs.map((run) => [run.job, slotLabel(run.slot), run.status, run.holder, run.startedAt, run.finishedAt ?? "-", (run.error ?? run.summary ?? "-").replace(/\s+/g, " ")]),
        ]),
      );
  });

  withRemoteOptions(jobs.command("run").description("run a job now, unless it already ran in its current period (the same once-per-period lease)").argument("<job>")).action(
    async (name: string, flags: RemoteFlags) => {
      const { body } = await clientFor(flags, env).json<JobOutcomeJson>("POST", `/v1/jobs/${encodeURIComponent(name)}/run`);
      io.out(`${body.job} ${slotLabel(body.slot)}: ${body.outcome}${body.durationMs === undefined ? "" : ` in ${body.durationMs}ms`}${body.message === undefined ? "" : ` — ${body.message}`}\n`);
      if (body.outcome === "failed") throw new CliError(`job ${body.job} failed`, EXIT.jobFailed);
    },
  );
}

import type { Command } from "commander";
import type { JobOutcome } from "../../../core/jobs/index.js";
import { table, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { LocalOperations, RotatePlanEntry } from "../local-operations.js";

/** 300 → "5m", 3600 → "1h", 86400 → "1d". */
export function periodLabel(seconds: number): string {
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60]] as const) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

/** A slot `<period>s:<index>` as the period it covers: `2026-11-27T20:00Z/1h`. */
export function slotLabel(slot: string): string {
  const match = /^(\d+)s:(\d+)$/.exec(slot);
  if (match === null) return slot;
  const period = Number(match[1]);
  return `${new Date(Number(match[2]) * period * 1000).toISOString().slice(0, 16)}Z/${periodLabel(period)}`;
}

function outcomeJson(outcome: JobOutcome) {
  return {
    job: outcome.job,
    slot: outcome.slot,
    outcome: outcome.status,
    ...(outcome.changed === undefined ? {} : { changed: outcome.changed }),
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
    ...(outcome.millis === undefined ? {} : { durationMs: outcome.millis }),
    ...(outcome.run === undefined ? {} : { holder: outcome.run.holder }),
  };
}

function planJson(entry: RotatePlanEntry) {
  return {
    job: entry.job.name,
    description: entry.job.description,
    periodSeconds: entry.job.periodSeconds,
    slot: entry.slot,
    state: entry.state,
    nextDueAt: entry.nextDueAt.toISOString(),
    ...(entry.lastRun === undefined ? {} : { lastRun: { status: entry.lastRun.status, startedAt: entry.lastRun.startedAt.toISOString(), holder: entry.lastRun.holder } }),
    ...(entry.preview === undefined ? {} : { preview: entry.preview }),
  };
}

/**
 * `kpki rotate`: runs each due scheduled job once against the database, for a Kubernetes CronJob.
 * The same jobs and run lease as `kpki serve`'s scheduler, so it may run beside several replicas
 * and beside another `kpki rotate`: each job runs once per period. Exit 0 when nothing failed
 * (skipped jobs are not failures), 8 when a job failed.
 */
export function registerRotateCommand(program: Command, io: CliOutput, local: LocalOperations): void {
  program
    .command("rotate")
    .description(
      "run every due scheduled job once (rotate named keys, apply key lifecycle dates, renew CA certificates and kpki's TLS certificate, purge expired tokens and old job history) and print a table; " +
        "a job that already ran in its period, or is running elsewhere, is skipped. Exit 8 if a job failed. For a Kubernetes CronJob; talks to the database directly (DATABASE_URL, master key).",
    )
    .option("--job <name>", "run only this job (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--dry-run", "only show where each job stands and what it would do")
    .option("--json", "print JSON instead of a table")
    .action(async (flags: { job?: string[]; dryRun?: boolean; json?: boolean }) => {
      const result = await local.rotate({ ...(flags.job === undefined ? {} : { jobs: flags.job }), dryRun: flags.dryRun === true }, (line) => io.err(`kpki rotate: ${line}\n`));
      if (result.kind === "plan") {
        if (flags.json === true) io.out(JSON.stringify({ plan: result.plan.map(planJson) }, null, 2) + "\n");
        else {
          io.out(
            table([
              ["JOB", "PERIOD", "STATE", "LAST RUN", "NEXT DUE", "WOULD"],
              ...result.plan.map((entry) => [
                entry.job.name,
                periodLabel(entry.job.periodSeconds),
                entry.state,
                entry.lastRun === undefined ? "-" : `${entry.lastRun.status} ${entry.lastRun.startedAt.toISOString()}`,
                entry.state === "due" ? "now" : entry.nextDueAt.toISOString(),
                entry.preview ?? (entry.state === "due" ? "run" : "-"),
              ]),
            ]),
          );
        }
        return;
      }
      const failed = result.outcomes.filter((outcome) => outcome.status === "failed");
      if (flags.json === true) io.out(JSON.stringify({ outcomes: result.outcomes.map(outcomeJson), failed: failed.length }, null, 2) + "\n");
      else {
        io.out(
          table([
            ["JOB", "SLOT", "OUTCOME", "DURATION", "SUMMARY"],
            ...result.outcomes.map((outcome) => [outcome.job, slotLabel(outcome.slot), outcome.status, outcome.millis === undefined ? "-" : `${outcome.millis}ms`, (outcome.message ?? "-").replace(/\s+/g, " ")]),
          ]),
        );
      }
      if (failed.length > 0) throw new CliError(`${failed.length} of ${result.outcomes.length} jobs failed: ${failed.map((outcome) => outcome.job).join(", ")}`, EXIT.jobFailed);
    });
}

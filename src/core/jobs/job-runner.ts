import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from "../shared/page.js";
import type { RandomSource } from "../shared/random.js";
import type { OperationMetrics } from "../shared/operation-metrics.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { JobDefinition } from "./job.js";
import type { JobRun, JobRunRepository } from "./ports.js";

/**
 * What happened to one job when due jobs were run: it ran (and succeeded), it failed, or it was
 * skipped because its run for this period already succeeded, or is running under another holder.
 */
export type JobOutcomeStatus = "ran" | "failed" | "skipped-already-done" | "skipped-held-by-other";

/** One job's outcome, for the `kpki rotate` table, the scheduler's log and `POST /v1/jobs/{job}/run`. */
export interface JobOutcome {
  readonly job: string;
  readonly slot: string;
  readonly status: JobOutcomeStatus;
  /** ran: how many things it changed. */
  readonly changed?: number;
  /** ran: the job's summary; failed: the error; skipped: why. */
  readonly message?: string;
  /** ran or failed: how long the job took. */
  readonly millis?: number;
  /** skipped: the run in the way (who holds it, when it finished). */
  readonly run?: JobRun;
}

/** Where a job stands in its current period slot. */
export interface JobStatus {
  readonly job: JobDefinition;
  readonly slot: string;
  /** due: no successful run in this slot and none running; done: succeeded in this slot; running: held by a live lease. */
  readonly state: "due" | "done" | "running";
  /** The run of the current slot, if there is one. */
  readonly slotRun?: JobRun;
  /** The newest run of the job in any slot. */
  readonly lastRun?: JobRun;
  /** When it is due: now when due, else the start of the next slot. */
  readonly nextDueAt: Date;
}

/** A run's lease: long enough for any job, short enough that a crashed holder's slot is retried soon. */
const LEASE_MILLIS = 10 * 60_000;

/** The period slot `now` falls in: `<period>s:<index>`, so changing a period starts fresh slots. */
export function slotOf(job: JobDefinition, now: Date): string {
  return `${job.periodSeconds}s:${slotIndex(job, now)}`;
}

function slotIndex(job: JobDefinition, now: Date): number {
  return Math.floor(now.getTime() / (job.periodSeconds * 1000));
}

/** The start of the slot after the one `now` falls in. */
export function nextSlotStart(job: JobDefinition, now: Date): Date {
  return new Date((slotIndex(job, now) + 1) * job.periodSeconds * 1000);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs jobs whose current period slot has no successful run, each at most once per slot across
 * every replica and every `kpki rotate` (the claim is a unique (job, slot) row with a lease). A rerun
 * after success does nothing; a failed run is retried by the next attempt in the same slot.
 */
export class JobRunner {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<{ readonly jobRuns: JobRunRepository }>;
      readonly clock: Clock;
      readonly random: RandomSource;
      /** Who runs (host:pid), recorded with each run. */
      readonly holder: string;
      /** Counts job attempts by job and outcome for operators (none when absent). */
      readonly metrics?: OperationMetrics;
    },
  ) {}

  /** Runs `jobs` one after the other. */
  async runDue(context: RequestContext, jobs: readonly JobDefinition[]): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = [];
    for (const job of jobs) outcomes.push(await this.runOne(context, job));
    return outcomes;
  }

  /**
   * Claims the job's current slot and runs it; never throws for the job's own failure (the outcome
   * says so). Without a request id of its own, the run's audit records carry `job:<name>:<slot>`.
   */
  async runOne(callerContext: RequestContext, job: JobDefinition): Promise<JobOutcome> {
    const outcome = await this.attempt(callerContext, job);
    this.deps.metrics?.jobFinished({ job: job.name, status: outcome.status });
    return outcome;
  }

  /** One attempt: claim, run, record. */
  private async attempt(callerContext: RequestContext, job: JobDefinition): Promise<JobOutcome> {
    const now = this.deps.clock.now();
    const slot = slotOf(job, now);
    const context: RequestContext = callerContext.requestId === undefined ? { ...callerContext, requestId: `job:${job.name}:${slot}` } : callerContext;
    let claim;
    try {
      claim = await this.deps.uow.run((r) =>
        r.jobRuns.claim({ id: newId<string>(now, this.deps.random), job: job.name, slot, holder: this.deps.holder, now, leaseUntil: new Date(now.getTime() + LEASE_MILLIS) }),
      );
    } catch (error) {
      // Nothing ran: the database refused the claim (unreachable, busy). A failure, so that
      // `kpki rotate` exits non-zero and the next attempt in this slot tries again.
      return { job: job.name, slot, status: "failed", message: `could not claim the run: ${messageOf(error)}` };
    }
    if (claim.outcome === "succeeded-already") {
      return { job: job.name, slot, status: "skipped-already-done", message: `already ran in this period (finished ${claim.run.finishedAt?.toISOString() ?? "?"} by ${claim.run.holder})`, run: claim.run };
    }
    if (claim.outcome === "held-by-another") {
      return { job: job.name, slot, status: "skipped-held-by-other", message: `running under ${claim.run.holder} (lease until ${claim.run.leaseUntil.toISOString()})`, run: claim.run };
    }
    const started = Date.now();
    let outcome: JobOutcome;
    try {
      const summary = await job.run(context, now);
      outcome = { job: job.name, slot, status: "ran", changed: summary.changed, message: summary.message, millis: Date.now() - started };
    } catch (error) {
      outcome = { job: job.name, slot, status: "failed", message: messageOf(error), millis: Date.now() - started };
    }
    let recorded: boolean;
    try {
      recorded = await this.deps.uow.run((r) =>
        r.jobRuns.finish(
          job.name,
          slot,
          this.deps.holder,
          outcome.status === "ran"
            ? { status: "succeeded", finishedAt: this.deps.clock.now(), summary: `${outcome.changed ?? 0}: ${outcome.message ?? ""}` }
            : { status: "failed", finishedAt: this.deps.clock.now(), error: outcome.message ?? "failed" },
        ),
      );
    } catch (error) {
      // The work happened but is not recorded: the lease expires and a later attempt runs it again
      // (every job is idempotent: it acts only on what is still due).
      return { ...outcome, status: "failed", message: `${outcome.message ?? ""}; the run could not be recorded: ${messageOf(error)}` };
    }
    if (!recorded) {
      // It outlived its lease and another holder took the slot over: the work may have been done
      // twice. Say so (a failure) rather than report a clean run; the lease is too short for it.
      return { ...outcome, status: "failed", message: `${outcome.message ?? ""}; the run outlived its ${LEASE_MILLIS / 60_000}-minute lease and another holder took the slot over` };
    }
    return outcome;
  }

  /** Where each job stands in its current slot, and its last run (GET /v1/jobs, `kpki rotate --dry-run`). */
  async status(jobs: readonly JobDefinition[]): Promise<JobStatus[]> {
    const now = this.deps.clock.now();
    return this.deps.uow.read(async (r) => {
      const statuses: JobStatus[] = [];
      for (const job of jobs) {
        const slot = slotOf(job, now);
        const slotRun = await r.jobRuns.findBySlot(job.name, slot);
        const lastRun = (await r.jobRuns.list({ job: job.name, limit: 1 })).items[0];
        const state = slotRun?.status === "succeeded" ? "done" : slotRun?.status === "running" && slotRun.leaseUntil.getTime() > now.getTime() ? "running" : "due";
        statuses.push({
          job,
          slot,
          state,
          ...(slotRun === undefined ? {} : { slotRun }),
          ...(lastRun === undefined ? {} : { lastRun }),
          nextDueAt: state === "due" ? now : nextSlotStart(job, now),
        });
      }
      return statuses;
    });
  }

  /** Deletes the history of finished runs older than `keepSeconds` (a running run is kept: it is a live lease). */
  async purgeHistory(keepSeconds: number): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - keepSeconds * 1000);
    return this.deps.uow.run((r) => r.jobRuns.deleteFinishedBefore(before));
  }

  /** The run history, newest first. */
  async history(query: { job?: string; limit?: number; after?: string }): Promise<Page<JobRun>> {
    const limit = query.limit ?? PAGE_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) throw new DomainError("invalid_input", `limit: 1–${PAGE_LIMIT_MAX}`, { field: "limit" });
    return this.deps.uow.read((r) => r.jobRuns.list({ limit, ...(query.job === undefined ? {} : { job: query.job }), ...(query.after === undefined ? {} : { after: query.after }) }));
  }
}

/** The job called `name`, or `not_found` naming the jobs there are. */
export function findJob(jobs: readonly JobDefinition[], name: string): JobDefinition {
  const job = jobs.find((candidate) => candidate.name === name);
  if (job === undefined) throw new DomainError("not_found", `no job ${name}; the jobs are ${jobs.map((j) => j.name).join(", ")}`, { field: "job" });
  return job;
}

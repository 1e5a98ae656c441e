import type { Clock } from "../shared/clock.js";
import { newId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { JobDefinition } from "./job.js";
import type { JobRunRepository } from "./ports.js";

/** What happened to one job when due jobs were run. */
export interface JobOutcome {
  readonly job: string;
  readonly slot: string;
  readonly status: "succeeded" | "failed" | "skipped";
  /** For skipped: already succeeded in this slot, or running elsewhere. */
  readonly reason?: string;
  readonly changed?: number;
  readonly message?: string;
  readonly millis?: number;
}

/** A run's lease: long enough for any job, short enough that a crashed holder's slot is retried soon. */
const LEASE_MILLIS = 10 * 60_000;

/** The period slot `now` falls in: `<period>s:<index>`, so changing a period starts fresh slots. */
export function slotOf(job: JobDefinition, now: Date): string {
  return `${job.periodSeconds}s:${Math.floor(now.getTime() / (job.periodSeconds * 1000))}`;
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
    },
  ) {}

  async runDue(context: RequestContext, jobs: readonly JobDefinition[]): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = [];
    for (const job of jobs) outcomes.push(await this.runOne(context, job));
    return outcomes;
  }

  async runOne(context: RequestContext, job: JobDefinition): Promise<JobOutcome> {
    const now = this.deps.clock.now();
    const slot = slotOf(job, now);
    const claim = await this.deps.uow.run((r) =>
      r.jobRuns.claim({ id: newId<string>(now, this.deps.random), job: job.name, slot, holder: this.deps.holder, now, leaseUntil: new Date(now.getTime() + LEASE_MILLIS) }),
    );
    if (claim !== "claimed") {
      return { job: job.name, slot, status: "skipped", reason: claim === "succeeded-already" ? "already ran in this period" : "running elsewhere" };
    }
    const started = Date.now();
    try {
      const summary = await job.run(context, now);
      await this.deps.uow.run((r) => r.jobRuns.finish(job.name, slot, this.deps.holder, { status: "succeeded", finishedAt: this.deps.clock.now(), summary: `${summary.changed}: ${summary.message}` }));
      return { job: job.name, slot, status: "succeeded", changed: summary.changed, message: summary.message, millis: Date.now() - started };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.deps.uow.run((r) => r.jobRuns.finish(job.name, slot, this.deps.holder, { status: "failed", finishedAt: this.deps.clock.now(), error: message }));
      return { job: job.name, slot, status: "failed", message, millis: Date.now() - started };
    }
  }
}

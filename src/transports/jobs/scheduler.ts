import type { JobDefinition, JobOutcome, JobRunner } from "../../core/jobs/index.js";
import type { Logger } from "../../core/shared/logger.js";
import type { RequestContext } from "../../core/shared/request-context.js";

/** How often the scheduler looks for due jobs; each job still runs once per its own period. */
const TICK_MILLIS = 60_000;

/**
 * Runs the scheduled jobs inside `kpki serve`: every minute it asks the runner to run what is due.
 * Several replicas may all tick; the runner's slot claim lets exactly one of them run each job.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      readonly runner: JobRunner;
      readonly jobs: readonly JobDefinition[];
      readonly logger: Logger;
      readonly context: RequestContext;
    },
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    const tick = () => {
      if (this.running !== undefined) return;
      this.running = this.deps.runner
        .runDue(this.deps.context, this.deps.jobs)
        .then((outcomes) => this.log(outcomes))
        .catch((error: unknown) => this.deps.logger.error({ err: error }, "scheduled jobs could not run"))
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(tick, TICK_MILLIS);
    this.timer.unref();
    setImmediate(tick);
  }

  /** Stops ticking and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private log(outcomes: readonly JobOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.status === "skipped-already-done" || outcome.status === "skipped-held-by-other") continue;
      const entry = { job: outcome.job, slot: outcome.slot, status: outcome.status, changed: outcome.changed, ms: outcome.millis };
      if (outcome.status === "failed") this.deps.logger.error({ ...entry, error: outcome.message }, "scheduled job failed");
      else this.deps.logger.info({ ...entry, message: outcome.message }, "scheduled job ran");
    }
  }
}

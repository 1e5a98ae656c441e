import type { RequestContext } from "../shared/request-context.js";

/** What one run of a job did, for the run history and the `kpki rotate` table. */
export interface JobSummary {
  /** How many things it changed (certificates renewed, keys rotated…); 0 when nothing was due. */
  readonly changed: number;
  readonly message: string;
}

/**
 * A scheduled job: pure use-case code over the core services; the scheduler (transports/jobs)
 * and `kpki rotate` decide when it runs, the run lease decides who runs it.
 */
export interface JobDefinition {
  readonly name: string;
  readonly description: string;
  /** One run per period slot (slot = floor(time / period)). */
  readonly periodSeconds: number;
  run(context: RequestContext, now: Date): Promise<JobSummary>;
  /** What a run now would do, without doing it (`kpki rotate --dry-run`); absent when a job cannot tell cheaply. */
  preview?(now: Date): Promise<string>;
}

import type { Page } from "../shared/page.js";

/** A stored job run. */
export interface JobRun {
  readonly id: string;
  readonly job: string;
  readonly slot: string;
  readonly status: "running" | "succeeded" | "failed";
  readonly holder: string;
  readonly leaseUntil: Date;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
  readonly summary?: string;
  readonly error?: string;
  readonly attempts: number;
}

/**
 * The outcome of trying to claim a slot: claimed by us, or the run that stands in the way (a
 * succeeded one, or a running one whose holder's lease is still live).
 */
export type ClaimOutcome = { readonly outcome: "claimed" } | { readonly outcome: "succeeded-already"; readonly run: JobRun } | { readonly outcome: "held-by-another"; readonly run: JobRun };

/** Storage of job runs: the lease that makes each run happen once across replicas. */
export interface JobRunRepository {
  /**
   * Claims (job, slot) for `holder` until `leaseUntil`, atomically: inserts a running row, or takes
   * over a failed run or one whose lease expired. Never takes a succeeded or a live run.
   */
  claim(run: { id: string; job: string; slot: string; holder: string; now: Date; leaseUntil: Date }): Promise<ClaimOutcome>;
  /** Records the end of `holder`'s run; false when the run is no longer its own (its lease expired and another holder took the slot). */
  finish(job: string, slot: string, holder: string, outcome: { status: "succeeded" | "failed"; finishedAt: Date; summary?: string; error?: string }): Promise<boolean>;
  /** The run of one slot, if any. */
  findBySlot(job: string, slot: string): Promise<JobRun | undefined>;
  /** Deletes finished (succeeded or failed) runs that started before `before`; returns how many. */
  deleteFinishedBefore(before: Date): Promise<number>;
  /** Newest first (by id: UUIDv7, so by first claim); `after` is the id of the previous page's last run. */
  list(filter: { job?: string; limit: number; after?: string }): Promise<Page<JobRun>>;
}

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

/** The outcome of trying to claim a slot. */
export type ClaimOutcome = "claimed" | "succeeded-already" | "held-by-another";

/** Storage of job runs: the lease that makes each run happen once across replicas. */
export interface JobRunRepository {
  /**
   * Claims (job, slot) for `holder` until `leaseUntil`: inserts a running row, or takes over a
   * failed run or one whose lease expired. Never takes a succeeded or a live run.
   */
  claim(run: { id: string; job: string; slot: string; holder: string; now: Date; leaseUntil: Date }): Promise<ClaimOutcome>;
  finish(job: string, slot: string, holder: string, outcome: { status: "succeeded" | "failed"; finishedAt: Date; summary?: string; error?: string }): Promise<void>;
  /** Newest first. */
  list(filter: { job?: string; limit: number }): Promise<readonly JobRun[]>;
}

import type { ClaimOutcome, JobRun, JobRunRepository } from "../../core/jobs/ports.js";
import type { JobRun as JobRunRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

function toDomain(row: JobRunRow): JobRun {
  return {
    id: row.id,
    job: row.job,
    slot: row.slot,
    status: row.status as JobRun["status"],
    holder: row.holder,
    leaseUntil: row.leaseUntil,
    startedAt: row.startedAt,
    ...(row.finishedAt === null ? {} : { finishedAt: row.finishedAt }),
    ...(row.summary === null ? {} : { summary: row.summary }),
    ...(row.error === null ? {} : { error: row.error }),
    attempts: row.attempts,
  };
}

/** Job runs in `job_runs`; the unique (job, slot) row is the lease. */
export class PrismaJobRunRepository implements JobRunRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async claim(run: { id: string; job: string; slot: string; holder: string; now: Date; leaseUntil: Date }): Promise<ClaimOutcome> {
    const existing = await this.db.jobRun.findUnique({ where: { job_slot: { job: run.job, slot: run.slot } } });
    if (existing === null) {
      // Two claimers may both get here; the unique (job, slot) index lets one insert win. The
      // loser's transaction fails with already_exists, which the runner reports as "elsewhere".
      await uniquely(
        () => this.db.jobRun.create({ data: { id: run.id, job: run.job, slot: run.slot, status: "running", holder: run.holder, leaseUntil: run.leaseUntil, startedAt: run.now } }),
        `job ${run.job} was claimed concurrently for slot ${run.slot}`,
      );
      return "claimed";
    }
    if (existing.status === "succeeded") return "succeeded-already";
    // A failed run, or a running one whose holder's lease ran out (it died): take it over — the
    // conditional update lets only one of several claimers succeed.
    const taken = await this.db.jobRun.updateMany({
      where: { job: run.job, slot: run.slot, OR: [{ status: "failed" }, { status: "running", leaseUntil: { lte: run.now } }] },
      data: { status: "running", holder: run.holder, leaseUntil: run.leaseUntil, startedAt: run.now, finishedAt: null, summary: null, error: null, attempts: { increment: 1 } },
    });
    return taken.count === 1 ? "claimed" : "held-by-another";
  }

  async finish(job: string, slot: string, holder: string, outcome: { status: "succeeded" | "failed"; finishedAt: Date; summary?: string; error?: string }): Promise<void> {
    await this.db.jobRun.updateMany({
      where: { job, slot, holder, status: "running" },
      data: { status: outcome.status, finishedAt: outcome.finishedAt, summary: outcome.summary ?? null, error: outcome.error ?? null },
    });
  }

  async list(filter: { job?: string; limit: number }): Promise<readonly JobRun[]> {
    const rows = await this.db.jobRun.findMany({ where: filter.job === undefined ? {} : { job: filter.job }, orderBy: { startedAt: "desc" }, take: filter.limit });
    return rows.map(toDomain);
  }
}

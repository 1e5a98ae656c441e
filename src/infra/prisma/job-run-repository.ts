import type { ClaimOutcome, JobRun, JobRunRepository } from "../../core/jobs/ports.js";
import type { Page } from "../../core/shared/page.js";
import { Prisma, type JobRun as JobRunRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";

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

  /**
   * One statement decides the claim: insert the (job, slot) row, or on conflict take it over only
   * when it failed or its lease ran out. PostgreSQL locks the conflicting row and re-checks the
   * condition on its latest version; SQLite runs the statement under its single write lock, taken
   * before anything is read, so the busy timeout waits for another process instead of failing on
   * a stale read (a read-then-insert transaction got SQLITE_BUSY there, or a unique violation on
   * PostgreSQL). A row comes back only when we hold the slot.
   */
  async claim(run: { id: string; job: string; slot: string; holder: string; now: Date; leaseUntil: Date }): Promise<ClaimOutcome> {
    const claimed = await this.db.$queryRaw<{ holder: string }[]>(Prisma.sql`
      INSERT INTO "job_runs" ("id", "job", "slot", "status", "holder", "leaseUntil", "startedAt", "attempts")
      VALUES (${run.id}, ${run.job}, ${run.slot}, 'running', ${run.holder}, ${run.leaseUntil}, ${run.now}, 1)
      ON CONFLICT ("job", "slot") DO UPDATE SET
        "status" = 'running', "holder" = excluded."holder", "leaseUntil" = excluded."leaseUntil", "startedAt" = excluded."startedAt",
        "finishedAt" = NULL, "summary" = NULL, "error" = NULL, "attempts" = "job_runs"."attempts" + 1
      WHERE "job_runs"."status" = 'failed' OR ("job_runs"."status" = 'running' AND "job_runs"."leaseUntil" <= ${run.now})
      RETURNING "holder"`);
    if (claimed.length === 1) return { outcome: "claimed" };
    const existing = await this.findBySlot(run.job, run.slot);
    if (existing === undefined) throw new Error(`job ${run.job} slot ${run.slot}: the claim neither inserted nor found a run`);
    return existing.status === "succeeded" ? { outcome: "succeeded-already", run: existing } : { outcome: "held-by-another", run: existing };
  }

  async finish(job: string, slot: string, holder: string, outcome: { status: "succeeded" | "failed"; finishedAt: Date; summary?: string; error?: string }): Promise<boolean> {
    const { count } = await this.db.jobRun.updateMany({
      where: { job, slot, holder, status: "running" },
      data: { status: outcome.status, finishedAt: outcome.finishedAt, summary: outcome.summary ?? null, error: outcome.error ?? null },
    });
    return count === 1;
  }

  async findBySlot(job: string, slot: string): Promise<JobRun | undefined> {
    const row = await this.db.jobRun.findUnique({ where: { job_slot: { job, slot } } });
    return row === null ? undefined : toDomain(row);
  }

  async deleteFinishedBefore(before: Date): Promise<number> {
    const { count } = await this.db.jobRun.deleteMany({ where: { status: { in: ["succeeded", "failed"] }, startedAt: { lt: before } } });
    return count;
  }

  async list(filter: { job?: string; limit: number; after?: string }): Promise<Page<JobRun>> {
    const rows = await this.db.jobRun.findMany({
      where: { ...(filter.job === undefined ? {} : { job: filter.job }), ...(filter.after === undefined ? {} : { id: { lt: filter.after } }) },
      orderBy: { id: "desc" },
      take: filter.limit + 1,
    });
    const items = rows.slice(0, filter.limit).map(toDomain);
    const last = items.at(-1);
    return rows.length > filter.limit && last !== undefined ? { items, nextCursor: last.id } : { items };
  }
}

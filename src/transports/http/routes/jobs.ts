import { Router } from "express";
import { findJob, type JobDefinition, type JobOutcome, type JobRun, type JobRunner, type JobStatus } from "../../../core/jobs/index.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the job routes: the one schedule (transports/jobs/schedule.ts) and its runner. */
export interface JobRouteDependencies {
  readonly scheduledJobs: readonly JobDefinition[];
  readonly jobRunner: JobRunner;
}

/** A stored run as JSON. */
export function jobRunJson(run: JobRun) {
  return {
    id: run.id,
    job: run.job,
    slot: run.slot,
    status: run.status,
    holder: run.holder,
    startedAt: run.startedAt.toISOString(),
    ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt.toISOString() }),
    leaseUntil: run.leaseUntil.toISOString(),
    attempts: run.attempts,
    ...(run.summary === undefined ? {} : { summary: run.summary }),
    ...(run.error === undefined ? {} : { error: run.error }),
  };
}

function jobStatusJson(status: JobStatus) {
  return {
    name: status.job.name,
    description: status.job.description,
    periodSeconds: status.job.periodSeconds,
    slot: status.slot,
    state: status.state,
    nextDueAt: status.nextDueAt.toISOString(),
    ...(status.lastRun === undefined ? {} : { lastRun: jobRunJson(status.lastRun) }),
  };
}

function jobOutcomeJson(outcome: JobOutcome) {
  return {
    job: outcome.job,
    slot: outcome.slot,
    outcome: outcome.status,
    ...(outcome.changed === undefined ? {} : { changed: outcome.changed }),
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
    ...(outcome.millis === undefined ? {} : { durationMs: outcome.millis }),
    ...(outcome.run === undefined ? {} : { run: jobRunJson(outcome.run) }),
  };
}

/**
 * The scheduled jobs and their run history (`/v1/jobs`): what `kpki serve`'s scheduler and
 * `kpki rotate` ran, and a run on request under the same once-per-period lease.
 */
export function jobRoutes(deps: JobRouteDependencies): Router {
  const router = Router();

  router.get("/v1/jobs", async (_req, res) => {
    res.json({ items: (await deps.jobRunner.status(deps.scheduledJobs)).map(jobStatusJson) });
  });

  router.get("/v1/jobs/runs", async (req, res) => {
    const q = req.query as { job?: string; limit?: string; cursor?: string };
    const page = await deps.jobRunner.history({
      ...(q.job === undefined ? {} : { job: q.job }),
      ...(q.limit === undefined ? {} : { limit: Number(q.limit) }),
      ...(q.cursor === undefined ? {} : { after: q.cursor }),
    });
    res.json({ items: page.items.map(jobRunJson), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) });
  });

  router.post("/v1/jobs/:job/run", async (req, res) => {
    const job = findJob(deps.scheduledJobs, String(req.params.job));
    res.json(jobOutcomeJson(await deps.jobRunner.runOne(requestContext(res), job)));
  });

  return router;
}

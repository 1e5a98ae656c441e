import { Router } from "express";
import type { AuditTrail } from "../../../core/access/index.js";

/** Dependencies of the audit route. */
export interface AuditRouteDependencies {
  readonly auditTrail: AuditTrail;
}

/** `GET /v1/audit`: the trail, filtered and paginated (the validator has checked the query). */
export function auditRoutes(deps: AuditRouteDependencies): Router {
  const router = Router();
  router.get("/v1/audit", async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const page = await deps.auditTrail.list({
      ...(q.actor === undefined ? {} : { actor: q.actor }),
      ...(q.action === undefined ? {} : { action: q.action }),
      ...(q.target === undefined ? {} : { target: q.target }),
      ...(q.since === undefined ? {} : { since: new Date(q.since) }),
      ...(q.until === undefined ? {} : { until: new Date(q.until) }),
      ...(q.limit === undefined ? {} : { limit: Number(q.limit) }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    res.json({
      items: page.items.map((entry) => ({ ...entry, time: entry.time.toISOString() })),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    });
  });
  return router;
}

import { Router } from "express";
import type { Registry } from "prom-client";
import { DomainError } from "../../../core/shared/domain-error.js";

/** Dependencies of the service routes. */
export interface ServiceRouteDependencies {
  readonly openApiDocument: object;
  /** Named readiness checks; each resolves to "ok" or a short reason. */
  readonly readiness: () => Promise<Record<string, string>>;
  readonly metrics: Registry;
}

/** Liveness, readiness, the OpenAPI document and Prometheus metrics. */
export function serviceRoutes(deps: ServiceRouteDependencies): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every((value) => value === "ok");
    if (ready) {
      res.json({ status: "ok", checks });
      return;
    }
    throw new DomainError(
      "unavailable",
      Object.entries(checks)
        .filter(([, v]) => v !== "ok")
        .map(([k, v]) => `${k}: ${v}`)
        .join("; "),
    );
  });
  router.get("/openapi.json", (_req, res) => {
    res.json(deps.openApiDocument);
  });
  router.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
  return router;
}

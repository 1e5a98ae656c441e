import type { RequestHandler } from "express";
import { Counter, Histogram, type Registry } from "prom-client";
import type { OpenApiRequest } from "express-openapi-validator/dist/framework/types.js";

/**
 * Request count and latency by OpenAPI operation and status. Labelled by operationId, never by raw
 * path, so label cardinality stays bounded whatever clients send.
 */
export function httpMetrics(registry: Registry): RequestHandler {
  // Apps built over one runtime's registry (tests build several) share its two families.
  const requests = (registry.getSingleMetric("kpki_http_requests_total") as Counter<"operation" | "method" | "status"> | undefined) ?? new Counter({ name: "kpki_http_requests_total", help: "HTTP requests by operation and status", labelNames: ["operation", "method", "status"], registers: [registry] });
  const duration =
    (registry.getSingleMetric("kpki_http_request_duration_seconds") as Histogram<"operation" | "method"> | undefined) ??
    new Histogram({
    name: "kpki_http_request_duration_seconds",
    help: "HTTP request latency by operation",
    labelNames: ["operation", "method"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const operation = (req as OpenApiRequest).openapi?.schema.operationId ?? "unmatched";
      requests.inc({ operation, method: req.method, status: String(res.statusCode) });
      duration.observe({ operation, method: req.method }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

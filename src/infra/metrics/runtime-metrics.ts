import { collectDefaultMetrics, Registry } from "prom-client";
import type { OperationMetrics } from "../../core/shared/operation-metrics.js";
import type { Database } from "../prisma/prisma-client.js";
import { registerDatabasePoolMetrics } from "./database-pool-metrics.js";
import { PrometheusOperationMetrics } from "./prometheus-operation-metrics.js";

/** A runtime's metrics: one registry that /metrics serves, and the core's operation counters in it. */
export interface RuntimeMetrics {
  readonly registry: Registry;
  readonly operations: OperationMetrics;
}

/** The registry of one runtime: process metrics (prom-client defaults), operation counters, the database pool. */
export function createRuntimeMetrics(db: Database): RuntimeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerDatabasePoolMetrics(registry, db);
  return { registry, operations: new PrometheusOperationMetrics(registry) };
}

import { Gauge, type Registry } from "prom-client";
import { poolStatistics, type Database } from "../prisma/prisma-client.js";

/**
 * The database connection pool at scrape time. PostgreSQL: the pg pool's open, idle and waiting
 * counts. SQLite has one embedded connection and no pool: the family is declared (dashboards and
 * alerts find it) but carries no samples.
 */
export function registerDatabasePoolMetrics(registry: Registry, db: Database): void {
  new Gauge({
    name: "kpki_database_pool",
    help: "PostgreSQL connection pool: open connections (state=total), idle ones (state=idle), queries waiting for one (state=waiting); no samples on SQLite (no pool)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const pool = poolStatistics(db);
      if (pool === undefined) return;
      this.set({ state: "total" }, pool.total);
      this.set({ state: "idle" }, pool.idle);
      this.set({ state: "waiting" }, pool.waiting);
    },
  });
}

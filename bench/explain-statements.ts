/**
 * What a repository call costs inside PostgreSQL: runs it in-process on kpki's own repositories
 * (the code `kpki serve` runs, through Prisma's pg adapter), records the statements Prisma sends,
 * and runs each again under `EXPLAIN (ANALYZE, BUFFERS)` with the same parameters. Used by
 * bench/inventory-scale.ts to tell the database's share of a request from the rest (HTTPS,
 * authentication, validation, mapping, JSON).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaCertificateRepository } from "../src/infra/prisma/certificate-repository.js";
import { PrismaClient } from "../src/infra/prisma/generated/postgresql/client.js";
import { PrismaManagedObjectRepository } from "../src/infra/prisma/managed-object-repository.js";
import type { Database } from "../src/infra/prisma/prisma-client.js";

/** One statement of a call: its SQL, the plan's execution time (median of three) and the plan's outline. */
export interface ExplainedStatement {
  readonly sql: string;
  readonly executionMs: number;
  /** The plan's node lines (without the per-node figures' details beyond the first line of each node). */
  readonly plan: readonly string[];
}

export interface ExplainingRepositories {
  readonly certificates: PrismaCertificateRepository;
  readonly objects: PrismaManagedObjectRepository;
  /** Runs `call` once (recording its statements), then EXPLAIN ANALYZEs each of them. */
  explain(call: () => Promise<unknown>): Promise<ExplainedStatement[]>;
  close(): Promise<void>;
}

interface RecordedQuery {
  readonly text: string;
  readonly values?: unknown[];
}

export async function openExplainingRepositories(url: string): Promise<ExplainingRepositories> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  let recorded: RecordedQuery[] | undefined;
  const query = pool.query.bind(pool) as (config: unknown, values?: unknown) => Promise<unknown>;
  // The adapter sends each statement as pool.query({ text, values, … }); record it on the way.
  (pool as unknown as { query: typeof query }).query = (config, values) => {
    if (recorded !== undefined && typeof config === "object" && config !== null && "text" in config) recorded.push(config as RecordedQuery);
    return query(config, values);
  };
  const db = new PrismaClient({ adapter: new PrismaPg(pool) }) as unknown as Database;
  const explainer = new pg.Client({ connectionString: url });
  await explainer.connect();
  return {
    certificates: new PrismaCertificateRepository(db),
    objects: new PrismaManagedObjectRepository(db, "postgresql"),
    explain: async (call) => {
      recorded = [];
      await call();
      const statements = recorded;
      recorded = undefined;
      const explained: ExplainedStatement[] = [];
      for (const statement of statements) {
        const runs: { ms: number; plan: string[] }[] = [];
        for (let i = 0; i < 3; i++) {
          const result = await explainer.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values ?? []);
          const lines = result.rows.map((row) => row["QUERY PLAN"]);
          const ms = Number(/Execution Time: ([\d.]+) ms/.exec(lines.join("\n"))?.[1] ?? NaN);
          runs.push({ ms, plan: lines.filter((line) => /^\s*(->\s*)?[A-Z][\w ]+(on|using|Scan|Sort|Limit|Append|Join|Loop|Hash|Aggregate|Subquery)/.test(line)).map((line) => line.replace(/\s+\(cost=.*$/, "").replace(/\s+\(actual.*$/, "")) });
        }
        runs.sort((a, b) => a.ms - b.ms);
        const middle = runs[1] ?? runs[0];
        explained.push({ sql: statement.text, executionMs: middle?.ms ?? NaN, plan: middle?.plan ?? [] });
      }
      return explained;
    },
    close: async () => {
      await explainer.end();
      await db.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

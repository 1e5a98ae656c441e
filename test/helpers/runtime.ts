import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { vi } from "vitest";
import type { Express } from "express";
import { buildHttpApp, openRuntime, prepareService, type Runtime } from "../../src/app.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { Config } from "../../src/config/config.js";
import type { UsageRecorder } from "../../src/core/kms/usage-recorder.js";
import type { Clock } from "../../src/core/shared/clock.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

/** A clock that tests move forward (`advance`), e.g. past a time window. */
export interface TestClock extends Clock {
  advance(seconds: number): void;
}

/** The wall clock plus whatever the test added. */
export function testClock(): TestClock {
  let offsetMillis = 0;
  return {
    now: () => new Date(Date.now() + offsetMillis),
    advance: (seconds) => {
      offsetMillis += seconds * 1000;
    },
  };
}

/** The admin token every test runtime is bootstrapped with. */
export const TEST_ADMIN_TOKEN = "kpki_test-admin-token-0123456789abcdefghijklmnopqrstuv";

/** A bootstrapped kpki on a fresh database (SQLite, or PostgreSQL under TEST_DATABASE_URL). */
export interface TestRuntime {
  readonly runtime: Runtime;
  readonly config: Config;
  readonly database: TestDatabase;
  readonly dataDir: string;
  /** The Express app, validating responses against the contract too. */
  readonly app: Express;
  /** Closes the runtime; `keepData` leaves database and data dir for a restart. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** Starts a runtime on a new database and data dir (or reuses `reuse` for restart tests). */
export async function startTestRuntime(options: { reuse?: { database: TestDatabase; dataDir: string }; env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<TestRuntime> {
  const database = options.reuse?.database ?? (await createTestDatabase());
  const dataDir = options.reuse?.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "kpki-data-")));
  const config = loadConfig({ KPKI_DATA_DIR: dataDir, DATABASE_URL: database.url, KPKI_LOG_LEVEL: "silent", KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, ...options.env });
  const runtime = await openRuntime(config, createLogger("silent"), options.clock === undefined ? {} : { clock: options.clock });
  try {
    await prepareService(runtime);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const app = buildHttpApp(runtime, { validateResponses: true });
  return {
    runtime,
    config,
    database,
    dataDir,
    app,
    close: async ({ keepData = false } = {}) => {
      await runtime.close();
      if (!keepData) {
        await database.drop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** `Authorization` header with the test admin token. */
export const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } as const;

/** The key-usage recorder of a runtime: `record` counts a use, `flush` writes counted uses (counters and aggregated audit rows). */
export type UsageFlush = Pick<UsageRecorder, "flush" | "record">;

/**
 * A test runtime whose counted key uses are written only when the test calls `usage.flush()`: the
 * runtime writes them every 5 s on an interval, and with only setInterval faked while it starts,
 * that timer never runs, so "no row was written" cannot be disturbed by an earlier flush landing.
 */
export async function startTestRuntimeFlushingByHand(): Promise<{ readonly t: TestRuntime; readonly usage: UsageFlush }> {
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
  let t: TestRuntime;
  try {
    t = await startTestRuntime();
  } finally {
    vi.useRealTimers();
  }
  return { t, usage: usageRecorderOf(t) };
}

/** The runtime's key-usage recorder: private to the key service, reached so tests can flush at known points. */
export const usageRecorderOf = (t: TestRuntime): UsageFlush =>
  (t.runtime.services.keyOperations as unknown as { deps: { usage: UsageFlush } }).deps.usage;

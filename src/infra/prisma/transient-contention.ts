/**
 * Transient contention: the database refused a transaction because of other transactions, not
 * because of anything in it, and the same transaction run again will most likely succeed.
 *
 * - PostgreSQL (SQLSTATE, https://www.postgresql.org/docs/current/errcodes-appendix.html):
 *   40P01 deadlock_detected (this transaction was picked as the victim), 40001
 *   serialization_failure, 55P03 lock_not_available. The server rolled the transaction back.
 * - SQLite (https://www.sqlite.org/rescode.html#busy): SQLITE_BUSY and its extended codes, e.g. a
 *   reading transaction that cannot upgrade to a writer while another connection (another kpki
 *   process) writes, "database is locked". busy_timeout does not help there: waiting cannot make
 *   the stale snapshot current.
 * - Prisma P2034 ("write conflict or deadlock, please retry"), what the driver adapters report for
 *   40001.
 */
const TRANSIENT_CODES = new Set(["40P01", "40001", "55P03", "P2034"]);

/**
 * True when the error, or what it wraps, carries a transient-contention code. Prisma wraps driver
 * errors (PrismaClientKnownRequestError.meta.driverAdapterError.cause.originalCode), the adapters
 * also throw DriverAdapterError ({ cause: { originalCode } }) and better-sqlite3 its own SqliteError
 * ({ code }); the walk covers all three without depending on their classes.
 */
export function isTransientContention(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const fields = current as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: unknown };
    for (const code of [fields.code, fields.originalCode]) {
      if (typeof code === "string" && (TRANSIENT_CODES.has(code) || code.startsWith("SQLITE_BUSY"))) return true;
    }
    pending.push(fields.cause);
    if (typeof fields.meta === "object" && fields.meta !== null) pending.push((fields.meta as { driverAdapterError?: unknown }).driverAdapterError);
  }
  return false;
}

/** How often and how patiently a transaction is rerun after transient contention. */
export interface ContentionRetryPolicy {
  /** Runs in all, the first included. */
  readonly attempts: number;
  /** Delay before the second run; doubles with each further run, up to `maxDelayMillis`. */
  readonly baseDelayMillis: number;
  readonly maxDelayMillis: number;
}

/**
 * Five runs, 10–20 ms then 20–40, 40–80, 80–160 ms: about 300 ms at most, well under a client's
 * patience, enough for the other transaction of a deadlock (the survivor) to commit.
 */
export const DEFAULT_CONTENTION_RETRY: ContentionRetryPolicy = { attempts: 5, baseDelayMillis: 10, maxDelayMillis: 160 };

/** What the retry loop needs from the outside world; tests pass a recording `sleep`. */
export interface RetryEnvironment {
  readonly sleep: (millis: number) => Promise<void>;
  /** A number in [0, 1); Math.random by default (jitter needs no cryptographic quality). */
  readonly random: () => number;
}

const REAL_ENVIRONMENT: RetryEnvironment = {
  sleep: (millis) => new Promise((resolve) => setTimeout(resolve, millis)),
  random: Math.random,
};

/**
 * The delay before run `attempt + 1`: exponential, with jitter in [d, 2d) so two transactions that
 * just deadlocked do not collide again in lockstep.
 */
export function contentionDelayMillis(policy: ContentionRetryPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.baseDelayMillis * 2 ** (attempt - 1), policy.maxDelayMillis);
  return Math.floor(base * (1 + random()));
}

/**
 * Runs `run` and reruns it from the start while it fails with transient contention, at most
 * `policy.attempts` runs; the last error (or any other error at once) goes to the caller. Only for
 * work that is safe to rerun: each failed run must have left nothing behind (a rolled-back
 * transaction).
 */
export async function retryOnContention<T>(run: () => Promise<T>, policy: ContentionRetryPolicy = DEFAULT_CONTENTION_RETRY, environment: RetryEnvironment = REAL_ENVIRONMENT): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= policy.attempts || !isTransientContention(error)) throw error;
      await environment.sleep(contentionDelayMillis(policy, attempt, environment.random));
    }
  }
}

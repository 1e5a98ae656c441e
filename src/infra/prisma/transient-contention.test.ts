import { describe, expect, it } from "vitest";
import { DomainError } from "../../core/shared/domain-error.js";
import { Prisma } from "./generated/sqlite/client.js";
import { contentionDelayMillis, DEFAULT_CONTENTION_RETRY, isTransientContention, retryOnContention, type RetryEnvironment } from "./transient-contention.js";

/** A Prisma error as the client throws it for a driver error (shape seen from @prisma/adapter-pg and -better-sqlite3 6.19). */
function prismaError(originalCode: string, kind = "postgres", code = "P2010"): Error {
  const driverAdapterError = Object.assign(new Error(kind), { name: "DriverAdapterError", cause: { originalCode, originalMessage: "…", kind } });
  return new Prisma.PrismaClientKnownRequestError("Raw query failed", { code, clientVersion: "6.19.3", meta: { driverAdapterError } });
}

describe("isTransientContention", () => {
  it.each([
    ["PostgreSQL deadlock victim", prismaError("40P01")],
    ["PostgreSQL serialization failure (adapter kind TransactionWriteConflict, Prisma P2034)", prismaError("40001", "TransactionWriteConflict", "P2034")],
    ["PostgreSQL lock not available", prismaError("55P03")],
    ["SQLite busy (adapter kind SocketTimeout)", prismaError("SQLITE_BUSY", "SocketTimeout", "P1008")],
    ["SQLite busy, extended code", prismaError("SQLITE_BUSY_SNAPSHOT", "SocketTimeout", "P1008")],
    ["better-sqlite3's own error", Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })],
    ["a domain error caused by one", new DomainError("internal", "wrapped", {}, { cause: prismaError("40P01") })],
  ])("%s: transient", (_name, error) => {
    expect(isTransientContention(error)).toBe(true);
  });

  it.each([
    ["unique violation", prismaError("23505", "UniqueConstraintViolation", "P2002")],
    ["PostgreSQL query canceled (a timeout is no contention)", prismaError("57014")],
    ["SQLite constraint", prismaError("SQLITE_CONSTRAINT_UNIQUE", "UniqueConstraintViolation", "P2002")],
    ["a domain error", new DomainError("conflict", "changed concurrently")],
    ["a message that only mentions a deadlock", new Error("deadlock detected")],
    ["not an error", "40P01"],
    ["undefined", undefined],
  ])("%s: not transient", (_name, error) => {
    expect(isTransientContention(error)).toBe(false);
  });

  it("a cause cycle ends the walk", () => {
    const error: Error & { cause?: unknown } = new Error("loop");
    error.cause = error;
    expect(isTransientContention(error)).toBe(false);
  });
});

describe("retryOnContention", () => {
  /** Records the delays instead of waiting; jitter fixed at `jitter`. */
  function recording(jitter: number): RetryEnvironment & { delays: number[] } {
    const delays: number[] = [];
    return { delays, sleep: async (millis) => void delays.push(millis), random: () => jitter };
  }

  it("reruns a transiently failing run until it succeeds", async () => {
    const env = recording(0);
    let runs = 0;
    const result = await retryOnContention(async () => {
      runs++;
      if (runs < 3) throw prismaError("40P01");
      return "done";
    }, DEFAULT_CONTENTION_RETRY, env);
    expect(result).toBe("done");
    expect(runs).toBe(3);
    expect(env.delays).toEqual([10, 20]);
  });

  it("gives up after `attempts` runs with the last error", async () => {
    const env = recording(0.5);
    let runs = 0;
    const last = prismaError("SQLITE_BUSY", "SocketTimeout", "P1008");
    await expect(
      retryOnContention(async () => {
        runs++;
        throw runs === DEFAULT_CONTENTION_RETRY.attempts ? last : prismaError("SQLITE_BUSY", "SocketTimeout", "P1008");
      }, DEFAULT_CONTENTION_RETRY, env),
    ).rejects.toBe(last);
    expect(runs).toBe(DEFAULT_CONTENTION_RETRY.attempts);
    expect(env.delays).toEqual([15, 30, 60, 120]);
  });

  it("does not rerun any other failure", async () => {
    const env = recording(0);
    let runs = 0;
    const refused = new DomainError("conflict", "rotated concurrently");
    await expect(
      retryOnContention(async () => {
        runs++;
        throw refused;
      }, DEFAULT_CONTENTION_RETRY, env),
    ).rejects.toBe(refused);
    expect(runs).toBe(1);
    expect(env.delays).toEqual([]);
  });

  it("delays grow exponentially, are capped, and jitter stays within [d, 2d)", () => {
    const policy = { attempts: 10, baseDelayMillis: 10, maxDelayMillis: 50 };
    expect([1, 2, 3, 4, 5].map((attempt) => contentionDelayMillis(policy, attempt, () => 0))).toEqual([10, 20, 40, 50, 50]);
    expect(contentionDelayMillis(policy, 2, () => 0.999)).toBe(39);
  });
});

import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./token-buckets.js";

/** Buckets on a clock the test moves. */
function buckets(perSecond: number, burst: number, maxEntries = 100) {
  let now = 0;
  const limiter = new TokenBuckets({ perSecond, burst }, maxEntries, () => now);
  return { limiter, advance: (millis: number) => (now += millis) };
}

describe("TokenBuckets", () => {
  it("admits the burst, refuses the next with a whole-second Retry-After, and refills at the rate", () => {
    const { limiter, advance } = buckets(2, 3);
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take("b").allowed).toBe(true); // keys are independent
    advance(499);
    expect(limiter.take("a").allowed).toBe(false);
    advance(1);
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
  });

  it("rounds Retry-After up for slow rates", () => {
    const { limiter } = buckets(0.1, 1);
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it("drops refilled buckets and keeps at most maxEntries", () => {
    const { limiter, advance } = buckets(10, 10, 3);
    for (const key of ["a", "b", "c", "d", "e"]) limiter.take(key);
    expect(limiter.size).toBe(3);
    advance(1000); // every bucket refilled: all dropped on the next take
    limiter.take("f");
    expect(limiter.size).toBe(1);
  });

  it("evicts the least recently used bucket first", () => {
    const { limiter } = buckets(1, 1, 2);
    limiter.take("a");
    limiter.take("b");
    expect(limiter.take("a").allowed).toBe(false); // a is now the most recent
    limiter.take("c"); // over the cap: b goes
    expect(limiter.take("a").allowed).toBe(false);
    expect(limiter.take("b").allowed).toBe(true);
  });

  it("refuses a limit that could never admit a request", () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 1 })).toThrow("perSecond > 0");
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow("burst >= 1");
  });
});

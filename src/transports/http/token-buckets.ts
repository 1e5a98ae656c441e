/** A rate: `perSecond` tokens are added each second, up to `burst` held at once. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** The outcome of taking a token: allowed, or refused with how long until the next token. */
export type TakeResult = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMillis: number;
}

/**
 * Token buckets, one per key (a principal, a source address), in this process's memory: each
 * replica counts on its own, so N replicas admit up to N× the configured rate in total.
 *
 * Memory is bounded: the map is kept in least-recently-used order (a touched bucket moves to the
 * end), buckets idle long enough to have refilled are dropped from the front (a full bucket and a
 * missing one behave the same, so this loses nothing), and past `maxEntries` the least recently
 * used bucket is dropped even if not full (its key starts again with a full burst).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly maxEntries = 100_000,
    private readonly nowMillis: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new Error("a rate limit needs perSecond > 0 and burst >= 1");
  }

  /** Takes one token for `key`. */
  take(key: string): TakeResult {
    const now = this.nowMillis();
    this.evictRefilled(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, updatedMillis: now };
    this.buckets.delete(key);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedMillis) / 1000) * this.limit.perSecond);
    bucket.updatedMillis = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxEntries) this.dropOldest();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    // RFC 9110 §10.2.3: Retry-After is whole seconds; round up so a client that waits is admitted.
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond)) };
  }

  /** Buckets held now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets from the least recently used end while they have refilled to the burst. */
  private evictRefilled(now: number): void {
    const refillMillis = (this.limit.burst / this.limit.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedMillis < refillMillis) return;
      this.buckets.delete(key);
    }
  }

  private dropOldest(): void {
    const oldest = this.buckets.keys().next();
    if (oldest.done !== true) this.buckets.delete(oldest.value);
  }
}

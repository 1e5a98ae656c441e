import type { Clock } from "../shared/clock.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { KmsRepositories } from "./ports.js";

/** Cryptographic operations whose use is counted. */
export type UsedOperation = "Encrypt" | "Decrypt" | "Sign" | "SignatureVerify" | "MAC" | "MACVerify";

interface Counter {
  count: number;
  first: Date;
  last: Date;
}

/**
 * Counts key uses in memory and writes them in one transaction per flush: per-version usage
 * counters (encrypts, decrypts, last use) and one audit entry per (caller, key, operation) with the
 * count and time window. A database write per encryption would put milliseconds on a path that must
 * stay under one (KMS v2 plugin); state changes are still audited synchronously. At most one flush
 * interval of counts is lost if the process dies.
 */
export class UsageRecorder {
  private pending = new Map<string, Counter>();
  /** The flush being written, if any: the next one waits for it (see `flush`). */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KmsRepositories>;
      readonly clock: Clock;
    },
  ) {}

  record(actor: string, uid: string, operation: UsedOperation): void {
    const now = this.deps.clock.now();
    const key = `${actor}\u0000${uid}\u0000${operation}`;
    const counter = this.pending.get(key);
    if (counter === undefined) this.pending.set(key, { count: 1, first: now, last: now });
    else {
      counter.count++;
      counter.last = now;
    }
  }

  /**
   * Writes everything counted so far (called on a timer and at shutdown). Flushes run one after
   * another: a flush called while the timer's flush is still in its transaction returns only once
   * that one has committed too, so "flushed" means every earlier use is in the database (the
   * shutdown flush must not close the database under a running one).
   */
  flush(): Promise<number> {
    const next = this.writing.then(() => this.writeBatch());
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async writeBatch(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    const perKey = new Map<string, { encrypts: number; decrypts: number; lastEncryptAt?: Date; lastDecryptAt?: Date }>();
    for (const [key, counter] of batch) {
      const [, uid = "", operation] = key.split("\u0000");
      const usage = perKey.get(uid) ?? { encrypts: 0, decrypts: 0 };
      if (operation === "Encrypt") perKey.set(uid, { ...usage, encrypts: usage.encrypts + counter.count, lastEncryptAt: counter.last });
      else if (operation === "Decrypt") perKey.set(uid, { ...usage, decrypts: usage.decrypts + counter.count, lastDecryptAt: counter.last });
    }
    try {
      await this.deps.uow.run(async (r) => {
        // Rows in uid order: two flushes (two replicas) or a flush and a Re-key of two objects lock
        // the same rows in the same order, so they queue instead of deadlocking.
        for (const [uid, usage] of [...perKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) await r.managedObjects.addUsage(uid, usage);
        for (const [key, counter] of batch) {
          const [actor = "", uid = "", operation = ""] = key.split("\u0000");
          await r.audit.record(
            { actor, action: "key.use", target: `key:${uid}`, result: "success", details: { operation, count: counter.count, from: counter.first.toISOString(), to: counter.last.toISOString() } },
            this.deps.clock.now(),
          );
        }
      });
    } catch (error) {
      // Keep the counts for the next flush rather than lose them.
      for (const [key, counter] of batch) {
        const current = this.pending.get(key);
        this.pending.set(key, current === undefined ? counter : { count: current.count + counter.count, first: counter.first, last: current.last });
      }
      throw error;
    }
    return batch.size;
  }
}

import type { Clock } from "../shared/clock.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { kmsError } from "./kms-error.js";
import type { KeyVersionUsage } from "./named-key.js";
import type { KmsRepositories } from "./ports.js";
import type { UsageRecorder } from "./usage-recorder.js";

/** True when the version decrypted something less than `windowSeconds` before `now`. */
export function decryptedWithin(usage: Pick<KeyVersionUsage, "lastDecryptAt">, now: Date, windowSeconds: number): boolean {
  return usage.lastDecryptAt !== undefined && now.getTime() - usage.lastDecryptAt.getTime() < windowSeconds * 1000;
}

function days(seconds: number): string {
  const value = seconds / 86_400;
  return `${Number.isInteger(value) ? value : value.toFixed(2)} day${value === 1 ? "" : "s"}`;
}

/**
 * Keeps a named-key version that still decrypts data from being retired by mistake. A version
 * that decrypted something within the window (KPKI_KEY_RECENT_USE_DAYS) is evidence that data
 * encrypted under it is still being read — e.g. Secrets that kube-apiserver has not rewritten since
 * a KEK rotation. Destroying it, or raising the minimum decryption version above it, would make that
 * data unreadable, so both are refused unless forced (and a forced one is audited as such).
 *
 * Uses are counted in memory and written every few seconds (UsageRecorder): this process's counts
 * are written before each check; another replica's last few seconds may not be visible yet, which
 * a window of days makes irrelevant.
 */
export class RecentDecryptionGuard {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KmsRepositories>;
      readonly usage: UsageRecorder;
      readonly clock: Clock;
      /** How recent a decryption blocks retirement. */
      readonly windowSeconds: number;
    },
  ) {}

  /** The configured window. */
  get windowSeconds(): number {
    return this.deps.windowSeconds;
  }

  /** Every version of `name` with its usage, this process's counted uses written first. */
  async versionUsage(name: string): Promise<readonly KeyVersionUsage[]> {
    await this.deps.usage.flush();
    return this.deps.uow.read((r) => r.managedObjects.listVersionUsage(name));
  }

  /**
   * Refuses (`conflict`, KMIP Illegal Operation) to retire the versions of `name` that `retired`
   * selects when any of them decrypted within the window, unless `force`. Returns the recently used
   * versions a forced call went over, for its audit record.
   */
  async check(name: string, retired: (usage: KeyVersionUsage) => boolean, request: { action: string; force: boolean; field: string }): Promise<readonly KeyVersionUsage[]> {
    const now = this.deps.clock.now();
    const recent = (await this.versionUsage(name)).filter((usage) => retired(usage) && decryptedWithin(usage, now, this.deps.windowSeconds));
    if (recent.length > 0 && !request.force) {
      const uses = recent.map((usage) => `version ${usage.version} decrypted ${usage.decryptCount} times, last at ${usage.lastDecryptAt?.toISOString() ?? "?"}`).join("; ");
      throw kmsError(
        "conflict",
        "Illegal Operation",
        `refusing to ${request.action}: named key ${name} ${uses} — within the last ${days(this.deps.windowSeconds)} (KPKI_KEY_RECENT_USE_DAYS), so data encrypted under it is still being read. Rewrap that data first (the key's usage report lists what is still used), or force it`,
        request.field,
      );
    }
    return recent;
  }
}

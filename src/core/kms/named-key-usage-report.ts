import { effectiveState } from "./key-state.js";
import type { KeyVersionUsage, NamedKey } from "./named-key.js";
import { decryptedWithin } from "./recent-decryption-guard.js";

/** One version in a usage report: its use, its effective state and what it does now. */
export interface VersionUsageStatus extends KeyVersionUsage {
  /** current: encrypts (and decrypts); decrypt-only: from minDecryptionVersion up; retired: below it; destroyed: no material. */
  readonly role: "current" | "decrypt-only" | "retired" | "destroyed";
  /** Decrypted something within the report's window. */
  readonly recentlyDecrypted: boolean;
}

/**
 * The migration report after a KEK rotation: which versions still decrypt data. Data encrypted
 * under a version in `stillDecrypting` is still being read and must be rewrapped (for Secrets
 * encrypted by the KMS v2 plugin: rewrite them, `kubectl get secrets -A -o json | kubectl replace
 * -f -`) before that version can be retired without losing it.
 */
export interface NamedKeyUsageReport {
  readonly key: NamedKey;
  readonly generatedAt: Date;
  readonly windowSeconds: number;
  /** Oldest first. */
  readonly versions: readonly VersionUsageStatus[];
  /** Versions before the current one that still decrypt (from minDecryptionVersion up) and did so within the window. */
  readonly stillDecrypting: readonly number[];
  /**
   * The highest minimum decryption version that retires no version used within the window: every
   * version below it is idle (raising minDecryptionVersion to it is not refused).
   */
  readonly safeMinDecryptionVersion: number;
}

/** Builds the report from the versions' stored usage (pure: the caller reads the data and the clock). */
export function namedKeyUsageReport(key: NamedKey, versions: readonly KeyVersionUsage[], now: Date, windowSeconds: number): NamedKeyUsageReport {
  const statuses: VersionUsageStatus[] = versions.map((usage) => {
    const state = effectiveState(usage, now);
    const role =
      state === "Destroyed" || state === "Destroyed Compromised" ? "destroyed"
      : usage.version === key.currentVersion ? "current"
      : usage.version < key.minDecryptionVersion ? "retired"
      : "decrypt-only";
    return { ...usage, state, role, recentlyDecrypted: decryptedWithin(usage, now, windowSeconds) };
  });
  const stillDecrypting = statuses.filter((status) => status.role === "decrypt-only" && status.recentlyDecrypted).map((status) => status.version);
  return {
    key,
    generatedAt: now,
    windowSeconds,
    versions: statuses,
    stillDecrypting,
    safeMinDecryptionVersion: Math.min(key.currentVersion, ...stillDecrypting),
  };
}

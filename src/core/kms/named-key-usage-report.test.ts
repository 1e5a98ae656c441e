import { describe, expect, it } from "vitest";
import type { KeyVersionUsage, NamedKey } from "./named-key.js";
import { namedKeyUsageReport } from "./named-key-usage-report.js";
import { decryptedWithin } from "./recent-decryption-guard.js";

const DAY = 86_400;
const NOW = new Date("2026-11-27T12:00:00Z");
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY * 1000);

function key(currentVersion: number, minDecryptionVersion: number): NamedKey {
  return { name: "kek", algorithm: "AES-256-GCM", currentVersion, minDecryptionVersion, lastRotatedAt: daysAgo(1), createdAt: daysAgo(100), updatedAt: daysAgo(1) };
}

function version(n: number, lastDecryptDaysAgo: number | undefined, state: KeyVersionUsage["state"] = "Deactivated"): KeyVersionUsage {
  return { version: n, uid: `uid-${n}`, state, encryptCount: 1, decryptCount: lastDecryptDaysAgo === undefined ? 0 : 5, ...(lastDecryptDaysAgo === undefined ? {} : { lastDecryptAt: daysAgo(lastDecryptDaysAgo) }) };
}

describe("decryptedWithin", () => {
  it.each([
    [undefined, false],
    [0, true],
    [29.99, true],
    [30, false], // exactly the window ago: no longer recent
    [31, false],
  ])("last decrypt %s days ago, 30-day window → %s", (ago, expected) => {
    expect(decryptedWithin(ago === undefined ? {} : { lastDecryptAt: daysAgo(ago) }, NOW, 30 * DAY)).toBe(expected);
  });
});

describe("namedKeyUsageReport", () => {
  it.each([
    {
      case: "old versions idle: all can be retired",
      key: key(3, 1),
      versions: [version(1, 40), version(2, undefined), version(3, 0, "Active")],
      stillDecrypting: [],
      safeMin: 3,
      roles: ["decrypt-only", "decrypt-only", "current"],
    },
    {
      case: "version 2 still read: the minimum may go up to 2, not further",
      key: key(3, 1),
      versions: [version(1, 40), version(2, 3), version(3, 0, "Active")],
      stillDecrypting: [2],
      safeMin: 2,
      roles: ["decrypt-only", "decrypt-only", "current"],
    },
    {
      case: "a retired version that was read before it was retired does not hold the minimum back",
      key: key(3, 2),
      versions: [version(1, 1), version(2, undefined), version(3, 0, "Active")],
      stillDecrypting: [],
      safeMin: 3,
      roles: ["retired", "decrypt-only", "current"],
    },
    {
      case: "a destroyed version is reported as such",
      key: key(2, 1),
      versions: [version(1, 2, "Destroyed"), version(2, 0, "Active")],
      stillDecrypting: [],
      safeMin: 2,
      roles: ["destroyed", "current"],
    },
  ])("$case", ({ key: named, versions, stillDecrypting, safeMin, roles }) => {
    const report = namedKeyUsageReport(named, versions, NOW, 30 * DAY);
    expect(report.stillDecrypting).toEqual(stillDecrypting);
    expect(report.safeMinDecryptionVersion).toBe(safeMin);
    expect(report.versions.map((v) => v.role)).toEqual(roles);
  });

  it("reports the effective state: an Active version past its Deactivation Date is Deactivated", () => {
    const lapsed = { ...version(1, 1, "Active"), deactivationDate: daysAgo(1) };
    expect(namedKeyUsageReport(key(2, 1), [lapsed, version(2, 0, "Active")], NOW, 30 * DAY).versions[0]?.state).toBe("Deactivated");
  });
});

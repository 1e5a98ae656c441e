import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENUM } from "./enumerations.js";
import { describeTag, TAG, tagName } from "./tags.js";

const ENUMS_PY = "/usr/lib/python3/dist-packages/kmip/core/enums.py";
const ROOT = path.resolve(import.meta.dirname, "..", "..", "..", "..");

describe("KMIP tag and enumeration tables", () => {
  it("are what scripts/gen-kmip-tables.mjs makes from PyKMIP's enums.py (python3-pykmip, installed by .ci/run)", () => {
    expect(existsSync(ENUMS_PY), `${ENUMS_PY} is missing: apt-get install python3-pykmip`).toBe(true);
    const output = execFileSync(process.execPath, [path.join(ROOT, "scripts", "gen-kmip-tables.mjs"), "--check", ENUMS_PY], { encoding: "utf8" });
    expect(output).toMatch(/^checked \d+ tags and \d+ enumerations/);
  });

  it("hold the numbers of the reference tables", () => {
    expect(TAG.RequestMessage).toBe(0x420078);
    expect(TAG.UniqueIdentifier).toBe(0x420094);
    expect(TAG.Attributes).toBe(0x420125);
    expect(TAG.AuthenticatedEncryptionTag).toBe(0x4200ff);
    expect(ENUM.Operation.DiscoverVersions).toBe(0x1e);
    expect(ENUM.Operation.SetAttribute).toBe(0x31);
    expect(ENUM.ResultReason.GeneralFailure).toBe(0x100);
    expect(ENUM.ResultReason.WrongKeyLifecycleState).toBe(0x43);
    expect(ENUM.CryptographicAlgorithm.Ec).toBe(0x1a);
    expect(ENUM.KeyFormatType.TransparentEcPublicKey).toBe(0x15);
  });

  it("name tags for messages, the first alias of a shared number", () => {
    expect(tagName(0x42000f)).toBe("BatchItem");
    expect(describeTag(TAG.UniqueIdentifier)).toBe("UniqueIdentifier (0x420094)");
    expect(describeTag(0x42ffff)).toBe("0x42FFFF");
  });
});

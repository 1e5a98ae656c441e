import { describe, expect, it } from "vitest";
import { DomainError } from "../../core/shared/domain-error.js";
import { KmipError } from "./kmip-error.js";
import { V1_0, V1_1, V1_2, V1_4, V2_0 } from "./protocol-version.js";
import { failureOf, resultReasonValue, type ResultReasonName } from "./result-reason.js";
import { ENUM } from "./ttlv/enumerations.js";

const R = ENUM.ResultReason;

describe("resultReasonValue: a reason in the vocabulary of the request's version", () => {
  it.each([
    ["WrongKeyLifecycleState", V2_0, R.WrongKeyLifecycleState],
    ["WrongKeyLifecycleState", V1_4, R.PermissionDenied],
    ["ObjectDestroyed", V2_0, R.ObjectDestroyed],
    ["ObjectDestroyed", V1_2, R.KeyValueNotPresent],
    // Key Value Not Present is 1.2: before it, a destroyed key's value is Permission Denied.
    ["ObjectDestroyed", V1_1, R.PermissionDenied],
    ["NotExtractable", V1_4, R.NotExtractable],
    ["NotExtractable", V1_2, R.PermissionDenied],
    ["UnknownTag", V1_0, R.InvalidMessage],
    ["AttributeNotFound", V1_2, R.ItemNotFound],
    ["EncodingOptionError", V1_0, R.InvalidField],
    ["InternalServerError", V1_4, R.GeneralFailure],
    ["GeneralFailure", V1_0, R.GeneralFailure],
    // Found by the fuzzer: a request claiming version 0.2 made the fallback loop forever.
    ["WrongKeyLifecycleState", 2, R.PermissionDenied],
    ["GeneralFailure", 0, R.GeneralFailure],
  ] as [ResultReasonName, number, number][])("%s in %d → 0x%s", (name, version, expected) => {
    expect(resultReasonValue(name, version)).toBe(expected);
  });

  it("every reason has a value in every version from 0.0 to 2.0", () => {
    for (const name of Object.keys(R) as ResultReasonName[]) {
      for (const version of [0, 99, V1_0, V1_1, V1_2, 103, V1_4, 150, V2_0, 300]) {
        expect(Object.values(R)).toContain(resultReasonValue(name, version));
      }
    }
  });
});

describe("failureOf", () => {
  it("uses the key service's KMIP reason, else the error code, and hides internal faults", () => {
    expect(failureOf(new DomainError("wrong_state", "not now", { reason: "Wrong Key Lifecycle State" }))).toEqual({ reason: "WrongKeyLifecycleState", message: "not now", internal: false });
    expect(failureOf(new DomainError("unauthenticated", "no role"))).toMatchObject({ reason: "PermissionDenied" });
    expect(failureOf(new DomainError("internal", "stack and secrets"))).toEqual({ reason: "GeneralFailure", message: expect.not.stringContaining("secrets"), internal: true });
    expect(failureOf(new KmipError("InvalidField", "bad"))).toEqual({ reason: "InvalidField", message: "bad", internal: false });
    expect(failureOf(new TypeError("boom"))).toMatchObject({ reason: "GeneralFailure", internal: true });
  });
});

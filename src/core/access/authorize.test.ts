import { describe, expect, it } from "vitest";
import { DomainError } from "../shared/domain-error.js";
import { authorize } from "./authorize.js";
import { OPERATION_PERMISSIONS, type OperationId } from "./operations.js";
import { ANONYMOUS, type Principal } from "./principal.js";
import { ROLES, ROLE_PERMISSIONS, type Role } from "./roles.js";

const token = (role: Role): Principal => ({ id: `token:${role}`, kind: "token", role, displayName: role });

function decision(principal: Principal, operation: string): "allow" | DomainError["code"] {
  try {
    authorize(principal, operation);
    return "allow";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

const operations = Object.keys(OPERATION_PERMISSIONS) as OperationId[];

describe("authorize", () => {
  it.each(operations)("anonymous callers reach %s only if it is public", (operation) => {
    expect(decision(ANONYMOUS, operation)).toBe(OPERATION_PERMISSIONS[operation] === "public" ? "allow" : "unauthenticated");
  });

  const matrix = ROLES.flatMap((role) => operations.map((operation) => [role, operation] as const));
  it.each(matrix)("role %s on %s follows the role's permissions", (role, operation) => {
    const allowed = ROLE_PERMISSIONS[role].has(OPERATION_PERMISSIONS[operation]);
    expect(decision(token(role), operation)).toBe(allowed ? "allow" : "permission_denied");
  });

  it("denies an operation that is not in the policy, even for admin", () => {
    expect(decision(token("admin"), "deleteEverything")).toBe("permission_denied");
  });

  it("denies a principal without a role", () => {
    expect(decision({ id: "token:x", kind: "token", role: undefined, displayName: "x" }, "listCertificates")).toBe("unauthenticated");
  });

  it.each([
    ["reader", "issueCertificate", "permission_denied"],
    ["reader", "listCertificates", "allow"],
    ["issuer", "issueCertificate", "allow"],
    ["issuer", "createAuthority", "permission_denied"],
    ["issuer", "createToken", "permission_denied"],
    ["operator", "createAuthority", "allow"],
    ["operator", "createToken", "permission_denied"],
    ["admin", "createToken", "allow"],
    // Scheduled jobs: operators and admins only (the history shows what changed and who held runs).
    ["admin", "runJob", "allow"],
    ["operator", "listJobRuns", "allow"],
    ["operator", "runJob", "allow"],
    ["reader", "listJobs", "permission_denied"],
    ["issuer", "listJobRuns", "permission_denied"],
    ["issuer", "runJob", "permission_denied"],
    ["reader", "getNamedKeyUsageReport", "allow"],
  ] as const)("%s → %s: %s", (role, operation, expected) => {
    expect(decision(token(role), operation)).toBe(expected);
  });
});

import { describe, expect, it } from "vitest";
import { DomainError } from "../shared/domain-error.js";
import { authorize } from "./authorize.js";
import { OPERATION_PERMISSIONS, type OperationId } from "./operations.js";
import { ANONYMOUS, type Principal } from "./principal.js";
import { ROLE_PERMISSIONS, UNSCOPED_ROLES, type Role, type ScopedRole } from "./roles.js";
import { KEY_OPERATIONS, validateScope, type AccessTarget, type Scope } from "./scope.js";

const token = (role: Role, scope?: Scope): Principal => ({ id: `token:${role}`, kind: "token", role, ...(scope === undefined ? {} : { scope }), displayName: role });

function decision(principal: Principal, operation: string, target: AccessTarget = {}): "allow" | DomainError["code"] {
  try {
    authorize(principal, operation, target);
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

  const matrix = UNSCOPED_ROLES.flatMap((role) => operations.map((operation) => [role, operation] as const));
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
    ["job-runner", "listJobs", "allow"],
    ["job-runner", "listJobRuns", "allow"],
    ["job-runner", "runJob", "allow"],
    ["job-runner", "listNamedKeys", "permission_denied"],
    ["job-runner", "listAuditEvents", "permission_denied"],
  ] as const)("%s → %s: %s", (role, operation, expected) => {
    expect(decision(token(role), operation)).toBe(expected);
  });
});

// Scoped grants: every scoped role × every operation, once on a target inside its scope and once on
// one outside. The operations each role may reach are written out here (not read from roles.ts), so
// a change to the policy shows up as a failing test.
const SCOPES: Readonly<Record<ScopedRole, Scope>> = {
  "kubeadm-hook": { cluster: "prod" },
  node: { cluster: "prod", node: "worker-1" },
  "kms-plugin": { key: "etcd-kek" },
  "key-user": { keys: ["etcd-kek"], operations: KEY_OPERATIONS },
};
const IN_SCOPE: AccessTarget = { cluster: "prod", node: "worker-1", key: "etcd-kek", kubeadmCertificates: ["kubelet"] };
const OUT_OF_SCOPE: AccessTarget = { cluster: "staging", node: "worker-2", key: "other-key", kubeadmCertificates: ["kubelet"] };
const SCOPED_ALLOWED: Readonly<Record<ScopedRole, readonly OperationId[]>> = {
  "kubeadm-hook": ["getCluster", "signKubeadmCsrs", "signKubeletServing", "exportServiceAccountKeyFiles"],
  node: ["signKubeadmCsrs", "signKubeletServing"],
  "kms-plugin": ["getNamedKey", "encryptWithNamedKey", "decryptWithNamedKey"],
  "key-user": [
    "getNamedKey",
    "getNamedKeyUsageReport",
    "encryptWithNamedKey",
    "decryptWithNamedKey",
    "rewrapWithNamedKey",
    "generateDataKey",
    "getObjectMetadata",
    "getAttributes",
    "getAttributeList",
    "encryptData",
    "decryptData",
    "signData",
    "verifySignature",
    "computeMac",
    "verifyMac",
    "runBatch",
  ],
};
const isPublic = (operation: OperationId) => OPERATION_PERMISSIONS[operation] === "public";

describe("authorize: scoped grants", () => {
  const scopedMatrix = (Object.keys(SCOPES) as ScopedRole[]).flatMap((role) => operations.map((operation) => [role, operation] as const));

  it.each(scopedMatrix)("%s on %s inside its scope: allowed only for its operations (and public ones)", (role, operation) => {
    const allowed = isPublic(operation) || SCOPED_ALLOWED[role].includes(operation);
    expect(decision(token(role, SCOPES[role]), operation, IN_SCOPE)).toBe(allowed ? "allow" : "permission_denied");
  });

  it.each(scopedMatrix)("%s on %s outside its scope: denied unless public (a batch is decided item by item)", (role, operation) => {
    const allowed = isPublic(operation) || (role === "key-user" && operation === "runBatch");
    expect(decision(token(role, SCOPES[role]), operation, OUT_OF_SCOPE)).toBe(allowed ? "allow" : "permission_denied");
  });

  it.each(Object.keys(SCOPES) as ScopedRole[])("%s without a scope is denied everything not public, even on its own target", (role) => {
    for (const operation of SCOPED_ALLOWED[role].filter((op) => op !== "runBatch")) expect(decision(token(role), operation, IN_SCOPE)).toBe("permission_denied");
  });

  it("a request that names no target is denied to a scoped grant", () => {
    expect(decision(token("kubeadm-hook", SCOPES["kubeadm-hook"]), "getCluster")).toBe("permission_denied");
    expect(decision(token("kms-plugin", SCOPES["kms-plugin"]), "getNamedKey")).toBe("permission_denied");
    expect(decision(token("node", SCOPES.node), "signKubeletServing", { cluster: "prod" })).toBe("permission_denied");
  });

  it("a kubeadm hook scoped to one node signs for that node only, and still reads its cluster", () => {
    const hook = token("kubeadm-hook", { cluster: "prod", node: "cp-1" });
    expect(decision(hook, "signKubeadmCsrs", { cluster: "prod", node: "cp-1", kubeadmCertificates: ["apiserver", "kubelet"] })).toBe("allow");
    expect(decision(hook, "signKubeadmCsrs", { cluster: "prod", node: "cp-2", kubeadmCertificates: ["kubelet"] })).toBe("permission_denied");
    expect(decision(hook, "getCluster", { cluster: "prod" })).toBe("allow");
    expect(decision(hook, "listClusters")).toBe("permission_denied");
  });

  it("a node grant obtains through kubeadm signing only what a worker may (kubelet), and never sa.key", () => {
    const node = token("node", { cluster: "prod", node: "cp-1" });
    expect(decision(node, "signKubeadmCsrs", { cluster: "prod", node: "cp-1", kubeadmCertificates: ["kubelet"] })).toBe("allow");
    expect(decision(node, "signKubeadmCsrs", { cluster: "prod", node: "cp-1", kubeadmCertificates: ["kubelet", "apiserver"] })).toBe("permission_denied");
    expect(decision(node, "signKubeletServing", { cluster: "prod", node: "cp-1" })).toBe("allow");
    expect(decision(node, "exportServiceAccountKeyFiles", { cluster: "prod" })).toBe("permission_denied");
    expect(decision(node, "getCluster", { cluster: "prod" })).toBe("permission_denied");
  });

  it("a key user reaches its listed keys and its prefix, with its listed operations only", () => {
    const user = token("key-user", { keys: ["billing"], keyPrefix: "app-", operations: ["encrypt", "decrypt"] });
    expect(decision(user, "encryptWithNamedKey", { key: "billing" })).toBe("allow");
    expect(decision(user, "decryptWithNamedKey", { key: "app-orders" })).toBe("allow");
    expect(decision(user, "encryptWithNamedKey", { key: "ap" })).toBe("permission_denied");
    expect(decision(user, "encryptWithNamedKey", { key: "billing-2" })).toBe("permission_denied");
    expect(decision(user, "rewrapWithNamedKey", { key: "billing" })).toBe("permission_denied");
    expect(decision(user, "getNamedKey", { key: "billing" })).toBe("permission_denied");
    expect(decision(user, "signData", { key: "app-x" })).toBe("permission_denied");
    expect(decision(user, "encryptData", { key: "app-x" })).toBe("allow");
    expect(decision(user, "rotateNamedKey", { key: "billing" })).toBe("permission_denied");
    expect(decision(user, "listNamedKeys")).toBe("permission_denied");
    expect(decision(user, "retrieveRandom")).toBe("permission_denied");
  });

  it("an object addressed by uid passes the transport's first look only; the key service decides on its named key", () => {
    const user = token("key-user", { keys: ["billing"], operations: ["encrypt"] });
    expect(decision(user, "encryptData", { objectLookupPending: true })).toBe("allow");
    expect(decision(user, "decryptData", { objectLookupPending: true })).toBe("allow"); // decided again with the key: refused there
    expect(decision(user, "decryptData", { key: "billing" })).toBe("permission_denied");
    // The key service found no named key (another object): refused.
    expect(decision(user, "encryptData", {})).toBe("permission_denied");
    // Only operations on objects take a pending look, never named-key or cluster ones.
    expect(decision(user, "encryptWithNamedKey", { objectLookupPending: true })).toBe("permission_denied");
    expect(decision(token("kubeadm-hook", { cluster: "prod" }), "getCluster", { objectLookupPending: true })).toBe("permission_denied");
  });

  it("unscoped roles ignore targets", () => {
    expect(decision(token("operator"), "encryptWithNamedKey", OUT_OF_SCOPE)).toBe("allow");
    expect(decision(token("issuer"), "signKubeadmCsrs", OUT_OF_SCOPE)).toBe("allow");
  });
});

describe("validateScope", () => {
  function refusal(role: Role, scope: unknown): string | undefined {
    try {
      validateScope(role, scope);
      return undefined;
    } catch (error) {
      if (error instanceof DomainError && error.code === "invalid_input") return error.detail.field;
      throw error;
    }
  }

  it("accepts each scoped role's scope, and none for an unscoped role", () => {
    expect(validateScope("kubeadm-hook", { cluster: "prod" })).toEqual({ cluster: "prod" });
    expect(validateScope("kubeadm-hook", { cluster: "prod", node: "cp-1.example" })).toEqual({ cluster: "prod", node: "cp-1.example" });
    expect(validateScope("node", { cluster: "prod", node: "worker-1" })).toEqual({ cluster: "prod", node: "worker-1" });
    expect(validateScope("kms-plugin", { key: "etcd-kek" })).toEqual({ key: "etcd-kek" });
    expect(validateScope("key-user", { keyPrefix: "app-", operations: ["encrypt", "decrypt"] })).toEqual({ keyPrefix: "app-", operations: ["encrypt", "decrypt"] });
    expect(validateScope("reader", undefined)).toBeUndefined();
  });

  it.each([
    ["reader", { cluster: "prod" }, "scope"],
    ["admin", {}, "scope"],
    ["kubeadm-hook", undefined, "scope"],
    ["kubeadm-hook", {}, "scope.cluster"],
    ["kubeadm-hook", { cluster: "prod", key: "x" }, "scope.key"],
    ["kubeadm-hook", { cluster: "Prod" }, "scope.cluster"],
    ["kubeadm-hook", { cluster: 7 }, "scope.cluster"],
    ["node", { cluster: "prod" }, "scope.node"],
    ["node", { cluster: "prod", node: "Worker_1" }, "scope.node"],
    ["kms-plugin", { key: "etcd-kek", operations: ["encrypt"] }, "scope.operations"],
    ["kms-plugin", { key: "../etc" }, "scope.key"],
    ["kms-plugin", "etcd-kek", "scope"],
    ["key-user", { operations: ["encrypt"] }, "scope.keys"],
    ["key-user", { keys: ["a"] }, "scope.operations"],
    ["key-user", { keys: [], operations: ["encrypt"] }, "scope.keys"],
    ["key-user", { keys: ["a", "a"], operations: ["encrypt"] }, "scope.keys"],
    ["key-user", { keys: ["a"], operations: ["export"] }, "scope.operations.0"],
    ["key-user", { keyPrefix: "", operations: ["encrypt"] }, "scope.keyPrefix"],
    ["key-user", { keyPrefix: "app-", operations: ["encrypt"], admin: true }, "scope.admin"],
  ] as const)("%s with scope %j is refused (%s)", (role, scope, field) => {
    expect(refusal(role, scope)).toBe(field);
  });
});

import { OPERATION_PERMISSIONS, type OperationId } from "./operations.js";
import type { Permission } from "./permissions.js";

/** Roles whose grant covers everything their permissions cover (no scope). */
export const UNSCOPED_ROLES = ["admin", "operator", "issuer", "reader", "auditor", "job-runner"] as const;
/** Roles granted only together with a scope (scope.ts): one cluster, one node, some named keys. */
export const SCOPED_ROLES = ["kubeadm-hook", "node", "kms-plugin", "key-user"] as const;
/** Roles a token can carry. Least privilege: a token gets the smallest role that does its job. */
export const ROLES = [...UNSCOPED_ROLES, ...SCOPED_ROLES] as const;
export type Role = (typeof ROLES)[number];
export type ScopedRole = (typeof SCOPED_ROLES)[number];

/**
 * What a scoped role may do: a short list of operations, each then limited to the target the scope
 * names (scope.ts). Their permissions below are derived from these lists, never granted apart.
 */
export const SCOPED_ROLE_OPERATIONS: Readonly<Record<ScopedRole, readonly OperationId[]>> = {
  // The kubeadm external-CA hook of one cluster (or of one node of it): read the cluster, sign its
  // nodes' kubeadm CSRs and kubelet serving certificates; sa.key goes to control-plane nodes with
  // their signing (and by its own export), as for an unscoped issuer.
  "kubeadm-hook": ["getCluster", "signKubeadmCsrs", "signKubeletServing", "exportServiceAccountKeyFiles"],
  // One node's own credentials: its kubelet serving certificate, and through kubeadm signing only
  // what a worker node may obtain (kubelet.conf), even on a control-plane node; never sa.key.
  node: ["signKubeadmCsrs", "signKubeletServing"],
  // What the KMS v2 plugin's remote mode calls on its one named key (src/infra/remote-kpki).
  "kms-plugin": ["getNamedKey", "encryptWithNamedKey", "decryptWithNamedKey"],
  // Applications on some named keys: the key operations the scope lists (scope.ts KEY_OPERATIONS),
  // by name (/v1/keys/{key}) or on the keys' versions as managed objects (REST objects, batch, KMIP).
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

function permissionsOf(operations: readonly OperationId[]): ReadonlySet<Permission> {
  return new Set<Permission>(["public", ...operations.map((operation) => OPERATION_PERMISSIONS[operation])]);
}

/** The permissions of each role; anything not listed is denied. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set<Permission>(["public", "ca.read", "ca.manage", "certificate.issue", "certificate.read", "certificate.revoke", "token.manage", "audit.read", "cluster.read", "cluster.manage", "cluster.encryption.export", "kubeadm.sign", "key.read", "key.manage", "key.export", "key.use", "jobs.read", "jobs.run"]),
  // Operators run the key service and the scheduled jobs but cannot take key material out of it
  // (no key.export), nor a cluster's static encryption keys (no cluster.encryption.export).
  operator: new Set<Permission>(["public", "ca.read", "ca.manage", "certificate.issue", "certificate.read", "certificate.revoke", "cluster.read", "cluster.manage", "kubeadm.sign", "key.read", "key.manage", "key.use", "jobs.read", "jobs.run"]),
  issuer: new Set<Permission>(["public", "ca.read", "certificate.issue", "cluster.read", "kubeadm.sign"]),
  reader: new Set<Permission>(["public", "ca.read", "certificate.read", "cluster.read", "key.read"]),
  // Auditors read the trail and nothing else (who did what is not who may do it).
  auditor: new Set<Permission>(["public", "audit.read"]),
  // A scheduler outside kpki (a CronJob) that triggers the maintenance jobs and reads their history.
  "job-runner": new Set<Permission>(["public", "jobs.read", "jobs.run"]),
  "kubeadm-hook": permissionsOf(SCOPED_ROLE_OPERATIONS["kubeadm-hook"]),
  node: permissionsOf(SCOPED_ROLE_OPERATIONS.node),
  "kms-plugin": permissionsOf(SCOPED_ROLE_OPERATIONS["kms-plugin"]),
  "key-user": permissionsOf(SCOPED_ROLE_OPERATIONS["key-user"]),
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isScopedRole(role: Role): role is ScopedRole {
  return (SCOPED_ROLES as readonly string[]).includes(role);
}

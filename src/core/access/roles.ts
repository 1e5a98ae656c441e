import type { Permission } from "./permissions.js";

/** Roles a token can carry. Least privilege: a token gets the smallest role that does its job. */
export const ROLES = ["admin", "operator", "issuer", "reader", "auditor"] as const;
export type Role = (typeof ROLES)[number];

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
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

import type { Permission } from "./permissions.js";

/** Roles a token can carry. Least privilege: a token gets the smallest role that does its job. */
export const ROLES = ["admin", "operator", "issuer", "reader"] as const;
export type Role = (typeof ROLES)[number];

/** The permissions of each role; anything not listed is denied. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set<Permission>(["public", "ca.read", "ca.manage", "certificate.issue", "certificate.read", "token.manage"]),
  operator: new Set<Permission>(["public", "ca.read", "ca.manage", "certificate.issue", "certificate.read"]),
  issuer: new Set<Permission>(["public", "ca.read", "certificate.issue"]),
  reader: new Set<Permission>(["public", "ca.read", "certificate.read"]),
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

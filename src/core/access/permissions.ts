/**
 * What a caller may do, at the granularity roles are built from. Each API operation needs exactly
 * one permission (operations.ts); roles are sets of permissions (roles.ts).
 */
export const PERMISSIONS = [
  "public", // anyone, even without credentials (CA certificates, health, the API description)
  "ca.read", // list and inspect CAs (metadata beyond the public certificates)
  "ca.manage", // create, import, install, disable CAs
  "certificate.issue", // sign CSRs and issue certificates with server-generated keys
  "certificate.read", // the inventory
  "token.manage", // create, list, revoke API tokens
] as const;
export type Permission = (typeof PERMISSIONS)[number];

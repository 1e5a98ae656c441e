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
  "certificate.revoke", // revoke issued certificates (final; CRLs and OCSP follow)
  "token.manage", // create, list, revoke API tokens
  "audit.read", // read the audit trail
  "cluster.read", // the cluster inventory
  "cluster.manage", // create and change clusters and their nodes, their encryption at rest and its rotation
  "cluster.encryption.export", // render a cluster's EncryptionConfiguration, which holds its static encryption keys
  "kubeadm.sign", // sign a node's kubeadm CSRs (and kubelet serving certificates) for a cluster
  "key.read", // managed-object metadata and attributes, Locate, named-key information (never key material)
  "key.manage", // create, register, change attributes, activate, revoke, destroy, re-key; create, update and rotate named keys
  "key.export", // KMIP Get: a key's value (still only when the object is Extractable and not Sensitive)
  "key.use", // cryptographic operations: encrypt, decrypt, sign, verify, MAC, RNG, named-key encryption
  "jobs.read", // the scheduled jobs and their run history
  "jobs.run", // run a scheduled job now (still once per period)
] as const;
export type Permission = (typeof PERMISSIONS)[number];

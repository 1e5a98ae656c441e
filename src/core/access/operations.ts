import type { Permission } from "./permissions.js";

/**
 * Every operation any transport exposes, by its OpenAPI operationId, and the permission it needs.
 * Deny by default: an operation missing here is refused, and a test fails when the OpenAPI
 * document names an operation this table does not.
 */
export const OPERATION_PERMISSIONS = {
  getHealth: "public",
  getReadiness: "public",
  getOpenApi: "public",
  getMetrics: "public",
  listAuthorities: "public",
  getAuthority: "public",
  getAuthorityCertificate: "public",
  getAuthorityChain: "public",
  getAuthorityCsr: "ca.read",
  createAuthority: "ca.manage",
  importAuthority: "ca.manage",
  installAuthorityCertificate: "ca.manage",
  listProfiles: "public",
  issueCertificate: "certificate.issue",
  listCertificates: "certificate.read",
  getCertificate: "certificate.read",
  createToken: "token.manage",
  listTokens: "token.manage",
  revokeToken: "token.manage",
  listClusters: "cluster.read",
  getCluster: "cluster.read",
  createCluster: "cluster.manage",
  updateCluster: "cluster.manage",
  putClusterNode: "cluster.manage",
  deleteClusterNode: "cluster.manage",
  signKubeadmCsrs: "kubeadm.sign",
  signKubeletServing: "kubeadm.sign",
} as const satisfies Record<string, Permission>;

export type OperationId = keyof typeof OPERATION_PERMISSIONS;

export function isOperationId(value: string): value is OperationId {
  return Object.hasOwn(OPERATION_PERMISSIONS, value);
}

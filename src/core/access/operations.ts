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
  getServiceAccountPublicKey: "public",
  // The key service (KMIP operations over REST). A batch is authorized item by item as well.
  createObject: "key.manage",
  createKeyPair: "key.manage",
  registerObject: "key.manage",
  locateObjects: "key.read",
  getObjectMetadata: "key.read",
  getObject: "key.export",
  getAttributes: "key.read",
  getAttributeList: "key.read",
  addAttribute: "key.manage",
  modifyAttribute: "key.manage",
  deleteAttribute: "key.manage",
  activateObject: "key.manage",
  revokeObject: "key.manage",
  destroyObject: "key.manage",
  rekeyObject: "key.manage",
  rekeyKeyPair: "key.manage",
  encryptData: "key.use",
  decryptData: "key.use",
  signData: "key.use",
  verifySignature: "key.use",
  computeMac: "key.use",
  verifyMac: "key.use",
  retrieveRandom: "key.use",
  runBatch: "key.read",
  listNamedKeys: "key.read",
  createNamedKey: "key.manage",
  getNamedKey: "key.read",
  updateNamedKey: "key.manage",
  rotateNamedKey: "key.manage",
  encryptWithNamedKey: "key.use",
  decryptWithNamedKey: "key.use",
  rewrapWithNamedKey: "key.use",
  generateDataKey: "key.use",
  getNamedKeyUsageReport: "key.read",
  // Scheduled jobs (transports/jobs/schedule.ts) and their run history.
  listJobs: "jobs.read",
  listJobRuns: "jobs.read",
  runJob: "jobs.run",
} as const satisfies Record<string, Permission>;

export type OperationId = keyof typeof OPERATION_PERMISSIONS;

export function isOperationId(value: string): value is OperationId {
  return Object.hasOwn(OPERATION_PERMISSIONS, value);
}

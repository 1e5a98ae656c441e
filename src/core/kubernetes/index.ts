/** Public surface of core/kubernetes: the Kubernetes workflows that compose pki (and later kms). */
export { KUBERNETES_KEY_ALGORITHMS, authorityName, type Cluster, type ClusterNode, type CaDomain, type KubernetesKeyAlgorithm, type NodeRole } from "./cluster.js";
export type { ClusterRepository, ClusterEncryptionRepository, KubernetesRepositories, EncryptionRepositories, ServiceAccountKeyChange, ServiceAccountKeyRepository } from "./ports.js";
export { ClusterService, assertClusterName, type CreateClusterRequest, type UpdateClusterRequest, type NodeSpec } from "./cluster-service.js";
export { KubeadmSigningService, type KubeadmSignRequest, type KubeadmSignResult, type ServiceAccountKeyPair } from "./kubeadm-signing-service.js";
export { assertNodeName } from "./network-names.js";
export { KUBEADM_CERTIFICATES, kubeadmCertificate, materializeProfile, advertiseAddress, type KubeadmCertificateSpec } from "./kubeadm-profiles.js";
export {
  SERVICE_ACCOUNT_KEY_STATES,
  DEFAULT_OVERLAP_SECONDS,
  serviceAccountKeyId,
  serviceAccountKeySet,
  type NextRotationStep,
  type RotationStep,
  type ServiceAccountKeySet,
  type ServiceAccountKeyState,
  type ServiceAccountKeyVersion,
} from "./service-account-key.js";
export { ServiceAccountKeyService, type AdvanceRequest, type AdvanceResult, type ServiceAccountKeyFiles, type ServiceAccountKeyStatus } from "./service-account-key-service.js";
export {
  STATIC_PROVIDERS,
  STATIC_KEY_BYTES,
  ROTATION_STEPS,
  isStaticProvider,
  fileEntries,
  describeEntry,
  type StaticProvider,
  type ProviderEntry,
  type KmsEntry,
  type StaticEntry,
  type Rotation,
  type RotationKind,
  type RotationStep as EncryptionRotationStep,
  type ClusterEncryption,
  type EncryptionKey,
} from "./encryption-at-rest.js";
export type { EncryptionConfigurationDocument, ProviderConfig, KmsV2Config, StaticKeyConfig } from "./encryption-config-document.js";
export { SUGGESTED_CONFIG_PATH, type NextAction } from "./encryption-runbook.js";
export { DEFAULT_KMS_ENDPOINT, DEFAULT_RESOURCES, type ConfigureEncryptionRequest } from "./encryption-request.js";
export { ClusterEncryptionService, type EncryptionState, type RenderedEncryptionConfig } from "./encryption-service.js";

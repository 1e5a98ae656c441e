/** Public surface of core/kubernetes: the Kubernetes workflows that compose pki (and later kms). */
export { KUBERNETES_KEY_ALGORITHMS, authorityName, type Cluster, type ClusterNode, type CaDomain, type KubernetesKeyAlgorithm, type NodeRole } from "./cluster.js";
export type { ClusterRepository, KubernetesRepositories, ServiceAccountKeyChange, ServiceAccountKeyRepository } from "./ports.js";
export { ClusterService, type CreateClusterRequest, type UpdateClusterRequest, type NodeSpec } from "./cluster-service.js";
export { KubeadmSigningService, type KubeadmSignRequest, type KubeadmSignResult, type ServiceAccountKeyPair } from "./kubeadm-signing-service.js";
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

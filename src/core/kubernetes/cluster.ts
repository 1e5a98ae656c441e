import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { CaId, KeyMaterialId } from "../shared/ids.js";

/** The key algorithms kubeadm's `encryptionAlgorithm` accepts (reference §1.1); no Ed25519. */
export const KUBERNETES_KEY_ALGORITHMS = ["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"] as const satisfies readonly KeyAlgorithm[];
export type KubernetesKeyAlgorithm = (typeof KUBERNETES_KEY_ALGORITHMS)[number];

export type NodeRole = "control-plane" | "worker";

/** A node: the kubelet's node name and the addresses (IPs, DNS names) its certificates may carry. */
export interface ClusterNode {
  readonly name: string;
  readonly role: NodeRole;
  /** IPs and DNS names; the first IP is the advertise address (API server and etcd SANs). */
  readonly addresses: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The three issuing CA domains of a kubeadm cluster, named as kubeadm names them. */
export type CaDomain = "ca" | "etcd-ca" | "front-proxy-ca";

/**
 * A Kubernetes cluster in the inventory: the facts its certificates are derived from (the kubeadm
 * ClusterConfiguration equivalents), its three issuing CAs and its service-account key.
 */
export interface Cluster {
  readonly id: string;
  /** kpki's name for it (also the prefix of its CA names). */
  readonly name: string;
  /** `networking.dnsDomain`, default cluster.local. */
  readonly dnsDomain: string;
  /** `networking.serviceSubnet` CIDRs; the first IP of the first one is an API server SAN. */
  readonly serviceSubnets: readonly string[];
  /** `controlPlaneEndpoint`: host or host:port. */
  readonly controlPlaneEndpoint: string;
  /** `apiServer.certSANs`: extra IPs / DNS names for the API server certificate. */
  readonly apiServerCertSans: readonly string[];
  /** `etcd.local.serverCertSANs` / `peerCertSANs`. */
  readonly etcdServerCertSans: readonly string[];
  readonly etcdPeerCertSans: readonly string[];
  /** `encryptionAlgorithm`: every CA, leaf key and the service-account key use it. */
  readonly keyAlgorithm: KubernetesKeyAlgorithm;
  /** Leaf validity (`certificateValidityPeriod`), default one year. */
  readonly certificateValiditySeconds: number;
  readonly authorities: Readonly<Record<CaDomain, CaId>>;
  /** The key material of the first service-account key (version 1); later versions are in ServiceAccountKeyService. */
  readonly serviceAccountKeyId: KeyMaterialId;
  /** How long a replaced service-account signing key stays in sa.pub after the switch (reference §5). */
  readonly serviceAccountKeyOverlapSeconds: number;
  /** Publish a new service-account key this long after the current one began signing; null = only on request. */
  readonly serviceAccountKeyRotationPeriodSeconds: number | null;
  readonly nodes: readonly ClusterNode[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The names of a cluster's CAs in kpki: `<cluster>.ca`, `<cluster>.etcd-ca`, `<cluster>.front-proxy-ca`. */
export function authorityName(cluster: string, domain: CaDomain): string {
  return `${cluster}.${domain}`;
}

import type { CertificateProfile } from "../pki/index.js";
import { x509 } from "../pki/index.js";
import type { CaDomain, Cluster, ClusterNode, NodeRole } from "./cluster.js";
import { endpointHost, firstServiceIp, sanFromText } from "./network-names.js";

/** Which SAN set a certificate may carry (reference §1.3). */
type SanRule = "none" | "apiserver" | "etcd-server" | "etcd-peer" | "kubelet-serving";

/**
 * One kubeadm certificate as data (reference §1.2, §1.5, Kubernetes 1.29+ O values). `{node}` in
 * the CN stands for the node's name. kubeadm CSRs carry no KU/EKU: the profile adds them.
 */
export interface KubeadmCertificateSpec {
  readonly name: string;
  readonly description: string;
  readonly ca: CaDomain;
  readonly commonName: string;
  readonly organization: readonly string[];
  readonly usage: "server" | "client" | "server+client";
  readonly sans: SanRule;
  /** Node roles that may obtain it. */
  readonly roles: readonly NodeRole[];
  /** Where `kubeadm certs generate-csr` writes it: under the cert dir, or a kubeconfig file. */
  readonly file: { readonly certDir: string } | { readonly kubeconfig: string } | undefined;
}

const CONTROL_PLANE: readonly NodeRole[] = ["control-plane"];

/** Every certificate `kubeadm certs generate-csr` produces, plus kubelet serving certificates. */
export const KUBEADM_CERTIFICATES: readonly KubeadmCertificateSpec[] = [
  { name: "apiserver", description: "kube-apiserver serving", ca: "ca", commonName: "kube-apiserver", organization: [], usage: "server", sans: "apiserver", roles: CONTROL_PLANE, file: { certDir: "apiserver" } },
  { name: "apiserver-kubelet-client", description: "kube-apiserver → kubelet client", ca: "ca", commonName: "kube-apiserver-kubelet-client", organization: ["kubeadm:cluster-admins"], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { certDir: "apiserver-kubelet-client" } },
  { name: "front-proxy-client", description: "kube-apiserver aggregation (front proxy) client", ca: "front-proxy-ca", commonName: "front-proxy-client", organization: [], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { certDir: "front-proxy-client" } },
  { name: "etcd-server", description: "etcd serving", ca: "etcd-ca", commonName: "{node}", organization: [], usage: "server+client", sans: "etcd-server", roles: CONTROL_PLANE, file: { certDir: "etcd/server" } },
  { name: "etcd-peer", description: "etcd peer", ca: "etcd-ca", commonName: "{node}", organization: [], usage: "server+client", sans: "etcd-peer", roles: CONTROL_PLANE, file: { certDir: "etcd/peer" } },
  { name: "etcd-healthcheck-client", description: "etcd liveness probe client", ca: "etcd-ca", commonName: "kube-etcd-healthcheck-client", organization: [], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { certDir: "etcd/healthcheck-client" } },
  { name: "apiserver-etcd-client", description: "kube-apiserver → etcd client", ca: "etcd-ca", commonName: "kube-apiserver-etcd-client", organization: [], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { certDir: "apiserver-etcd-client" } },
  { name: "admin", description: "admin.conf (kubeadm:cluster-admins)", ca: "ca", commonName: "kubernetes-admin", organization: ["kubeadm:cluster-admins"], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { kubeconfig: "admin.conf" } },
  { name: "super-admin", description: "super-admin.conf (system:masters, break-glass)", ca: "ca", commonName: "kubernetes-super-admin", organization: ["system:masters"], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { kubeconfig: "super-admin.conf" } },
  { name: "kubelet", description: "kubelet.conf client (system:nodes)", ca: "ca", commonName: "system:node:{node}", organization: ["system:nodes"], usage: "client", sans: "none", roles: ["control-plane", "worker"], file: { kubeconfig: "kubelet.conf" } },
  { name: "controller-manager", description: "controller-manager.conf", ca: "ca", commonName: "system:kube-controller-manager", organization: [], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { kubeconfig: "controller-manager.conf" } },
  { name: "scheduler", description: "scheduler.conf", ca: "ca", commonName: "system:kube-scheduler", organization: [], usage: "client", sans: "none", roles: CONTROL_PLANE, file: { kubeconfig: "scheduler.conf" } },
  { name: "kubelet-serving", description: "kubelet serving (kubernetes.io/kubelet-serving)", ca: "ca", commonName: "system:node:{node}", organization: ["system:nodes"], usage: "server", sans: "kubelet-serving", roles: ["control-plane", "worker"], file: undefined },
];

const EXTENDED_KEY_USAGE: Readonly<Record<KubeadmCertificateSpec["usage"], readonly string[]>> = {
  server: [x509.OID.serverAuth],
  client: [x509.OID.clientAuth],
  "server+client": [x509.OID.serverAuth, x509.OID.clientAuth],
};

/** The spec of a kubeadm certificate name, or undefined. */
export function kubeadmCertificate(name: string): KubeadmCertificateSpec | undefined {
  return KUBEADM_CERTIFICATES.find((spec) => spec.name === name);
}

/** The first IP among a node's addresses: kubeadm's advertiseAddress. */
export function advertiseAddress(node: ClusterNode): string | undefined {
  return node.addresses.find((address) => x509.parseIpAddress(address) !== undefined);
}

/** The SANs a certificate of this rule may carry for this node (reference §1.3). */
function allowedSans(rule: SanRule, cluster: Cluster, node: ClusterNode): x509.GeneralName[] {
  const names = (texts: readonly string[], field: string) => texts.map((text) => sanFromText(text, field));
  const nodeAddresses = names(node.addresses, "addresses");
  switch (rule) {
    case "none":
      return [];
    case "apiserver":
      return [
        ...names([node.name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", `kubernetes.default.svc.${cluster.dnsDomain}`], "apiserver"),
        ...names(cluster.serviceSubnets.slice(0, 1).map((cidr) => firstServiceIp(cidr, "serviceSubnets")), "serviceSubnets"),
        ...nodeAddresses,
        sanFromText(endpointHost(cluster.controlPlaneEndpoint), "controlPlaneEndpoint"),
        ...names(cluster.apiServerCertSans, "apiServerCertSans"),
      ];
    case "etcd-server":
    case "etcd-peer":
      return [
        ...names([node.name, "localhost", "127.0.0.1", "::1"], "etcd"),
        ...nodeAddresses,
        ...names(rule === "etcd-server" ? cluster.etcdServerCertSans : cluster.etcdPeerCertSans, rule === "etcd-server" ? "etcdServerCertSans" : "etcdPeerCertSans"),
      ];
    case "kubelet-serving":
      return [sanFromText(node.name, "node"), ...nodeAddresses];
  }
}

/**
 * The concrete profile of one kubeadm certificate for one node of one cluster: fixed CN and O,
 * the SANs the inventory allows, the cluster's key algorithm and validity. Profiles are data; this
 * only fills in the inventory's values.
 */
export function materializeProfile(spec: KubeadmCertificateSpec, cluster: Cluster, node: ClusterNode): CertificateProfile {
  const rsa = cluster.keyAlgorithm.startsWith("RSA");
  return {
    name: `kubeadm:${spec.name}`,
    description: spec.description,
    keyUsage: ["digitalSignature"],
    rsaKeyUsage: rsa ? ["keyEncipherment"] : [],
    extendedKeyUsage: EXTENDED_KEY_USAGE[spec.usage],
    defaultTtlSeconds: cluster.certificateValiditySeconds,
    maxTtlSeconds: cluster.certificateValiditySeconds,
    commonName: "required",
    sans: { dns: spec.sans !== "none", ip: spec.sans !== "none", email: false, uri: false, requireDnsOrIp: spec.sans !== "none" },
    keyAlgorithms: [cluster.keyAlgorithm],
    subject: { commonName: spec.commonName.replace("{node}", node.name), organization: spec.organization },
    allowedSubjectAltNames: allowedSans(spec.sans, cluster, node),
  };
}

import path from "node:path";

// kubeadm's on-disk PKI layout (reference/kubernetes.md §1.2, §1.5, §2.2): which file holds which
// key, CSR, certificate and CA, under --cert-dir and --kubeconfig-dir.

/** The three CAs of a kubeadm cluster, by kubeadm's name (the keys of `caCertificates`). */
export type KubeadmCaName = "ca" | "etcd-ca" | "front-proxy-ca";

/** The two directories kubeadm works in. */
export interface KubeadmDirs {
  /** --cert-dir (kubeadm default /etc/kubernetes/pki). */
  readonly certDir: string;
  /** --kubeconfig-dir (kubeadm default /etc/kubernetes). */
  readonly kubeconfigDir: string;
}

/** One certificate kubeadm asks an external CA to sign. */
export interface KubeadmCertificate {
  /** The key of `csrs`/`certificates` in the sign API: `apiserver`, `etcd-server`, `admin`, `kubelet`… */
  readonly name: string;
  /** The name kubeadm prints in check-expiration and takes in `certs renew` (`etcd-server`, `admin.conf`). */
  readonly kubeadmName: string;
  /** A key + certificate pair under cert-dir, or a kubeconfig embedding both. */
  readonly kind: "pki" | "kubeconfig";
  /** Relative to cert-dir without extension (`etcd/server`), or the kubeconfig file name (`admin.conf`). */
  readonly file: string;
  /** The CA that signs it. */
  readonly ca: KubeadmCaName;
  /** check-expiration and `renew all` leave kubelet.conf out: the kubelet rotates its own client certificate. */
  readonly kubeletRotated: boolean;
}

/** Every certificate `kubeadm certs generate-csr` produces, in its order. */
export const KUBEADM_CERTIFICATES: readonly KubeadmCertificate[] = [
  pki("apiserver", "apiserver", "apiserver", "ca"),
  pki("apiserver-kubelet-client", "apiserver-kubelet-client", "apiserver-kubelet-client", "ca"),
  pki("front-proxy-client", "front-proxy-client", "front-proxy-client", "front-proxy-ca"),
  pki("apiserver-etcd-client", "apiserver-etcd-client", "apiserver-etcd-client", "etcd-ca"),
  pki("etcd-server", "etcd-server", "etcd/server", "etcd-ca"),
  pki("etcd-peer", "etcd-peer", "etcd/peer", "etcd-ca"),
  pki("etcd-healthcheck-client", "etcd-healthcheck-client", "etcd/healthcheck-client", "etcd-ca"),
  kubeconfig("admin"),
  kubeconfig("super-admin"),
  kubeconfig("kubelet"),
  kubeconfig("controller-manager"),
  kubeconfig("scheduler"),
];

/** The CA certificate (and, when kubeadm holds the CA itself, key) files under cert-dir. */
export const KUBEADM_AUTHORITIES: readonly { readonly name: KubeadmCaName; readonly file: string }[] = [
  { name: "ca", file: "ca" },
  { name: "etcd-ca", file: "etcd/ca" },
  { name: "front-proxy-ca", file: "front-proxy-ca" },
];

function pki(name: string, kubeadmName: string, file: string, ca: KubeadmCaName): KubeadmCertificate {
  return { name, kubeadmName, kind: "pki", file, ca, kubeletRotated: false };
}

function kubeconfig(name: string): KubeadmCertificate {
  return { name, kubeadmName: `${name}.conf`, kind: "kubeconfig", file: `${name}.conf`, ca: "ca", kubeletRotated: name === "kubelet" };
}

/** The paths of one certificate's files. */
export interface KubeadmCertificatePaths {
  /** The private key file, or the kubeconfig (whose `client-key-data` holds the key). */
  readonly key: string;
  readonly csr: string;
  /** Where the certificate goes: `<name>.crt`, or the kubeconfig itself. */
  readonly certificate: string;
}

/** Where `certificate`'s key, CSR and signed certificate live. */
export function certificatePaths(certificate: KubeadmCertificate, dirs: KubeadmDirs): KubeadmCertificatePaths {
  if (certificate.kind === "kubeconfig") {
    const file = path.join(dirs.kubeconfigDir, certificate.file);
    return { key: file, csr: `${file}.csr`, certificate: file };
  }
  const base = path.join(dirs.certDir, certificate.file);
  return { key: `${base}.key`, csr: `${base}.csr`, certificate: `${base}.crt` };
}

/** `<cert-dir>/<ca>.crt` and `.key`. */
export function authorityPaths(ca: KubeadmCaName, dirs: KubeadmDirs): { certificate: string; key: string } {
  const entry = KUBEADM_AUTHORITIES.find((a) => a.name === ca);
  const base = path.join(dirs.certDir, entry?.file ?? ca);
  return { certificate: `${base}.crt`, key: `${base}.key` };
}

/**
 * The CAs whose certificate a node with these certificates needs on disk: `ca` always (kubeconfigs
 * embed it, the kubelet trusts it), the others when they issued one of the certificates.
 */
export function authoritiesNeeded(certificates: readonly KubeadmCertificate[]): KubeadmCaName[] {
  const used = new Set<KubeadmCaName>(["ca", ...certificates.map((c) => c.ca)]);
  return KUBEADM_AUTHORITIES.map((a) => a.name).filter((name) => used.has(name));
}

/** `sa.key` and `sa.pub` under cert-dir (§1.4). */
export function serviceAccountPaths(dirs: KubeadmDirs): { privateKey: string; publicKey: string } {
  return { privateKey: path.join(dirs.certDir, "sa.key"), publicKey: path.join(dirs.certDir, "sa.pub") };
}

/** A certificate by its API name or kubeadm name (`admin` or `admin.conf`). */
export function findKubeadmCertificate(name: string): KubeadmCertificate | undefined {
  return KUBEADM_CERTIFICATES.find((c) => c.name === name || c.kubeadmName === name);
}

import { existsSync } from "node:fs";
import { parseLeaf } from "./certificate-file.js";
import { readIfExists } from "./file-problems.js";
import { authorityPaths, certificatePaths, KUBEADM_AUTHORITIES, KUBEADM_CERTIFICATES, type KubeadmCertificate, type KubeadmDirs } from "./kubeadm-files.js";
import { parseKubeconfig } from "./kubeconfig-file.js";

// What `kubeadm certs check-expiration` reports (reference/kubernetes.md §2.3; kubeadm
// cmd/certs.go fetchCertificateExpirationInfo), computed from the files alone.

/** One row: kubeadm's output.kubeadm.k8s.io/v1alpha3 `Certificate`. */
export interface ExpirationEntry {
  /** kubeadm's name: `apiserver`, `etcd-server`, `admin.conf`, `ca`… */
  readonly name: string;
  /** Absent when `missing`. */
  readonly expirationDate?: Date;
  /** Whole seconds from now to expiry (negative once expired); 0 when missing. */
  readonly residualTimeSeconds: number;
  /** The issuing CA (leaf rows only). */
  readonly caName?: string;
  /** The CA key is not on disk: kubeadm cannot renew it (external-CA mode). */
  readonly externallyManaged: boolean;
  readonly missing: boolean;
}

/** kubeadm's `CertificateExpirationInfo`. */
export interface CertificateExpirationInfo {
  readonly certificates: readonly ExpirationEntry[];
  readonly certificateAuthorities: readonly ExpirationEntry[];
}

/**
 * The certificates kubeadm checks — every leaf and kubeconfig except kubelet.conf (the kubelet
 * rotates it) — and the three CAs, each list sorted by name as kubeadm sorts it. A certificate
 * is missing when its file is absent, or when a kubeconfig embeds no client certificate yet (a
 * generate-csr output not signed yet; kubeadm itself stops with an error there). A CA is
 * externally managed when its key file is absent (kubeadm additionally checks that the
 * certificates it issued are valid, and fails if not).
 */
export function collectExpirationInfo(dirs: KubeadmDirs, now: Date): CertificateExpirationInfo {
  const external = new Map(KUBEADM_AUTHORITIES.map((ca) => [ca.name, !existsSync(authorityPaths(ca.name, dirs).key)]));
  const certificates = KUBEADM_CERTIFICATES.filter((c) => !c.kubeletRotated)
    .map((certificate): ExpirationEntry => {
      const notAfter = leafNotAfter(certificate, dirs);
      if (notAfter === undefined) return missing(certificate.kubeadmName);
      return { name: certificate.kubeadmName, expirationDate: notAfter, residualTimeSeconds: residual(notAfter, now), caName: certificate.ca, externallyManaged: external.get(certificate.ca) ?? false, missing: false };
    })
    .sort(byName);
  const certificateAuthorities = KUBEADM_AUTHORITIES.map((ca): ExpirationEntry => {
    const file = authorityPaths(ca.name, dirs).certificate;
    const text = readIfExists(file);
    if (text === undefined) return missing(ca.name);
    const notAfter = parseLeaf(text, file).notAfter;
    return { name: ca.name, expirationDate: notAfter, residualTimeSeconds: residual(notAfter, now), externallyManaged: external.get(ca.name) ?? false, missing: false };
  }).sort(byName);
  return { certificates, certificateAuthorities };
}

function leafNotAfter(certificate: KubeadmCertificate, dirs: KubeadmDirs): Date | undefined {
  const paths = certificatePaths(certificate, dirs);
  if (certificate.kind === "kubeconfig") {
    const text = readIfExists(paths.key);
    if (text === undefined) return undefined;
    const pem = parseKubeconfig(text, paths.key).clientCertificatePem;
    return pem === undefined ? undefined : parseLeaf(pem, `${paths.key} (client-certificate-data)`).notAfter;
  }
  const text = readIfExists(paths.certificate);
  return text === undefined ? undefined : parseLeaf(text, paths.certificate).notAfter;
}

function missing(name: string): ExpirationEntry {
  return { name, residualTimeSeconds: 0, externallyManaged: false, missing: true };
}

// Go: int64(time.Until(notAfter) / time.Second), which truncates toward zero.
function residual(notAfter: Date, now: Date): number {
  return Math.trunc((notAfter.getTime() - now.getTime()) / 1000);
}

function byName(a: ExpirationEntry, b: ExpirationEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

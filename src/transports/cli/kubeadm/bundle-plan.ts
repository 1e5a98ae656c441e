import { x509 } from "../../../core/pki/index.js";
import { CliError, EXIT } from "../exit-codes.js";
import { readIfExists } from "./file-problems.js";
import type { PlannedFile } from "./file-transaction.js";
import { authorityPaths, KUBEADM_AUTHORITIES, serviceAccountPaths, type KubeadmCertificate, type KubeadmCertificatePaths, type KubeadmDirs } from "./kubeadm-files.js";
import { completeKubeconfig, type Kubeconfig } from "./kubeconfig-file.js";
import { planServiceAccountFiles } from "./service-account-files.js";
import type { SignedBundle } from "./sign-response.js";

// Which files a signed answer becomes (reference/kubernetes.md §1.2, §1.4, §2.2): `<name>.crt`
// beside each key, completed kubeconfigs, the CA certificates (never a CA key), and sa.key/sa.pub
// on control-plane nodes.

/** Modes: private keys and kubeconfigs (which embed a key) 0600, certificates 0644. */
export const FILE_MODE = { secret: 0o600, certificate: 0o644 } as const;

/** One signed certificate and where it goes. */
export interface BundleItem {
  readonly certificate: KubeadmCertificate;
  readonly paths: KubeadmCertificatePaths;
  /** Kubeconfig entries: the file as it is now. */
  readonly kubeconfig?: Kubeconfig;
  /** A new private key to install with the certificate (renew --new-keys), PEM. */
  readonly newKeyPem?: string;
}

/** The files to write, and what the operator should know about the tree. */
export interface BundlePlan {
  readonly files: readonly PlannedFile[];
  readonly warnings: readonly string[];
}

/**
 * The files of a signed bundle. Refuses (exit 5, unless `force`) to replace a CA certificate file
 * that holds another CA — the usual sign of pointing at the wrong cluster — and an sa.key holding
 * none of the cluster's service-account keys: kubeadm reuses an existing sa.key, and replacing it
 * invalidates every service-account token signed with it. An sa.key holding another of the
 * cluster's keys (a rotation step reaching this node) is replaced by the signing key.
 */
export function planBundleFiles(options: { dirs: KubeadmDirs; items: readonly BundleItem[]; bundle: SignedBundle; force: boolean }): BundlePlan {
  const { dirs, bundle, force } = options;
  const files: PlannedFile[] = [];
  const warnings: string[] = [];
  for (const { name } of KUBEADM_AUTHORITIES) {
    const pem = bundle.authorities.get(name);
    if (pem === undefined) continue;
    const paths = authorityPaths(name, dirs);
    checkAuthorityFile(paths.certificate, pem, `${name} of cluster ${bundle.cluster}`, force);
    if (readIfExists(paths.key) !== undefined) {
      warnings.push(`${paths.key} exists: kubeadm uses external-CA mode for ${name} only when the CA key is absent, and it does not match kpki's CA`);
    }
    files.push({ path: paths.certificate, content: Buffer.from(pem), mode: FILE_MODE.certificate });
  }
  if (bundle.serviceAccount !== undefined) files.push(...serviceAccountFiles(dirs, bundle, force));
  const caPem = bundle.authorities.get("ca") ?? "";
  for (const item of options.items) {
    const signed = bundle.certificates.find((c) => c.certificate.name === item.certificate.name);
    if (signed === undefined) throw new CliError(`internal: no signed certificate for ${item.certificate.name}`, EXIT.failure);
    if (item.certificate.kind === "kubeconfig") {
      if (item.kubeconfig === undefined) throw new CliError(`internal: ${item.paths.key} was not read`, EXIT.failure);
      const text = completeKubeconfig(item.kubeconfig, item.paths.key, {
        certificateAuthorityPem: caPem,
        clientCertificatePem: signed.certificatePem,
        ...(item.newKeyPem === undefined ? {} : { clientKeyPem: item.newKeyPem }),
      });
      files.push({ path: item.paths.certificate, content: Buffer.from(text), mode: FILE_MODE.secret });
    } else {
      if (item.newKeyPem !== undefined) files.push({ path: item.paths.key, content: Buffer.from(item.newKeyPem), mode: FILE_MODE.secret });
      files.push({ path: item.paths.certificate, content: Buffer.from(signed.certificatePem), mode: FILE_MODE.certificate });
    }
  }
  return { files, warnings };
}

function checkAuthorityFile(file: string, pem: string, what: string, force: boolean): void {
  const current = readIfExists(file);
  if (current === undefined || force) return;
  const wanted = x509.pemDecodeAll(pem)[0]?.der;
  let same = false;
  try {
    const blocks = x509.pemDecodeAll(current);
    same = blocks.length === 1 && blocks[0]?.label === "CERTIFICATE" && wanted !== undefined && Buffer.from(blocks[0].der).equals(Buffer.from(wanted));
  } catch {
    same = false;
  }
  if (!same) {
    throw new CliError(`${file} holds another certificate than the ${what}; refusing to replace it, nothing was written (wrong cluster? use --force if the CA was really replaced)`, EXIT.conflict);
  }
}

function serviceAccountFiles(dirs: KubeadmDirs, bundle: SignedBundle, force: boolean): PlannedFile[] {
  if (bundle.serviceAccount === undefined) return [];
  // sa.pub keeps kubeadm's mode (client-go keyutil.WriteKey writes it 0600, like sa.key).
  return planServiceAccountFiles({ paths: serviceAccountPaths(dirs), files: bundle.serviceAccount, cluster: bundle.cluster, force, modes: { privateKey: FILE_MODE.secret, publicKey: FILE_MODE.secret } });
}

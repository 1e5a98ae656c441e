import { x509 } from "../../../core/pki/index.js";
import { CliError, EXIT } from "../exit-codes.js";
import { fileProblem, readIfExists, reasonOf } from "./file-problems.js";
import { certificatePaths, KUBEADM_CERTIFICATES, type KubeadmCertificate, type KubeadmCertificatePaths, type KubeadmDirs } from "./kubeadm-files.js";
import { parseKubeconfig, type Kubeconfig } from "./kubeconfig-file.js";
import { parsePrivateKeyPem, samePublicKey, type PrivateKeyFile } from "./private-key-file.js";

// Reading what `kubeadm certs generate-csr` left on disk (reference/kubernetes.md §2.2).

/** One CSR of the tree, checked: it verifies and belongs to the key beside it. */
export interface KubeadmCsr {
  readonly certificate: KubeadmCertificate;
  readonly paths: KubeadmCertificatePaths;
  /** The CSR re-encoded as canonical PEM. */
  readonly csrPem: string;
  readonly request: x509.CertificateRequest;
  readonly privateKey: PrivateKeyFile;
  /** Kubeconfig entries: the file as read, to be completed once signed. */
  readonly kubeconfig?: Kubeconfig;
}

const CSR_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

/**
 * Every key + CSR pair of a generate-csr tree, in kubeadm's order. Names whose files are both
 * absent are skipped (a worker keeps only kubelet.conf); a CSR without its key, a key (or
 * kubeconfig) without its CSR, a malformed file, a CSR whose signature does not verify or whose
 * key is not the key beside it are refused, naming the file. Nothing is sent anywhere.
 */
export function readCsrTree(dirs: KubeadmDirs): KubeadmCsr[] {
  const out: KubeadmCsr[] = [];
  for (const certificate of KUBEADM_CERTIFICATES) {
    const entry = readEntry(certificate, dirs);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

function readEntry(certificate: KubeadmCertificate, dirs: KubeadmDirs): KubeadmCsr | undefined {
  const paths = certificatePaths(certificate, dirs);
  const csrText = readIfExists(paths.csr);
  const keyText = readIfExists(paths.key);
  if (csrText === undefined && keyText === undefined) return undefined;
  const holder = certificate.kind === "kubeconfig" ? "kubeconfig" : "key";
  if (keyText === undefined) throw fileProblem(paths.csr, `found the CSR but not its ${holder} ${paths.key}`);
  if (csrText === undefined) {
    throw fileProblem(paths.key, `found the ${holder} but not its CSR ${paths.csr} (already signed? \`kpki kubeadm renew\` renews signed certificates)`);
  }
  const request = parseCsr(csrText, paths.csr);
  let kubeconfig: Kubeconfig | undefined;
  let privateKey: PrivateKeyFile;
  if (certificate.kind === "kubeconfig") {
    kubeconfig = parseKubeconfig(keyText, paths.key);
    if (kubeconfig.clientKeyPem === undefined) throw fileProblem(paths.key, `user "${kubeconfig.userName}" has no client-key-data`);
    privateKey = parsePrivateKeyPem(kubeconfig.clientKeyPem, `${paths.key} (client-key-data)`);
  } else {
    privateKey = parsePrivateKeyPem(keyText, paths.key);
  }
  if (!samePublicKey(request.publicKeySpki, privateKey.publicKeySpki)) {
    const keyName = certificate.kind === "kubeconfig" ? `the client key in ${paths.key}` : paths.key;
    throw new CliError(`CSR ${paths.csr} does not match ${keyName}`, EXIT.usage);
  }
  return { certificate, paths, csrPem: x509.pemEncode("CERTIFICATE REQUEST", request.der), request, privateKey, ...(kubeconfig === undefined ? {} : { kubeconfig }) };
}

/** A PEM CSR that parses strictly and whose self-signature verifies. */
export function parseCsr(text: string, file: string): x509.CertificateRequest {
  let der: Uint8Array;
  try {
    der = x509.pemDecodeOne(text, CSR_LABELS, "csr");
  } catch (error) {
    throw fileProblem(file, `not a PEM CSR (${reasonOf(error)})`);
  }
  try {
    return x509.parseCertificateRequest(der);
  } catch (error) {
    throw fileProblem(file, reasonOf(error));
  }
}

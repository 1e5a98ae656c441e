import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { x509 } from "../../../core/pki/index.js";
import type { CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { planBundleFiles, type BundleItem } from "./bundle-plan.js";
import { buildCertificateRequest } from "./certificate-request.js";
import { parseLeaf } from "./certificate-file.js";
import { fileProblem, readIfExists } from "./file-problems.js";
import { applyChanges, planChanges, type FileChange, type PlannedFile } from "./file-transaction.js";
import { requestSignatures, type KubeadmApi } from "./kubeadm-api.js";
import { certificatePaths, findKubeadmCertificate, KUBEADM_CERTIFICATES, type KubeadmCertificate, type KubeadmDirs } from "./kubeadm-files.js";
import { reportWritten } from "./kubeadm-sign.js";
import { parseKubeconfig, type Kubeconfig } from "./kubeconfig-file.js";
import { describeKey, encodePrivateKeyPem, generateSameAlgorithm, parsePrivateKeyPem, samePublicKey, type PrivateKeyFile } from "./private-key-file.js";
import { validateSignResponse, type SigningItem } from "./sign-response.js";

// `kpki kubeadm renew`: what `kubeadm certs renew` cannot do with an external CA
// (reference/kubernetes.md §2.4). New CSRs with the subject and SANs of the certificates in place
// (from the same keys, or new keys of the same algorithm), signed in one transaction, swapped in
// all or nothing, the replaced files kept under <dir>/kpki-backup-<UTC timestamp>/.

/** What `kpki kubeadm renew` was asked to do. */
export interface KubeadmRenewOptions {
  readonly cluster: string;
  readonly node: string;
  readonly dirs: KubeadmDirs;
  /** kubeadm names (`apiserver`, `etcd-server`, `admin.conf`…; `admin` works too) or `all`. */
  readonly names: readonly string[];
  readonly newKeys: boolean;
  readonly force: boolean;
  /** Names the backup directory. */
  readonly now: Date;
}

/** A certificate in place, with its key. */
interface InPlace {
  readonly certificate: KubeadmCertificate;
  readonly leaf: x509.ParsedCertificate;
  readonly key: PrivateKeyFile;
  readonly kubeconfig?: Kubeconfig;
}

/** Renews the named certificates. Progress on stderr. */
export async function runKubeadmRenew(options: KubeadmRenewOptions, api: KubeadmApi, io: CliOutput): Promise<void> {
  const { certificates, all } = selectCertificates(options.names);
  const inPlace: InPlace[] = [];
  for (const certificate of certificates) {
    const found = readInPlace(certificate, options.dirs);
    if (found !== undefined) inPlace.push(found);
    else if (all) io.err(`MISSING! ${certificate.kubeadmName}\n`); // kubeadm's wording for `renew all`
    else throw new CliError(`${certificate.kubeadmName} has no certificate in ${certificatePaths(certificate, options.dirs).certificate} to renew`, EXIT.notFound);
  }
  if (inPlace.length === 0) throw new CliError("nothing to renew: none of the certificates exists", EXIT.notFound);

  const renewals = await Promise.all(inPlace.map(async (current) => {
    const key = options.newKeys ? describeKey(await generateSameAlgorithm(current.key), "new key") : current.key;
    const csrPem = buildCertificateRequest(current.leaf.subject.der, current.leaf.extensions.subjectAltNames ?? [], key);
    const item: SigningItem = { certificate: current.certificate, csrPem, publicKeySpki: key.publicKeySpki };
    const bundleItem: BundleItem = {
      certificate: current.certificate,
      paths: certificatePaths(current.certificate, options.dirs),
      ...(current.kubeconfig === undefined ? {} : { kubeconfig: current.kubeconfig }),
      ...(options.newKeys ? { newKeyPem: encodePrivateKeyPem(key.key) } : {}),
    };
    return { item, bundleItem };
  }));
  const items = renewals.map((r) => r.item);
  const names = inPlace.map((c) => c.certificate.kubeadmName).join(", ");
  io.err(`renewing ${items.length} certificate${items.length === 1 ? "" : "s"} for node ${options.node} of cluster ${options.cluster}${options.newKeys ? " with new keys" : ""}: ${names}…\n`);
  const bundle = validateSignResponse(await requestSignatures(api, options.cluster, options.node, items), { cluster: options.cluster, node: options.node, items });
  for (const signed of bundle.certificates) io.err(`signed ${signed.certificate.kubeadmName} (serial ${signed.serialNumber}, expires ${signed.notAfter})\n`);

  const plan = planBundleFiles({ dirs: options.dirs, items: renewals.map((r) => r.bundleItem), bundle, force: options.force });
  for (const warning of plan.warnings) io.err(`warning: ${warning}\n`);
  const changes = planChanges(plan.files);
  const backups = planChanges(backupFiles(changes, options.dirs, options.now));
  applyChanges([...backups, ...changes]);
  reportWritten(changes, [], io);
  const backupDirs = [...new Set(backups.map((b) => backupRoot(b.path)))];
  if (backupDirs.length > 0) io.err(`kept the replaced files in ${backupDirs.join(" and ")}\n`);
  io.err("done renewing; restart kube-apiserver, kube-controller-manager, kube-scheduler and etcd so that they use the new certificates\n");
}

/** The certificates named on the command line; `all` means every one `kubeadm certs renew all` renews (not kubelet.conf). */
function selectCertificates(names: readonly string[]): { certificates: KubeadmCertificate[]; all: boolean } {
  const valid = [...KUBEADM_CERTIFICATES.map((c) => c.kubeadmName), "all"].join(", ");
  if (names.length === 0) throw new CliError(`name the certificates to renew, or all (${valid})`, EXIT.usage);
  if (names.includes("all")) {
    if (names.length > 1) throw new CliError("give either all or certificate names, not both", EXIT.usage);
    return { certificates: KUBEADM_CERTIFICATES.filter((c) => !c.kubeletRotated), all: true };
  }
  const certificates: KubeadmCertificate[] = [];
  for (const name of names) {
    const certificate = findKubeadmCertificate(name);
    if (certificate === undefined) throw new CliError(`unknown certificate "${name}"; expected one of ${valid}`, EXIT.usage);
    if (!certificates.includes(certificate)) certificates.push(certificate);
  }
  return { certificates, all: false };
}

/** The certificate and key in place, or undefined when there is no certificate. */
function readInPlace(certificate: KubeadmCertificate, dirs: KubeadmDirs): InPlace | undefined {
  const paths = certificatePaths(certificate, dirs);
  let certificatePem: string | undefined;
  let keyPem: string | undefined;
  let kubeconfig: Kubeconfig | undefined;
  let keyFile = paths.key;
  if (certificate.kind === "kubeconfig") {
    const text = readIfExists(paths.key);
    if (text === undefined) return undefined;
    kubeconfig = parseKubeconfig(text, paths.key);
    certificatePem = kubeconfig.clientCertificatePem;
    if (certificatePem === undefined) return undefined;
    keyPem = kubeconfig.clientKeyPem;
    keyFile = `${paths.key} (client-key-data)`;
    if (keyPem === undefined) throw fileProblem(paths.key, `user "${kubeconfig.userName}" has no client-key-data`);
  } else {
    certificatePem = readIfExists(paths.certificate);
    if (certificatePem === undefined) return undefined;
    keyPem = readIfExists(paths.key);
    if (keyPem === undefined) throw fileProblem(paths.certificate, `has no key ${paths.key} beside it`);
  }
  const leaf = parseLeaf(certificatePem, certificate.kind === "kubeconfig" ? `${paths.key} (client-certificate-data)` : paths.certificate);
  const key = parsePrivateKeyPem(keyPem, keyFile);
  if (!samePublicKey(leaf.publicKeySpki, key.publicKeySpki)) throw new CliError(`the certificate in ${paths.certificate} does not match its key ${keyFile}`, EXIT.usage);
  return { certificate, leaf, key, ...(kubeconfig === undefined ? {} : { kubeconfig }) };
}

const BACKUP_PREFIX = "kpki-backup-";

/** `20261115T093000Z`. */
function stamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** A copy of every file that will be replaced, under `<dir>/kpki-backup-<stamp>/` at the same relative path. */
function backupFiles(changes: readonly FileChange[], dirs: KubeadmDirs, now: Date): PlannedFile[] {
  const roots = new Map<string, string>();
  return changes
    .filter((change) => change.action === "replace")
    .map((change) => {
      const root = isInside(change.path, dirs.certDir) ? dirs.certDir : isInside(change.path, dirs.kubeconfigDir) ? dirs.kubeconfigDir : path.dirname(change.path);
      let backupDir = roots.get(root);
      if (backupDir === undefined) {
        backupDir = freeDirectory(path.join(root, `${BACKUP_PREFIX}${stamp(now)}`));
        roots.set(root, backupDir);
      }
      return { path: path.join(backupDir, path.relative(root, change.path)), content: readFileSync(change.path), mode: statSync(change.path).mode & 0o777 };
    });
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

function freeDirectory(base: string): string {
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${base}-${i}`;
    if (!exists(candidate)) return candidate;
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function backupRoot(file: string): string {
  let dir = path.dirname(file);
  while (!path.basename(dir).startsWith(BACKUP_PREFIX) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

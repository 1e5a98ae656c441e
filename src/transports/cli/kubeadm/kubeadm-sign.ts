import { x509 } from "../../../core/pki/index.js";
import type { CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { planBundleFiles, type BundleItem } from "./bundle-plan.js";
import { readCsrTree, type KubeadmCsr } from "./csr-tree-reader.js";
import { readIfExists } from "./file-problems.js";
import { actionLine, applyChanges, assertReplaceable, planChanges, type FileChange } from "./file-transaction.js";
import { fetchAuthorityCertificate, fetchCluster, fetchServiceAccountPublicKeys, requestSignatures, type KubeadmApi } from "./kubeadm-api.js";
import { authoritiesNeeded, authorityPaths, serviceAccountPaths, type KubeadmDirs } from "./kubeadm-files.js";
import { existingServiceAccountKey, foreignKeyRefusal, parsePublicKeysPem } from "./service-account-files.js";
import { validateSignResponse, type SignedBundle, type SigningItem } from "./sign-response.js";

// `kpki kubeadm sign`: the external-CA hook. Reads what `kubeadm certs generate-csr` wrote, has
// kpki sign all of it in one transaction, and writes the pki tree and kubeconfigs kubeadm
// expects in external-CA mode (reference/kubernetes.md §2), all or nothing.

/** What `kpki kubeadm sign` was asked to do. */
export interface KubeadmSignOptions {
  readonly cluster: string;
  readonly node: string;
  readonly dirs: KubeadmDirs;
  /** Show what would change; issue nothing, write nothing. */
  readonly dryRun: boolean;
  /** Delete the CSRs once the certificates are written (kubeadm's docs say to; default keep). */
  readonly removeCsrs: boolean;
  /** Replace a CA certificate file or sa.key that holds something else. */
  readonly force: boolean;
}

/** Reads, signs, writes. Progress goes to stderr; a dry run prints its plan on stdout. */
export async function runKubeadmSign(options: KubeadmSignOptions, api: KubeadmApi, io: CliOutput): Promise<void> {
  const csrs = readCsrTree(options.dirs);
  if (csrs.length === 0) {
    throw new CliError(`no CSR of \`kubeadm certs generate-csr\` in ${options.dirs.certDir} or ${options.dirs.kubeconfigDir}; run it first`, EXIT.usage);
  }
  const removals = options.removeCsrs ? csrs.map((csr) => csr.paths.csr) : [];
  assertReplaceable([...csrs.map((csr) => csr.paths.certificate), ...authorityTargets(csrs, options.dirs), ...Object.values(serviceAccountPaths(options.dirs))]);
  const what = `${csrs.length} certificate${csrs.length === 1 ? "" : "s"} for node ${options.node} of cluster ${options.cluster}`;
  if (options.dryRun) {
    await dryRun(options, csrs, removals, what, api, io);
    return;
  }

  if (!options.force) {
    await assertAuthorityFilesMatch(options, csrs, api);
    await assertServiceAccountKeyMatches(options, api);
  }
  io.err(`signing ${what}…\n`);
  const items: SigningItem[] = csrs.map((csr) => ({ certificate: csr.certificate, csrPem: csr.csrPem, publicKeySpki: csr.privateKey.publicKeySpki }));
  const bundle = validateSignResponse(await requestSignatures(api, options.cluster, options.node, items), { cluster: options.cluster, node: options.node, items });
  for (const signed of bundle.certificates) io.err(`signed ${signed.certificate.name} (serial ${signed.serialNumber}, expires ${signed.notAfter})\n`);

  const plan = planBundleFiles({ dirs: options.dirs, items: csrs.map(bundleItem), bundle, force: options.force });
  for (const warning of plan.warnings) io.err(`warning: ${warning}\n`);
  const changes = planChanges(plan.files);
  applyChanges(changes, { remove: removals });
  reportWritten(changes, removals, io);
  reportServiceAccountKey(bundle, changes, options.dirs, io);
  const written = changes.filter((c) => c.action !== "unchanged").length;
  io.err(`done: ${what}; ${written} file${written === 1 ? "" : "s"} written, ${changes.length - written} unchanged${removals.length === 0 ? "" : `, ${removals.length} CSRs removed`}\n`);
  if (bundle.serviceAccount === undefined && csrs.some((csr) => csr.certificate.name === "apiserver")) {
    io.err("warning: the server sent no service-account key pair (is the node registered as a control-plane node?); kubeadm will create its own sa.key\n");
  }
}

/**
 * Which service-account key versions sa.key and sa.pub now hold, when they changed: during a
 * rotation (reference §5) the operator must restart kube-apiserver (and after a switch
 * kube-controller-manager) on every control-plane node for the step to take effect.
 */
export function reportServiceAccountKey(bundle: SignedBundle, changes: readonly FileChange[], dirs: KubeadmDirs, io: CliOutput): void {
  const sa = bundle.serviceAccount;
  if (sa === undefined) return;
  const paths = Object.values(serviceAccountPaths(dirs));
  if (!changes.some((change) => paths.includes(change.path) && change.action !== "unchanged")) return;
  const versions = sa.signingVersion === undefined ? "" : `: sa.key holds version ${sa.signingVersion}, sa.pub lists ${sa.verificationVersions?.join(", ") ?? "?"}`;
  const step = sa.step === undefined || sa.step === "idle" ? "" : ` (rotation step ${sa.step})`;
  io.err(`service-account key${versions}${step}; restart kube-apiserver and kube-controller-manager on this node to use them\n`);
}

/** The signed certificate's destination for a CSR of the tree. */
export function bundleItem(csr: KubeadmCsr): BundleItem {
  return { certificate: csr.certificate, paths: csr.paths, ...(csr.kubeconfig === undefined ? {} : { kubeconfig: csr.kubeconfig }) };
}

/** "wrote …" / "unchanged …" / "removed …" lines on stderr. */
export function reportWritten(changes: readonly FileChange[], removals: readonly string[], io: CliOutput): void {
  for (const change of changes) io.err(change.action === "unchanged" ? `unchanged ${change.path}\n` : `wrote ${change.path} (${change.action === "create" ? "new" : "replaced"})\n`);
  for (const file of removals) io.err(`removed ${file}\n`);
}

function authorityTargets(csrs: readonly KubeadmCsr[], dirs: KubeadmDirs): string[] {
  return authoritiesNeeded(csrs.map((csr) => csr.certificate)).map((name) => authorityPaths(name, dirs).certificate);
}

/**
 * Reads the cluster and its CA certificates (both read-only calls) and prints what signing would
 * create, replace or leave unchanged. Nothing is issued: issuing is not something a dry run may do.
 */
async function dryRun(options: KubeadmSignOptions, csrs: readonly KubeadmCsr[], removals: readonly string[], what: string, api: KubeadmApi, io: CliOutput): Promise<void> {
  const cluster = await fetchCluster(api, options.cluster);
  const lines: string[] = [`dry run: would sign ${what}: ${csrs.map((csr) => csr.certificate.name).join(", ")}`];
  const node = cluster.nodes.find((n) => n.name === options.node);
  if (node === undefined) lines.push(`warning: node ${options.node} is not in cluster ${options.cluster}'s inventory; the server will refuse to sign for it`);
  for (const name of authoritiesNeeded(csrs.map((csr) => csr.certificate))) {
    const file = authorityPaths(name, options.dirs).certificate;
    const wanted = firstCertificate(await fetchAuthorityCertificate(api, cluster.authorities[name]));
    const current = readIfExists(file);
    if (current === undefined) lines.push(actionLine("create", file));
    else if (sameSingleCertificate(current, wanted)) lines.push(actionLine(current === x509.pemEncode("CERTIFICATE", wanted) ? "unchanged" : "replace", file));
    else lines.push(actionLine(options.force ? "replace" : "refuse", file) + (options.force ? "" : ` (holds another certificate than ${name} of cluster ${options.cluster}; --force replaces it)`));
  }
  if (node === undefined || node.role === "control-plane") {
    const sa = serviceAccountPaths(options.dirs);
    if (readIfExists(sa.privateKey) === undefined) lines.push(actionLine("create", sa.privateKey), actionLine("create", sa.publicKey));
    else lines.push(`${actionLine("check", sa.privateKey)} (kept if it holds the cluster's service-account key of this rotation step, replaced if it holds another key of the cluster's sa.pub, refused otherwise unless --force)`);
  }
  for (const csr of csrs) lines.push(actionLine(readIfExists(csr.paths.certificate) === undefined ? "create" : "replace", csr.paths.certificate));
  for (const file of removals) lines.push(actionLine("remove", file));
  lines.push("dry run: nothing was sent for signing and nothing was written");
  io.out(lines.join("\n") + "\n");
  // A script running the dry run first should learn that the real run would be refused.
  const refused = lines.filter((l) => l.startsWith("refuse ")).length;
  if (refused > 0) throw new CliError(`dry run: signing would be refused (${refused} CA certificate file${refused === 1 ? "" : "s"} to replace; --force)`, EXIT.conflict);
}

/**
 * Before anything is signed: an existing ca.crt / etcd/ca.crt / front-proxy-ca.crt must hold this
 * cluster's CA (else this tree belongs to another cluster, and signing would issue certificates
 * nobody gets). The CA certificates are public, so this needs no extra permission.
 */
async function assertAuthorityFilesMatch(options: KubeadmSignOptions, csrs: readonly KubeadmCsr[], api: KubeadmApi): Promise<void> {
  for (const name of authoritiesNeeded(csrs.map((csr) => csr.certificate))) {
    const file = authorityPaths(name, options.dirs).certificate;
    const current = readIfExists(file);
    if (current === undefined) continue;
    const wanted = firstCertificate(await fetchAuthorityCertificate(api, `${options.cluster}.${name}`));
    if (!sameSingleCertificate(current, wanted)) {
      throw new CliError(`${file} holds another certificate than ${name} of cluster ${options.cluster}; refusing before anything is signed (wrong cluster? --force replaces it)`, EXIT.conflict);
    }
  }
}

/**
 * Before anything is signed: an existing sa.key must be one of the keys the cluster's sa.pub lists
 * (the signing key, or during a rotation the other key: service-account-files.ts says why), else
 * the server's answer could not be written after signing. sa.pub is public, so this needs no extra
 * permission.
 */
async function assertServiceAccountKeyMatches(options: KubeadmSignOptions, api: KubeadmApi): Promise<void> {
  const file = serviceAccountPaths(options.dirs).privateKey;
  if (readIfExists(file) === undefined) return;
  let keys: Uint8Array[];
  try {
    keys = parsePublicKeysPem(await fetchServiceAccountPublicKeys(api, options.cluster), "sa.pub of the server");
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the server's service-account public keys cannot be used: ${error instanceof Error ? error.message : String(error)}`, EXIT.failure);
  }
  if (existingServiceAccountKey(file, undefined, keys) !== "listed") throw foreignKeyRefusal(file, options.cluster, "before anything is signed");
}

function firstCertificate(pem: string): Uint8Array {
  const [block] = x509.pemDecodeAll(pem, "certificate");
  if (block === undefined || block.label !== "CERTIFICATE") throw new CliError("the server sent a CA certificate that is not PEM", EXIT.failure);
  return block.der;
}

function sameSingleCertificate(text: string, der: Uint8Array): boolean {
  try {
    const blocks = x509.pemDecodeAll(text);
    return blocks.length === 1 && blocks[0]?.label === "CERTIFICATE" && Buffer.from(blocks[0].der).equals(Buffer.from(der));
  } catch {
    return false;
  }
}

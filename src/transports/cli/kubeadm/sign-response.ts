import { z } from "zod";
import { x509 } from "../../../core/pki/index.js";
import { CliError, EXIT } from "../exit-codes.js";
import { reasonOf } from "./file-problems.js";
import { authoritiesNeeded, type KubeadmCaName, type KubeadmCertificate } from "./kubeadm-files.js";
import { samePublicKey } from "./private-key-file.js";
import { checkServiceAccountFiles, type ServiceAccountFiles } from "./service-account-files.js";

// The answer of `POST /v1/clusters/{cluster}/kubeadm/sign`, checked before a single file is
// touched: every requested certificate is there, carries the requested key, and was signed by the
// CA certificate that will be written beside it.

/** One certificate to have signed. */
export interface SigningItem {
  readonly certificate: KubeadmCertificate;
  readonly csrPem: string;
  /** DER SubjectPublicKeyInfo the certificate must carry. */
  readonly publicKeySpki: Uint8Array;
}

/** A certificate of the answer, checked. */
export interface SignedCertificate {
  readonly certificate: KubeadmCertificate;
  readonly id: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  /** The certificate (and any chain after it) as canonical PEM. */
  readonly certificatePem: string;
}

/** The service-account files, in kubeadm's encodings, and which key versions they hold. */
export interface ServiceAccountKeyPair extends ServiceAccountFiles {
  /** The version sa.key holds and those sa.pub lists, when the server says (for the log). */
  readonly signingVersion?: number;
  readonly verificationVersions?: readonly number[];
  /** The rotation step (idle, published, switched). */
  readonly step?: string;
}

/** A checked answer. */
export interface SignedBundle {
  readonly cluster: string;
  readonly node: string;
  readonly certificates: readonly SignedCertificate[];
  /** Canonical PEM of exactly one CA certificate per CA this node needs (`ca` always). */
  readonly authorities: ReadonlyMap<KubeadmCaName, string>;
  readonly serviceAccount?: ServiceAccountKeyPair;
}

const issuedSchema = z.object({ id: z.string(), serialNumber: z.string(), notAfter: z.string(), certificatePem: z.string() });
const signResponseSchema = z.object({
  cluster: z.string(),
  node: z.string(),
  certificates: z.record(z.string(), issuedSchema),
  caCertificates: z.record(z.string(), z.string()),
  serviceAccount: z
    .object({
      privateKeyPem: z.string(),
      publicKeyPem: z.string(),
      signingVersion: z.number().int().optional(),
      verificationVersions: z.array(z.number().int()).optional(),
      step: z.string().optional(),
    })
    .optional(),
});

/** The JSON body of the sign request. */
export function signRequestBody(node: string, items: readonly SigningItem[]): { node: string; csrs: Record<string, string> } {
  return { node, csrs: Object.fromEntries(items.map((item) => [item.certificate.name, item.csrPem])) };
}

/** Checks the server's answer against what was asked; refuses (exit 1) anything that cannot be written as is. */
export function validateSignResponse(body: unknown, expected: { cluster: string; node: string; items: readonly SigningItem[] }): SignedBundle {
  const parsed = signResponseSchema.safeParse(body);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw unusable(issue === undefined ? "unexpected shape" : `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  const answer = parsed.data;
  if (answer.cluster !== expected.cluster || answer.node !== expected.node) {
    throw unusable(`it is for node ${answer.node} of cluster ${answer.cluster}, not node ${expected.node} of cluster ${expected.cluster}`);
  }
  const requested = new Set(expected.items.map((item) => item.certificate.name));
  const extra = Object.keys(answer.certificates).find((name) => !requested.has(name));
  if (extra !== undefined) throw unusable(`it holds a certificate for ${extra}, which was not requested`);

  const authorities = new Map<KubeadmCaName, { pem: string; parsed: x509.ParsedCertificate }>();
  for (const name of authoritiesNeeded(expected.items.map((item) => item.certificate))) {
    const pem = answer.caCertificates[name];
    if (pem === undefined) throw unusable(`caCertificates.${name} is missing`);
    authorities.set(name, authorityCertificate(pem, name));
  }

  const certificates = expected.items.map((item): SignedCertificate => {
    const issued = answer.certificates[item.certificate.name];
    if (issued === undefined) throw unusable(`no certificate for ${item.certificate.name}`);
    const issuer = authorities.get(item.certificate.ca);
    if (issuer === undefined) throw unusable(`caCertificates.${item.certificate.ca} is missing`);
    return { certificate: item.certificate, id: issued.id, serialNumber: issued.serialNumber, notAfter: issued.notAfter, certificatePem: leafCertificate(issued.certificatePem, item, issuer.parsed) };
  });

  const serviceAccount = answer.serviceAccount === undefined ? undefined : serviceAccountKeys(answer.serviceAccount);
  return {
    cluster: answer.cluster,
    node: answer.node,
    certificates,
    authorities: new Map([...authorities].map(([name, ca]) => [name, ca.pem])),
    ...(serviceAccount === undefined ? {} : { serviceAccount }),
  };
}

function unusable(reason: string): CliError {
  return new CliError(`the server's answer cannot be used, nothing was written: ${reason}`, EXIT.failure);
}

function certificateBlocks(pem: string, field: string): x509.ParsedCertificate[] {
  try {
    return x509.pemDecodeAll(pem, field).map((block, index) => {
      if (block.label !== "CERTIFICATE") throw x509.pemLabelError(field, index, block.label);
      return x509.parseCertificate(block.der);
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw unusable(`${field}: ${reasonOf(error)}`);
  }
}

// ca.crt, etcd/ca.crt and front-proxy-ca.crt must hold that one issuing CA and nothing else:
// Kubernetes trusts every certificate in those files (ARCHITECTURE.md §3).
function authorityCertificate(pem: string, name: KubeadmCaName): { pem: string; parsed: x509.ParsedCertificate } {
  const blocks = certificateBlocks(pem, `caCertificates.${name}`);
  const [ca] = blocks;
  if (ca === undefined || blocks.length !== 1) throw unusable(`caCertificates.${name} holds ${blocks.length} certificates, expected exactly one`);
  if (ca.extensions.basicConstraints?.ca !== true) throw unusable(`caCertificates.${name} is not a CA certificate`);
  return { pem: x509.pemEncode("CERTIFICATE", ca.der), parsed: ca };
}

function leafCertificate(pem: string, item: SigningItem, issuer: x509.ParsedCertificate): string {
  const name = item.certificate.name;
  const blocks = certificateBlocks(pem, `certificates.${name}.certificatePem`);
  const [leaf] = blocks;
  if (leaf === undefined) throw unusable(`certificates.${name}.certificatePem is empty`);
  if (!samePublicKey(leaf.publicKeySpki, item.publicKeySpki)) throw unusable(`the ${name} certificate is for another key than its CSR`);
  if (!sameBytes(leaf.issuer.der, issuer.subject.der) || !x509.verifyIssuedBy(leaf, issuer.publicKeySpki)) {
    throw unusable(`the ${name} certificate was not signed by the ${item.certificate.ca} certificate of the answer`);
  }
  return blocks.map((block) => x509.pemEncode("CERTIFICATE", block.der)).join("");
}

// sa.pub may list several keys (a rotation in progress, reference §5); it must list sa.key's.
function serviceAccountKeys(pair: { privateKeyPem: string; publicKeyPem: string; signingVersion?: number | undefined; verificationVersions?: number[] | undefined; step?: string | undefined }): ServiceAccountKeyPair {
  let files: ServiceAccountFiles;
  try {
    files = checkServiceAccountFiles(pair, "serviceAccount");
  } catch (error) {
    // The messages name the field (serviceAccount.publicKeyPem…): keep it.
    throw unusable(error instanceof Error ? error.message : String(error));
  }
  return {
    ...files,
    ...(pair.signingVersion === undefined ? {} : { signingVersion: pair.signingVersion }),
    ...(pair.verificationVersions === undefined ? {} : { verificationVersions: pair.verificationVersions }),
    ...(pair.step === undefined ? {} : { step: pair.step }),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

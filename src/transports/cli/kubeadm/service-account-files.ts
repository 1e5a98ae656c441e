import { createPublicKey } from "node:crypto";
import { x509 } from "../../../core/pki/index.js";
import { CliError, EXIT } from "../exit-codes.js";
import { readIfExists, reasonOf } from "./file-problems.js";
import type { PlannedFile } from "./file-transaction.js";
import { encodePrivateKeyPem, parsePrivateKeyPem, samePublicKey, type PrivateKeyFile } from "./private-key-file.js";

// sa.key and sa.pub while a cluster's service-account key is rotated (reference/kubernetes.md §5):
// sa.key holds the one signing key of the current step, sa.pub every key kube-apiserver must
// accept (`--service-account-key-file` reads several PEM blocks from one file). Which existing
// sa.key may be replaced: one that is among the keys of sa.pub. During a rotation a node
// legitimately holds the old key (the switch has not reached it yet) or the new one, and both
// are in sa.pub; anything else is another cluster's key, or a key that signed tokens nobody else
// accepts, and replacing it silently would hide that (--force does it knowingly).

/** The service-account files a server sent, checked and in kubeadm's encodings. */
export interface ServiceAccountFiles {
  readonly privateKey: PrivateKeyFile;
  /** sa.key: PKCS#1 or SEC1 PEM, as kubeadm writes it. */
  readonly privateKeyPem: string;
  /** sa.pub: one PKIX `PUBLIC KEY` block per key, in the server's order. */
  readonly publicKeyPem: string;
  /** DER SubjectPublicKeyInfo of each key in sa.pub. */
  readonly publicKeysSpki: readonly Uint8Array[];
}

/** Parses sa.pub text: one or more `PUBLIC KEY` blocks, each an RSA or ECDSA key. Throws with the reason. */
export function parsePublicKeysPem(text: string, field: string): Uint8Array[] {
  const blocks = x509.pemDecodeAll(text, field);
  if (blocks.length === 0) throw new Error(`${field}: holds no PUBLIC KEY block`);
  return blocks.map((block, index) => {
    if (block.label !== "PUBLIC KEY") throw x509.pemLabelError(field, index, block.label, ["PUBLIC KEY"]);
    let type: string | undefined;
    try {
      type = createPublicKey({ key: Buffer.from(block.der), format: "der", type: "spki" }).asymmetricKeyType;
    } catch (error) {
      throw new Error(`${field}: block ${index + 1} is not a public key (${reasonOf(error)})`);
    }
    // kube-apiserver loads RSA and ECDSA keys only (reference §5).
    if (type !== "rsa" && type !== "ec") throw new Error(`${field}: block ${index + 1} is a ${type ?? "unknown"} key; kube-apiserver accepts RSA and ECDSA keys only`);
    return block.der;
  });
}

/** Checks a server's sa.key / sa.pub pair: sa.pub must list sa.key's public half. Throws with the reason. */
export function checkServiceAccountFiles(pair: { privateKeyPem: string; publicKeyPem: string }, field: string): ServiceAccountFiles {
  const privateKey = parsePrivateKeyPem(pair.privateKeyPem, `${field}.privateKeyPem`);
  const publicKeysSpki = parsePublicKeysPem(pair.publicKeyPem, `${field}.publicKeyPem`);
  if (!publicKeysSpki.some((spki) => samePublicKey(spki, privateKey.publicKeySpki))) {
    throw new Error(`${field}.publicKeyPem does not list the public half of ${field}.privateKeyPem`);
  }
  return {
    privateKey,
    privateKeyPem: encodePrivateKeyPem(privateKey.key),
    publicKeyPem: publicKeysSpki.map((spki) => x509.pemEncode("PUBLIC KEY", spki)).join(""),
    publicKeysSpki,
  };
}

/** What an existing sa.key holds, compared with the cluster's keys. */
export type ExistingKey = "absent" | "signing" | "listed" | "other";

/** Reads `file` (an sa.key) and says whether it is the signing key, another key of `publicKeysSpki`, or something else. */
export function existingServiceAccountKey(file: string, signingSpki: Uint8Array | undefined, publicKeysSpki: readonly Uint8Array[]): ExistingKey {
  const current = readIfExists(file);
  if (current === undefined) return "absent";
  let spki: Uint8Array;
  try {
    spki = parsePrivateKeyPem(current, file).publicKeySpki;
  } catch {
    return "other";
  }
  if (signingSpki !== undefined && samePublicKey(spki, signingSpki)) return "signing";
  return publicKeysSpki.some((key) => samePublicKey(key, spki)) ? "listed" : "other";
}

/** The refusal for an sa.key that holds none of the cluster's keys. */
export function foreignKeyRefusal(file: string, cluster: string, when: string): CliError {
  return new CliError(
    `${file} holds another key than the service-account key of cluster ${cluster}; refusing ${when} (it is none of the keys the cluster's sa.pub lists, and replacing it would invalidate every token it signed; --force replaces it)`,
    EXIT.conflict,
  );
}

/** Modes of the planned files. */
export interface ServiceAccountFileModes {
  readonly privateKey: number;
  readonly publicKey: number;
}

/**
 * The sa.key and sa.pub to write for `files`. An existing sa.key that is the signing key is kept
 * byte for byte (kubeadm reuses an existing sa.key); one that is another key of sa.pub is replaced
 * (a rotation step reaching this node); anything else is refused unless `force`. An existing sa.pub
 * listing exactly the same keys is kept as it is.
 */
export function planServiceAccountFiles(options: {
  paths: { privateKey: string; publicKey: string };
  files: ServiceAccountFiles;
  cluster: string;
  force: boolean;
  modes: ServiceAccountFileModes;
}): PlannedFile[] {
  const { paths, files } = options;
  const existing = existingServiceAccountKey(paths.privateKey, files.privateKey.publicKeySpki, files.publicKeysSpki);
  if (existing === "other" && !options.force) throw foreignKeyRefusal(paths.privateKey, options.cluster, "to replace it, nothing was written");
  const keyContent = existing === "signing" ? (readIfExists(paths.privateKey) ?? files.privateKeyPem) : files.privateKeyPem;
  const currentPublic = readIfExists(paths.publicKey);
  const publicContent = currentPublic !== undefined && listsExactly(currentPublic, files.publicKeysSpki) ? currentPublic : files.publicKeyPem;
  return [
    { path: paths.privateKey, content: Buffer.from(keyContent), mode: options.modes.privateKey },
    { path: paths.publicKey, content: Buffer.from(publicContent), mode: options.modes.publicKey },
  ];
}

/** Whether sa.pub text lists exactly these keys (in any order). */
function listsExactly(text: string, keys: readonly Uint8Array[]): boolean {
  let listed: Uint8Array[];
  try {
    listed = parsePublicKeysPem(text, "sa.pub");
  } catch {
    return false;
  }
  return listed.length === keys.length && listed.every((a) => keys.some((b) => samePublicKey(a, b))) && keys.every((a) => listed.some((b) => samePublicKey(a, b)));
}

import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { SignatureAlgorithm } from "../../../core/crypto/algorithms.js";
import { x509 } from "../../../core/pki/index.js";
import { fileProblem, reasonOf } from "./file-problems.js";

// The private keys of a kubeadm tree: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, as
// client-go's keyutil writes them (reference/kubernetes.md §1.1). PKCS#8 is read too.

/** A loaded private key and the public key a CSR or certificate must carry to match it. */
export interface PrivateKeyFile {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo of the public half. */
  readonly publicKeySpki: Uint8Array;
  /** kubeadm's spelling: RSA-2048, ECDSA-P256… */
  readonly algorithm: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);
const LABELS: Record<string, "pkcs1" | "sec1" | "pkcs8"> = { "RSA PRIVATE KEY": "pkcs1", "EC PRIVATE KEY": "sec1", "PRIVATE KEY": "pkcs8" };
const CURVES: Record<string, string> = { prime256v1: "ECDSA-P256", secp384r1: "ECDSA-P384", secp521r1: "ECDSA-P521" };

/**
 * Loads a private key PEM; `file` names it in errors. kubeadm loads only RSA and ECDSA keys
 * ("neither in RSA nor ECDSA format"), so anything else is refused here already.
 */
export function parsePrivateKeyPem(pem: string, file: string): PrivateKeyFile {
  let blocks: x509.PemBlock[];
  try {
    blocks = x509.pemDecodeAll(pem, "key");
  } catch (error) {
    throw fileProblem(file, `not a PEM private key (${reasonOf(error)})`);
  }
  // `openssl ecparam -genkey` writes an "EC PARAMETERS" block before the key: harmless.
  const keys = blocks.filter((b) => b.label !== "EC PARAMETERS");
  const [block] = keys;
  if (block === undefined || keys.length !== 1) throw fileProblem(file, `expected one private key PEM block, found ${keys.length}`);
  if (block.label === "ENCRYPTED PRIVATE KEY") throw fileProblem(file, "the private key is encrypted; kubeadm needs it unencrypted");
  const type = LABELS[block.label];
  if (type === undefined) throw fileProblem(file, `PEM block "${block.label}" is not a private key (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(block.der), format: "der", type });
  } catch (error) {
    throw fileProblem(file, `the ${block.label} cannot be parsed (${reasonOf(error)})`);
  }
  return describeKey(key, file);
}

/** Wraps a KeyObject (e.g. a freshly generated one) as a PrivateKeyFile. */
export function describeKey(key: KeyObject, file: string): PrivateKeyFile {
  const details = key.asymmetricKeyDetails ?? {};
  let algorithm: string;
  if (key.asymmetricKeyType === "rsa") algorithm = `RSA-${details.modulusLength ?? 0}`;
  else if (key.asymmetricKeyType === "ec") algorithm = CURVES[details.namedCurve ?? ""] ?? `ECDSA-${details.namedCurve ?? "?"}`;
  else throw fileProblem(file, `${key.asymmetricKeyType ?? "unknown"} keys cannot be used: kubeadm loads only RSA and ECDSA keys`);
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  return { key, publicKeySpki: new Uint8Array(spki.buffer, spki.byteOffset, spki.byteLength), algorithm };
}

/** The key as kubeadm writes it: PKCS#1 for RSA, SEC1 for ECDSA. */
export function encodePrivateKeyPem(key: KeyObject): string {
  return key.export({ type: key.asymmetricKeyType === "rsa" ? "pkcs1" : "sec1", format: "pem" }).toString();
}

/** The public key as kubeadm writes `sa.pub`: PKIX `PUBLIC KEY`. */
export function encodePublicKeyPem(key: PrivateKeyFile): string {
  return x509.pemEncode("PUBLIC KEY", key.publicKeySpki);
}

/** A new key of the same algorithm (renew --new-keys); RSA generation runs off the main thread. */
export async function generateSameAlgorithm(key: PrivateKeyFile): Promise<KeyObject> {
  const details = key.key.asymmetricKeyDetails ?? {};
  if (key.key.asymmetricKeyType === "rsa") return (await generateKeyPairAsync("rsa", { modulusLength: details.modulusLength ?? 2048 })).privateKey;
  return (await generateKeyPairAsync("ec", { namedCurve: details.namedCurve ?? "prime256v1" })).privateKey;
}

/** The signature Go's crypto/x509 uses for a CSR with this key (RSA → SHA-256, P-256 → SHA-256, P-384 → SHA-384). */
export function csrSignatureFor(key: PrivateKeyFile): { algorithm: SignatureAlgorithm; hash: "sha256" | "sha384" } {
  if (key.algorithm === "ECDSA-P384") return { algorithm: "ECDSA-SHA384", hash: "sha384" };
  return { algorithm: key.key.asymmetricKeyType === "rsa" ? "RSA-PKCS1-SHA256" : "ECDSA-SHA256", hash: "sha256" };
}

/** Whether two DER SubjectPublicKeyInfos are the same key. */
export function samePublicKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

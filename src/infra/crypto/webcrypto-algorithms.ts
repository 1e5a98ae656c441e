import type { webcrypto } from "node:crypto";
import type { KeyAlgorithm, SignatureAlgorithm } from "../../core/crypto/algorithms.js";

/** The part of a WebCrypto `Crypto` the soft backend uses; node's webcrypto and @peculiar/webcrypto both fit. */
export interface WebCryptoProvider {
  readonly subtle: webcrypto.SubtleCrypto;
}

/**
 * How a provider spells Ed25519. WebCrypto's Secure Curves draft (and Node ≥ 18.4) use
 * `{ name: "Ed25519" }`; older providers used the WebCrypto-core `{ name: "EdDSA", namedCurve }`.
 * @peculiar/webcrypto 1.7 accepts both; the backend tries them in this order and keeps the first that works.
 */
export const ED25519_SPELLINGS: readonly Ed25519Params[] = [
  { name: "Ed25519" },
  { name: "EdDSA", namedCurve: "Ed25519" },
];

/** One spelling of Ed25519 (see ED25519_SPELLINGS). */
export type Ed25519Params = webcrypto.Algorithm | webcrypto.EcKeyImportParams;

/** RFC 8017 / RFC 4055: PSS over SHA-256 with a salt as long as the hash, the common X.509 choice. */
const PSS_SALT_BYTES = 32;

type ImportParams = webcrypto.Algorithm | webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
type SignParams = webcrypto.Algorithm | webcrypto.EcdsaParams | webcrypto.RsaPssParams;

/** A WebCrypto key is bound to its scheme (RSA: padding and hash), so this is per signature algorithm. */
export function importParams(key: KeyAlgorithm, signature: SignatureAlgorithm, ed25519: Ed25519Params): ImportParams {
  switch (key) {
    case "ECDSA-P256":
      return { name: "ECDSA", namedCurve: "P-256" };
    case "ECDSA-P384":
      return { name: "ECDSA", namedCurve: "P-384" };
    case "Ed25519":
      return ed25519;
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return rsaParams(signature);
  }
}

/** Parameters of `subtle.sign` for each signature algorithm. */
export function signParams(signature: SignatureAlgorithm, ed25519: Ed25519Params): SignParams {
  switch (signature) {
    case "ECDSA-SHA256":
      return { name: "ECDSA", hash: "SHA-256" };
    case "ECDSA-SHA384":
      return { name: "ECDSA", hash: "SHA-384" };
    case "RSA-PKCS1-SHA256":
    case "RSA-PKCS1-SHA384":
    case "RSA-PKCS1-SHA512":
      return { name: "RSASSA-PKCS1-v1_5" };
    case "RSA-PSS-SHA256":
      return { name: "RSA-PSS", saltLength: PSS_SALT_BYTES };
    case "Ed25519":
      return ed25519;
  }
}

/** Parameters of `subtle.generateKey` (RSA keys are generated as PKCS#1 v1.5; the PKCS#8 is rsaEncryption either way). */
export function generateParams(key: KeyAlgorithm, ed25519: Ed25519Params): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | webcrypto.Algorithm {
  switch (key) {
    case "ECDSA-P256":
      return { name: "ECDSA", namedCurve: "P-256" };
    case "ECDSA-P384":
      return { name: "ECDSA", namedCurve: "P-384" };
    case "Ed25519":
      return ed25519;
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: Number(key.slice(4)),
        publicExponent: new Uint8Array([0x01, 0x00, 0x01]), // 65537
        hash: "SHA-256",
      };
  }
}

/** RSA import parameters: padding and hash are fixed at import in WebCrypto. */
function rsaParams(signature: SignatureAlgorithm): webcrypto.RsaHashedImportParams {
  switch (signature) {
    case "RSA-PKCS1-SHA384":
      return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" };
    case "RSA-PKCS1-SHA512":
      return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" };
    case "RSA-PSS-SHA256":
      return { name: "RSA-PSS", hash: "SHA-256" };
    case "RSA-PKCS1-SHA256":
    case "ECDSA-SHA256": // not reached: callers check signatureFitsKey first
    case "ECDSA-SHA384":
    case "Ed25519":
      return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  }
}

/** Whether a signature algorithm returns P1363 r ‖ s that must become DER. */
export function isEcdsa(signature: SignatureAlgorithm): boolean {
  return signature === "ECDSA-SHA256" || signature === "ECDSA-SHA384";
}

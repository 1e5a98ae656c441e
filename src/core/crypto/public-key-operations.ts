import { constants, createPublicKey, publicEncrypt, verify, type KeyObject } from "node:crypto";
import { invalidInput } from "../shared/domain-error.js";
import type { SignatureAlgorithm } from "./algorithms.js";

/** Imports a DER SubjectPublicKeyInfo (public keys are not secret: no backend needed). */
function publicKey(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
}

const HASH: Readonly<Record<SignatureAlgorithm, string | null>> = {
  "ECDSA-SHA256": "sha256",
  "ECDSA-SHA384": "sha384",
  "RSA-PKCS1-SHA256": "sha256",
  "RSA-PKCS1-SHA384": "sha384",
  "RSA-PKCS1-SHA512": "sha512",
  "RSA-PSS-SHA256": "sha256",
  Ed25519: null,
};

/**
 * Verifies a signature with a public key, in the encodings the backend signs with (ECDSA DER,
 * RSA-PSS with a 32-byte salt). False for a wrong signature; `invalid_input` for a malformed one.
 */
export function verifyWithPublicKey(spki: Uint8Array, algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): boolean {
  const key = publicKey(spki);
  try {
    return verify(
      HASH[algorithm],
      data,
      {
        key,
        ...(algorithm.startsWith("ECDSA") ? { dsaEncoding: "der" as const } : {}),
        ...(algorithm === "RSA-PSS-SHA256" ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : {}),
      },
      signature,
    );
  } catch {
    throw invalidInput("signature", "not a signature of this key type");
  }
}

/** RSA-OAEP (SHA-256, MGF1-SHA-256; RFC 8017 §7.1) encryption with a public key. */
export function encryptOaepSha256(spki: Uint8Array, plaintext: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(publicEncrypt({ key: publicKey(spki), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext));
  } catch {
    throw invalidInput("plaintext", "too long for RSA-OAEP with this key");
  }
}

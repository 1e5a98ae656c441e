import { constants, verify as nodeVerify } from "node:crypto";
import type { SignatureAlgorithm } from "../../core/crypto/algorithms.js";

/**
 * Verifies a signature in the form the backend returns (DER for ECDSA, PSS with a 32-byte salt)
 * against a DER SubjectPublicKeyInfo, with node:crypto: an independent check of the provider.
 */
export function verifySignature(signature: SignatureAlgorithm, spki: Uint8Array, data: Uint8Array, signed: Uint8Array): boolean {
  const key = { key: Buffer.from(spki), format: "der" as const, type: "spki" as const };
  switch (signature) {
    case "ECDSA-SHA256":
      return nodeVerify("sha256", data, { ...key, dsaEncoding: "der" }, signed);
    case "ECDSA-SHA384":
      return nodeVerify("sha384", data, { ...key, dsaEncoding: "der" }, signed);
    case "RSA-PKCS1-SHA256":
      return nodeVerify("sha256", data, key, signed);
    case "RSA-PKCS1-SHA384":
      return nodeVerify("sha384", data, key, signed);
    case "RSA-PKCS1-SHA512":
      return nodeVerify("sha512", data, key, signed);
    case "RSA-PSS-SHA256":
      return nodeVerify("sha256", data, { ...key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signed);
    case "Ed25519":
      return nodeVerify(null, data, key, signed);
  }
}

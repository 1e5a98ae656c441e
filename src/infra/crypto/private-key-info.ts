import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import { DomainError, invalidInput } from "../../core/shared/domain-error.js";

/** What a DER PKCS#8 private key turned out to be. */
export interface PrivateKeyInfo {
  readonly algorithm: KeyAlgorithm;
  /** Re-encoded PKCS#8 (no attributes, canonical DER), the form kpki seals. */
  readonly pkcs8: Uint8Array;
  /** DER SubjectPublicKeyInfo of the matching public key. */
  readonly publicKeySpki: Uint8Array;
}

/**
 * Parses a DER PKCS#8 private key with node:crypto and maps it onto kpki's closed algorithm list
 * (WebCrypto cannot tell what a PKCS#8 holds without being told, nor derive the public key).
 * Malformed input → `invalid_input` on "privateKey"; a well-formed key of another kind → `unsupported`.
 */
export function inspectPrivateKey(pkcs8Der: Uint8Array): PrivateKeyInfo {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pkcs8Der), format: "der", type: "pkcs8" });
  } catch {
    // The parser's message may quote structure offsets; a fixed reason is enough and leaks nothing.
    throw invalidInput("privateKey", "not an unencrypted DER PKCS#8 private key");
  }
  const algorithm = keyAlgorithmOf(key);
  return {
    algorithm,
    pkcs8: key.export({ format: "der", type: "pkcs8" }),
    publicKeySpki: createPublicKey(key).export({ format: "der", type: "spki" }),
  };
}

/** kpki's name for a node:crypto key object, or `unsupported`. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case "rsa": {
      const bits = details.modulusLength;
      if (bits === 2048 || bits === 3072 || bits === 4096) return `RSA-${bits}`;
      throw new DomainError("unsupported", `RSA keys of ${bits ?? "unknown"} bits are not supported (use 2048, 3072 or 4096)`);
    }
    case "ec": {
      if (details.namedCurve === "prime256v1") return "ECDSA-P256";
      if (details.namedCurve === "secp384r1") return "ECDSA-P384";
      throw new DomainError("unsupported", `EC curve ${details.namedCurve ?? "unknown"} is not supported (use P-256 or P-384)`);
    }
    case "ed25519":
      return "Ed25519";
    case "rsa-pss":
      throw new DomainError(
        "unsupported",
        "RSASSA-PSS-restricted keys (OID id-RSASSA-PSS) are not supported; convert the key to rsaEncryption PKCS#8",
      );
    default:
      throw new DomainError("unsupported", `private keys of type ${type ?? "unknown"} are not supported`);
  }
}

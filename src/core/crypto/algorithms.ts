/**
 * The closed list of asymmetric key algorithms kpki creates, imports and signs with.
 * Names follow kubeadm's `encryptionAlgorithm` spelling (RSA-2048, ECDSA-P256…) so cluster
 * settings map one to one.
 */
export const KEY_ALGORITHMS = ["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096", "Ed25519"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Signature schemes the backend can produce, in the encodings X.509 and KMIP expect. */
export const SIGNATURE_ALGORITHMS = [
  "ECDSA-SHA256",
  "ECDSA-SHA384",
  "RSA-PKCS1-SHA256",
  "RSA-PKCS1-SHA384",
  "RSA-PKCS1-SHA512",
  "RSA-PSS-SHA256",
  "Ed25519",
] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export function isKeyAlgorithm(value: string): value is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * The signature a CA with this key uses for certificates and CRLs: the same choice Go's
 * crypto/x509 makes (RSA → SHA-256, P-256 → SHA-256, P-384 → SHA-384), which is what
 * Kubernetes components expect (reference/kubernetes.md §1.1).
 */
export function defaultSignatureAlgorithm(key: KeyAlgorithm): SignatureAlgorithm {
  switch (key) {
    case "ECDSA-P256":
      return "ECDSA-SHA256";
    case "ECDSA-P384":
      return "ECDSA-SHA384";
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return "RSA-PKCS1-SHA256";
    case "Ed25519":
      return "Ed25519";
  }
}

/** Whether `signature` can be produced by a key of type `key`. */
export function signatureFitsKey(signature: SignatureAlgorithm, key: KeyAlgorithm): boolean {
  if (signature === "Ed25519") return key === "Ed25519";
  if (signature.startsWith("ECDSA")) return key.startsWith("ECDSA");
  return key.startsWith("RSA");
}

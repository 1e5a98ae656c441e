/**
 * Secret (symmetric) material the crypto backend holds: AES keys, HMAC keys, and opaque secret
 * bytes (KMIP Secret Data and Opaque Objects), which are only sealed and returned, never used.
 */
export const SECRET_ALGORITHMS = ["AES", "HMAC-SHA256", "HMAC-SHA384", "HMAC-SHA512", "DATA"] as const;
export type SecretAlgorithm = (typeof SECRET_ALGORITHMS)[number];

/** A symmetric cipher call. The caller chooses the IV (from its RandomSource) and owns the framing. */
export type CipherParameters =
  /** AES-GCM (NIST SP 800-38D): 12-byte IV, 16-byte tag appended by nobody — returned separately. */
  | { readonly mode: "AES-GCM"; readonly iv: Uint8Array; readonly aad?: Uint8Array; readonly tagLengthBytes?: 12 | 13 | 14 | 15 | 16 }
  /** AES-CBC with PKCS#7 padding (RFC 5652 §6.3), 16-byte IV. */
  | { readonly mode: "AES-CBC"; readonly iv: Uint8Array }
  /** RSA-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1), private-key side (decrypt). */
  | { readonly mode: "RSA-OAEP-SHA256" };

/** What an encryption produced. */
export interface CipherOutput {
  readonly ciphertext: Uint8Array;
  /** AES-GCM authentication tag. */
  readonly tag?: Uint8Array;
}

import type { KeyAlgorithm } from "./algorithms.js";
import type { SecretAlgorithm } from "./secret-algorithms.js";

/**
 * An opaque reference to a private key held by a `CryptoBackend`. Never the key itself: for the
 * software backend `ref` is the key sealed under the master key (AES-256-GCM); for a hardware
 * backend it would be a token object reference. Whoever stores a handle stores only these bytes.
 */
export interface KeyHandle {
  /** Which backend made it ("soft" for the WebCrypto backend). */
  readonly backend: string;
  /** An asymmetric key algorithm, or a secret algorithm for symmetric keys and sealed secret data. */
  readonly algorithm: KeyAlgorithm | SecretAlgorithm;
  /** Opaque backend data; safe to store in the database. */
  readonly ref: Uint8Array;
  /** Id of the master (wrapping) key `ref` is sealed under, so rotation knows what to re-seal. */
  readonly wrappingKeyId: string;
}

/** A freshly generated or imported key: the handle to keep and the public half to publish. */
export interface KeyPairHandle {
  readonly handle: KeyHandle;
  /** DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
  readonly publicKeySpki: Uint8Array;
}

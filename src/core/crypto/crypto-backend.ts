import type { KeyAlgorithm, SignatureAlgorithm } from "./algorithms.js";
import type { KeyHandle, KeyPairHandle } from "./key-handle.js";
import type { CipherOutput, CipherParameters, SecretAlgorithm } from "./secret-algorithms.js";

/**
 * The port every private-key operation goes through (CA signing now, managed keys later).
 * Key material never leaves it unwrapped (house rule 9), except through the explicit
 * `exportPrivateKey` used for moving an offline root to cold storage.
 */
export interface CryptoBackend {
  /** Backend name recorded in each handle. */
  readonly name: string;
  /** Generates a new key pair and returns its sealed handle. */
  generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPairHandle>;
  /** Takes ownership of an existing private key (DER PKCS#8), e.g. an imported CA key. */
  importPrivateKey(pkcs8Der: Uint8Array): Promise<KeyPairHandle>;
  /**
   * Signs `data` (the backend hashes it). ECDSA signatures are returned DER-encoded
   * (ECDSA-Sig-Value, RFC 3279 §2.2.3), the form X.509, CRLs, OCSP and KMIP carry.
   */
  sign(handle: KeyHandle, algorithm: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array>;
  /** Re-seals a handle under the backend's current master key (master-key rotation). */
  reseal(handle: KeyHandle): Promise<KeyHandle>;
  /** Whether the handle is sealed under the current master key. */
  isCurrent(handle: KeyHandle): boolean;
  /** DER PKCS#8 of the private key, for an operator-initiated export only. */
  exportPrivateKey(handle: KeyHandle): Promise<Uint8Array>;

  /** A new secret: an AES key of 128/192/256 bits, an HMAC key (default: the hash's block size), or random DATA. */
  generateSecret(algorithm: SecretAlgorithm, lengthBits: number): Promise<KeyHandle>;
  /** Takes ownership of existing secret bytes (KMIP Register). */
  importSecret(algorithm: SecretAlgorithm, raw: Uint8Array): Promise<KeyHandle>;
  /** The raw secret, for an authorized Get of an extractable object only. */
  exportSecret(handle: KeyHandle): Promise<Uint8Array>;
  /** Encrypts with an AES key. */
  encrypt(handle: KeyHandle, parameters: CipherParameters, plaintext: Uint8Array): Promise<CipherOutput>;
  /** Decrypts with an AES key (`tag` for GCM) or an RSA private key (OAEP). Failure: `invalid_input` "decryption failed". */
  decrypt(handle: KeyHandle, parameters: CipherParameters, ciphertext: Uint8Array, tag?: Uint8Array): Promise<Uint8Array>;
  /** HMAC with the key's hash. */
  mac(handle: KeyHandle, data: Uint8Array): Promise<Uint8Array>;
}

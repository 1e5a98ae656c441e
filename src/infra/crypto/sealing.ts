import { createCipheriv, createDecipheriv } from "node:crypto";
import { DomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import type { MasterKey } from "./master-key.js";

/** Format byte of a sealed blob: `0x01 ‖ iv(12) ‖ ciphertext ‖ tag(16)`, AES-256-GCM. */
export const SEALED_FORMAT_V1 = 0x01;
const IV_BYTES = 12; // NIST SP 800-38D §8.2.2: random 96-bit IVs
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;

/**
 * Associated data that binds a blob to its purpose, e.g. "kpki:key-material:v1:ECDSA-P256":
 * a blob sealed for one purpose cannot be opened as another, even under the same master key.
 */
export type SealingAad = string | Uint8Array;

/**
 * Encrypts and authenticates `plaintext` under `key` with a fresh random IV.
 * With random 96-bit IVs one key stays within NIST's 2^32-message bound for any realistic
 * number of stored keys; rotation (reseal) resets the count anyway.
 */
export function seal(key: MasterKey, plaintext: Uint8Array, aad: SealingAad, random: RandomSource): Uint8Array {
  const iv = random.bytes(IV_BYTES);
  if (iv.length !== IV_BYTES) throw new DomainError("internal", `random source returned ${iv.length} bytes for a ${IV_BYTES}-byte IV`);
  const cipher = createCipheriv("aes-256-gcm", key.cipherKey(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadBytes(aad));
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const blob = new Uint8Array(HEADER_BYTES + head.length + tail.length + TAG_BYTES);
  blob[0] = SEALED_FORMAT_V1;
  blob.set(iv, 1);
  blob.set(head, HEADER_BYTES);
  blob.set(tail, HEADER_BYTES + head.length);
  blob.set(cipher.getAuthTag(), blob.length - TAG_BYTES);
  return blob;
}

/**
 * Decrypts a blob made by `seal` with the same key and AAD. Any mismatch (other key, changed
 * byte, other AAD, unknown format) gives the same one-line error naming only the key id, so
 * the error tells an operator which key to look for and tells an attacker nothing.
 */
export function openSealed(key: MasterKey, blob: Uint8Array, aad: SealingAad): Uint8Array {
  if (blob.length < HEADER_BYTES + TAG_BYTES || blob[0] !== SEALED_FORMAT_V1) throw cannotOpen(key);
  const iv = blob.subarray(1, HEADER_BYTES);
  const ciphertext = blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.cipherKey(), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aadBytes(aad));
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    const tail = decipher.final(); // throws when the tag does not verify
    const plaintext = new Uint8Array(head.length + tail.length);
    plaintext.set(head);
    plaintext.set(tail, head.length);
    head.fill(0);
    return plaintext;
  } catch {
    throw cannotOpen(key);
  }
}

function cannotOpen(key: MasterKey): DomainError {
  return new DomainError("internal", `sealed blob cannot be opened with master key ${key.id} (wrong key, wrong purpose or damaged data)`);
}

function aadBytes(aad: SealingAad): Uint8Array {
  return typeof aad === "string" ? Buffer.from(aad, "utf8") : aad;
}

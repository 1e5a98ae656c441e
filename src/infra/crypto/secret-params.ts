import type { webcrypto } from "node:crypto";
import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import { SECRET_ALGORITHMS, type CipherParameters, type SecretAlgorithm } from "../../core/crypto/secret-algorithms.js";
import { DomainError } from "../../core/shared/domain-error.js";

/** KMIP Result Reason (KMIP 1.4 §11.1) for a cipher request whose parameters do not fit. */
export const BAD_CRYPTOGRAPHIC_PARAMETERS = "Bad Cryptographic Parameters";
/** KMIP Result Reason for a decryption that did not authenticate or unpad. */
export const CRYPTOGRAPHIC_FAILURE = "Cryptographic Failure";
/** The one message of every failed decryption: which part was wrong stays unsaid (no padding or tag oracle). */
export const DECRYPTION_FAILED = "decryption failed: the ciphertext, tag, IV or additional data does not match";

export function isSecretAlgorithm(value: string): value is SecretAlgorithm {
  return (SECRET_ALGORITHMS as readonly string[]).includes(value);
}

/** `invalid_input` on `field` with the KMIP reason "Bad Cryptographic Parameters". */
export function badParameter(field: string, message: string): DomainError {
  return new DomainError("invalid_input", `${field}: ${message}`, { field, reason: BAD_CRYPTOGRAPHIC_PARAMETERS });
}

/** The error of every failed decryption. No cause is attached: the provider's message could tell padding from tag. */
export function decryptionFailed(): DomainError {
  return new DomainError("invalid_input", DECRYPTION_FAILED, { field: "ciphertext", reason: CRYPTOGRAPHIC_FAILURE });
}

const AES_KEY_BYTES: readonly number[] = [16, 24, 32];
const HMAC_MIN_BYTES = 16; // NIST SP 800-107 §5.3.4: at least the security strength; 128 bits is the floor we accept
const HMAC_MAX_BYTES = 128; // two SHA-512 blocks; longer keys are hashed by HMAC anyway (RFC 2104 §2)
const GENERATED_DATA_MAX_BYTES = 8192; // 65,536 bits
const IMPORTED_DATA_MAX_BYTES = 65536; // 64 KiB

/** Why `generateSecret(algorithm, lengthBits)` cannot make that length, or undefined when it can. */
export function generatedLengthProblem(algorithm: SecretAlgorithm, lengthBits: number): string | undefined {
  const bytes = Number.isSafeInteger(lengthBits) && lengthBits % 8 === 0 ? lengthBits / 8 : -1;
  switch (algorithm) {
    case "AES":
      return AES_KEY_BYTES.includes(bytes) ? undefined : `an AES key is 128, 192 or 256 bits, got ${lengthBits}`;
    case "HMAC-SHA256":
    case "HMAC-SHA384":
    case "HMAC-SHA512":
      return inRange(bytes, HMAC_MIN_BYTES, HMAC_MAX_BYTES) ? undefined : `an HMAC key is 128 to 1024 bits in whole bytes, got ${lengthBits}`;
    case "DATA":
      return inRange(bytes, 1, GENERATED_DATA_MAX_BYTES) ? undefined : `generated secret data is 8 to 65536 bits in whole bytes, got ${lengthBits}`;
  }
}

/** Why `importSecret(algorithm, raw)` refuses `byteLength` bytes, or undefined when it takes them. */
export function importedLengthProblem(algorithm: SecretAlgorithm, byteLength: number): string | undefined {
  switch (algorithm) {
    case "AES":
      return AES_KEY_BYTES.includes(byteLength) ? undefined : `an AES key is 16, 24 or 32 bytes, got ${byteLength}`;
    case "HMAC-SHA256":
    case "HMAC-SHA384":
    case "HMAC-SHA512":
      return inRange(byteLength, HMAC_MIN_BYTES, HMAC_MAX_BYTES) ? undefined : `an HMAC key is 16 to 128 bytes, got ${byteLength}`;
    case "DATA":
      return inRange(byteLength, 1, IMPORTED_DATA_MAX_BYTES) ? undefined : `secret data is 1 to 65536 bytes, got ${byteLength}`;
  }
}

function inRange(value: number, min: number, max: number): boolean {
  return value >= min && value <= max;
}

/** What a cached WebCrypto key is imported for: WebCrypto binds a key to one scheme. */
export type SecretUsage = "AES-GCM" | "AES-CBC" | "HMAC" | "RSA-OAEP-SHA256";

/** How to import the unsealed bytes of a handle for `usage`. */
export interface KeyImport {
  readonly format: "raw" | "pkcs8";
  readonly params: webcrypto.AlgorithmIdentifier | webcrypto.HmacImportParams | webcrypto.RsaHashedImportParams;
  readonly usages: webcrypto.KeyUsage[];
}

/** Import parameters; the caller has already checked that the handle's algorithm fits `usage`. */
export function keyImport(usage: SecretUsage, algorithm: SecretAlgorithm | KeyAlgorithm): KeyImport {
  switch (usage) {
    case "AES-GCM":
    case "AES-CBC":
      return { format: "raw", params: { name: usage }, usages: ["encrypt", "decrypt"] };
    case "HMAC":
      return { format: "raw", params: { name: "HMAC", hash: hmacHash(algorithm) }, usages: ["sign"] };
    case "RSA-OAEP-SHA256":
      return { format: "pkcs8", params: { name: "RSA-OAEP", hash: "SHA-256" }, usages: ["decrypt"] };
  }
}

function hmacHash(algorithm: SecretAlgorithm | KeyAlgorithm): string {
  switch (algorithm) {
    case "HMAC-SHA384":
      return "SHA-384";
    case "HMAC-SHA512":
      return "SHA-512";
    default:
      return "SHA-256";
  }
}

export function isHmac(algorithm: string): boolean {
  return algorithm === "HMAC-SHA256" || algorithm === "HMAC-SHA384" || algorithm === "HMAC-SHA512";
}

export function isRsa(algorithm: string): boolean {
  return algorithm === "RSA-2048" || algorithm === "RSA-3072" || algorithm === "RSA-4096";
}

/** A checked AES call: the cached key's usage, WebCrypto's parameters and, for GCM, the tag length. */
export interface AesCall {
  readonly usage: "AES-GCM" | "AES-CBC";
  readonly params: webcrypto.AesGcmParams | webcrypto.AesCbcParams;
  /** GCM only: bytes of tag at the end of WebCrypto's output. */
  readonly tagBytes: number;
}

const GCM_IV_BYTES = 12; // NIST SP 800-38D §5.2.1.1: 96-bit IVs; other lengths go through GHASH and are refused
const CBC_IV_BYTES = 16;
const GCM_TAG_DEFAULT_BYTES = 16;
const GCM_TAG_MIN_BYTES = 12; // SP 800-38D §5.2.1.2 allows 96…128 bits for general use

/**
 * Checks AES parameters against the key (`keyAlgorithm`) and, for decryption, the tag; returns
 * WebCrypto's parameters. Transports decode untrusted input, so every field is checked at run time.
 */
export function aesCall(parameters: CipherParameters, keyAlgorithm: string, tag: Uint8Array | undefined, decrypting: boolean): AesCall {
  const mode = modeOf(parameters);
  if (mode !== "AES-GCM" && mode !== "AES-CBC") {
    throw badParameter("mode", `unknown cipher mode ${String(mode)}; expected AES-GCM, AES-CBC or RSA-OAEP-SHA256`);
  }
  if (keyAlgorithm !== "AES") throw badParameter("mode", `${mode} needs an AES key, not a ${keyAlgorithm} key`);
  const p = parameters as Partial<Record<"iv" | "aad" | "tagLengthBytes", unknown>>;
  const ivBytes = mode === "AES-GCM" ? GCM_IV_BYTES : CBC_IV_BYTES;
  if (!(p.iv instanceof Uint8Array) || p.iv.length !== ivBytes) {
    const got = p.iv instanceof Uint8Array ? `${p.iv.length} bytes` : "none";
    throw badParameter("iv", `${mode} takes a ${ivBytes}-byte IV, got ${got}`);
  }
  if (mode === "AES-CBC") {
    if (tag !== undefined) throw badParameter("tag", "AES-CBC has no authentication tag");
    return { usage: mode, params: { name: mode, iv: p.iv }, tagBytes: 0 };
  }
  if (p.aad !== undefined && !(p.aad instanceof Uint8Array)) throw badParameter("aad", "additional authenticated data must be bytes");
  const tagBytes = gcmTagBytes(p.tagLengthBytes, tag, decrypting);
  const params: webcrypto.AesGcmParams = { name: mode, iv: p.iv, tagLength: tagBytes * 8 };
  if (p.aad !== undefined) params.additionalData = p.aad;
  return { usage: mode, params, tagBytes };
}

/** The cipher mode named by untrusted parameters. */
export function modeOf(parameters: CipherParameters): unknown {
  return typeof parameters === "object" && parameters !== null ? (parameters as { mode?: unknown }).mode : undefined;
}

/**
 * GCM tag length: `tagLengthBytes` when given (12…16), else 16, on encryption and on decryption:
 * the tag's own length is never trusted (a tag cut to 12 bytes would verify with 2^32 less forging
 * work; SP 800-38D Appendix C, Node DEP0182).
 */
function gcmTagBytes(requested: unknown, tag: Uint8Array | undefined, decrypting: boolean): number {
  let wanted: number | undefined;
  if (requested !== undefined) {
    if (typeof requested !== "number" || !Number.isSafeInteger(requested) || !inRange(requested, GCM_TAG_MIN_BYTES, GCM_TAG_DEFAULT_BYTES)) {
      throw badParameter("tagLengthBytes", `an AES-GCM tag is 12 to 16 bytes, got ${typeof requested === "number" ? requested : typeof requested}`);
    }
    wanted = requested;
  }
  if (!decrypting) return wanted ?? GCM_TAG_DEFAULT_BYTES;
  if (!(tag instanceof Uint8Array)) throw badParameter("tag", "AES-GCM decryption needs the authentication tag");
  if (!inRange(tag.length, GCM_TAG_MIN_BYTES, GCM_TAG_DEFAULT_BYTES)) throw badParameter("tag", `an AES-GCM tag is 12 to 16 bytes, got ${tag.length}`);
  const expected = wanted ?? GCM_TAG_DEFAULT_BYTES;
  if (tag.length !== expected) throw badParameter("tag", `the tag is ${tag.length} bytes but tagLengthBytes is ${expected}`);
  return expected;
}

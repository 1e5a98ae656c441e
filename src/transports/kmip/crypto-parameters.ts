import type { CipherMode, CryptographicAlgorithm } from "../../core/kms/index.js";
import type { SignatureAlgorithm } from "../../core/crypto/algorithms.js";
import { invalidField, KmipError, notSupported } from "./kmip-error.js";
import type { StructReader } from "./struct-reader.js";
import { ENUM } from "./ttlv/enumerations.js";
import { TAG } from "./ttlv/tags.js";
import { algorithmOf } from "./vocabulary.js";

// Cryptographic Parameters (KMIP 1.4 §3.6, 2.0 §4.10) → the key service's cipher modes and
// signature algorithms. Anything that would make the operation mean something else than what the
// key service does (another padding, hash, counter layout, salt) is refused, never ignored.

/** The fields of a Cryptographic Parameters structure kpki looks at. */
export interface CryptoParameters {
  readonly blockCipherMode?: number;
  readonly paddingMethod?: number;
  readonly hashingAlgorithm?: number;
  readonly digitalSignatureAlgorithm?: number;
  readonly algorithm?: CryptographicAlgorithm;
  readonly randomIv?: boolean;
  readonly ivLengthBits?: number;
  readonly tagLengthBytes?: number;
  readonly saltLength?: number;
  readonly maskGenerator?: number;
  readonly maskGeneratorHashing?: number;
}

export function readCryptoParameters(payload: StructReader): CryptoParameters | undefined {
  const reader = payload.optionalStruct(TAG.CryptographicParameters, "Cryptographic Parameters");
  if (reader === undefined) return undefined;
  const blockCipherMode = reader.optionalEnumeration(TAG.BlockCipherMode);
  const paddingMethod = reader.optionalEnumeration(TAG.PaddingMethod);
  const hashingAlgorithm = reader.optionalEnumeration(TAG.HashingAlgorithm);
  if (reader.optionalEnumeration(TAG.KeyRoleType) !== undefined) throw notSupported("Key Role Type is not supported");
  const digitalSignatureAlgorithm = reader.optionalEnumeration(TAG.DigitalSignatureAlgorithm);
  const algorithmCode = reader.optionalEnumeration(TAG.CryptographicAlgorithm);
  const randomIv = reader.optionalBoolean(TAG.RandomIv);
  const ivLengthBits = reader.optionalInteger(TAG.IvLength);
  const tagLengthBytes = reader.optionalInteger(TAG.TagLength);
  for (const tag of [TAG.FixedFieldLength, TAG.InvocationFieldLength, TAG.CounterLength, TAG.InitialCounterValue]) {
    if (reader.optionalInteger(tag) !== undefined) throw notSupported("counter and invocation-field IV layouts are not supported");
  }
  const saltLength = reader.optionalInteger(TAG.SaltLength);
  const maskGenerator = reader.optionalEnumeration(TAG.MaskGenerator);
  const maskGeneratorHashing = reader.optionalEnumeration(TAG.MaskGeneratorHashingAlgorithm);
  if (reader.optionalBytes(TAG.PSource) !== undefined) throw notSupported("an OAEP label (P Source) is not supported");
  if (reader.optionalInteger(TAG.TrailerField) !== undefined) throw notSupported("Trailer Field is not supported");
  reader.done();
  const algorithm = algorithmCode === undefined ? undefined : algorithmCode === ENUM.CryptographicAlgorithm.Ecdsa ? "EC" : algorithmOf(algorithmCode);
  return {
    ...(blockCipherMode === undefined ? {} : { blockCipherMode }),
    ...(paddingMethod === undefined ? {} : { paddingMethod }),
    ...(hashingAlgorithm === undefined ? {} : { hashingAlgorithm }),
    ...(digitalSignatureAlgorithm === undefined ? {} : { digitalSignatureAlgorithm }),
    ...(algorithm === undefined ? {} : { algorithm }),
    ...(randomIv === undefined ? {} : { randomIv }),
    ...(ivLengthBits === undefined ? {} : { ivLengthBits }),
    ...(tagLengthBytes === undefined ? {} : { tagLengthBytes }),
    ...(saltLength === undefined ? {} : { saltLength }),
    ...(maskGenerator === undefined ? {} : { maskGenerator }),
    ...(maskGeneratorHashing === undefined ? {} : { maskGeneratorHashing }),
  };
}

const H = ENUM.HashingAlgorithm;
const P = ENUM.PaddingMethod;
const M = ENUM.BlockCipherMode;

const badParameters = (message: string) => new KmipError("BadCryptographicParameters", message);

/** MGF1 with the same SHA-256 as the hash is the only mask generation kpki does (RSA-OAEP, RSA-PSS). */
function checkMgf(params: CryptoParameters): void {
  if (params.maskGenerator !== undefined && params.maskGenerator !== 1) throw notSupported("only MGF1 mask generation is supported");
  if (params.maskGeneratorHashing !== undefined && params.maskGeneratorHashing !== H.Sha256) throw notSupported("MGF1 uses SHA-256 here");
}

/** The cipher mode for Encrypt/Decrypt, or undefined for the key service's default for the key. */
export function cipherMode(params: CryptoParameters | undefined): { mode?: CipherMode; tagLengthBytes?: 12 | 13 | 14 | 15 | 16 } {
  if (params === undefined) return {};
  if (params.algorithm !== undefined && params.algorithm !== "AES" && params.algorithm !== "RSA") throw notSupported(`encryption with ${params.algorithm} is not supported`);
  let mode: CipherMode | undefined;
  if (params.blockCipherMode === M.Gcm) {
    if (params.paddingMethod !== undefined && params.paddingMethod !== P.None) throw badParameters("AES-GCM takes no padding");
    mode = "AES-GCM";
  } else if (params.blockCipherMode === M.Cbc) {
    // The key service pads CBC with PKCS#7 (KMIP's PKCS5); no padding would need whole blocks.
    if (params.paddingMethod !== undefined && params.paddingMethod !== P.Pkcs5) throw notSupported("AES-CBC is offered with PKCS5 padding only");
    mode = "AES-CBC";
  } else if (params.blockCipherMode !== undefined) {
    throw notSupported(`Block Cipher Mode 0x${params.blockCipherMode.toString(16)} is not supported (GCM, CBC)`);
  } else if (params.paddingMethod === P.Oaep) {
    if (params.hashingAlgorithm !== H.Sha256) throw notSupported("RSA-OAEP is offered with SHA-256 only: give Hashing Algorithm SHA-256");
    checkMgf(params);
    mode = "RSA-OAEP-SHA256";
  } else if (params.paddingMethod !== undefined) {
    throw notSupported(`Padding Method 0x${params.paddingMethod.toString(16)} without a Block Cipher Mode is not supported (OAEP)`);
  }
  if (params.algorithm === "RSA" && mode !== undefined && mode !== "RSA-OAEP-SHA256") throw badParameters(`${mode} is not an RSA scheme`);
  if (params.algorithm === "AES" && mode === "RSA-OAEP-SHA256") throw badParameters("OAEP is not an AES mode");
  if (mode === undefined && params.algorithm === "RSA") throw notSupported("RSA encryption needs Padding Method OAEP with Hashing Algorithm SHA-256");
  const ivBits = mode === "AES-GCM" ? 96 : mode === "AES-CBC" ? 128 : undefined;
  if (params.ivLengthBits !== undefined && params.ivLengthBits !== ivBits) throw badParameters(`IV Length ${params.ivLengthBits} bits does not fit ${mode ?? "the mode"}${ivBits === undefined ? "" : ` (${ivBits})`}`);
  const tag = params.tagLengthBytes;
  if (tag !== undefined && (mode !== "AES-GCM" || tag < 12 || tag > 16)) throw badParameters("Tag Length applies to AES-GCM: 12 to 16 bytes");
  return { ...(mode === undefined ? {} : { mode }), ...(tag === undefined ? {} : { tagLengthBytes: tag as 12 | 13 | 14 | 15 | 16 }) };
}

const RSA_PKCS1: Readonly<Record<number, SignatureAlgorithm>> = { [H.Sha256]: "RSA-PKCS1-SHA256", [H.Sha384]: "RSA-PKCS1-SHA384", [H.Sha512]: "RSA-PKCS1-SHA512" };
const ECDSA: Readonly<Record<number, SignatureAlgorithm>> = { [H.Sha256]: "ECDSA-SHA256", [H.Sha384]: "ECDSA-SHA384" };
const D = ENUM.DigitalSignatureAlgorithm;
const BY_DSA: Readonly<Record<number, SignatureAlgorithm>> = {
  [D.Sha256WithRsaEncryption]: "RSA-PKCS1-SHA256",
  [D.Sha384WithRsaEncryption]: "RSA-PKCS1-SHA384",
  [D.Sha512WithRsaEncryption]: "RSA-PKCS1-SHA512",
  [D.RsassaPss]: "RSA-PSS-SHA256",
  [D.EcdsaWithSha256]: "ECDSA-SHA256",
  [D.EcdsaWithSha384]: "ECDSA-SHA384",
};

/** The signature algorithm for Sign / Signature Verify, or undefined for the key's default. */
export function signatureAlgorithm(params: CryptoParameters | undefined): SignatureAlgorithm | undefined {
  if (params === undefined) return undefined;
  if (params.blockCipherMode !== undefined) throw badParameters("a Block Cipher Mode does not apply to signatures");
  let chosen: SignatureAlgorithm | undefined;
  if (params.digitalSignatureAlgorithm !== undefined) {
    chosen = BY_DSA[params.digitalSignatureAlgorithm];
    if (chosen === undefined) throw notSupported(`Digital Signature Algorithm 0x${params.digitalSignatureAlgorithm.toString(16)} is not supported`);
    if (chosen === "RSA-PSS-SHA256" && params.hashingAlgorithm !== undefined && params.hashingAlgorithm !== H.Sha256) throw notSupported("RSASSA-PSS is offered with SHA-256 only");
  } else if (params.paddingMethod === P.Pss) {
    if (params.hashingAlgorithm !== undefined && params.hashingAlgorithm !== H.Sha256) throw notSupported("RSASSA-PSS is offered with SHA-256 only");
    chosen = "RSA-PSS-SHA256";
  } else if (params.paddingMethod === P.Pkcs1v15) {
    chosen = RSA_PKCS1[params.hashingAlgorithm ?? H.Sha256];
    if (chosen === undefined) throw notSupported("RSA PKCS#1 v1.5 signatures use SHA-256, SHA-384 or SHA-512");
  } else if (params.paddingMethod !== undefined) {
    throw notSupported(`Padding Method 0x${params.paddingMethod.toString(16)} does not apply to signatures (PSS, PKCS1 v1.5)`);
  } else if (params.algorithm === "EC") {
    chosen = params.hashingAlgorithm === undefined ? undefined : ECDSA[params.hashingAlgorithm];
    if (params.hashingAlgorithm !== undefined && chosen === undefined) throw notSupported("ECDSA signatures use SHA-256 (P-256) or SHA-384 (P-384)");
  } else if (params.algorithm === "Ed25519") {
    chosen = "Ed25519";
  } else if (params.hashingAlgorithm !== undefined && params.algorithm === undefined) {
    throw invalidField("a Hashing Algorithm alone does not name a signature scheme: add a Padding Method, a Cryptographic Algorithm or a Digital Signature Algorithm");
  }
  if (chosen?.startsWith("RSA") && params.algorithm !== undefined && params.algorithm !== "RSA") throw badParameters(`${chosen} needs an RSA key`);
  if (chosen === "RSA-PSS-SHA256") {
    checkMgf(params);
    // The key service's PSS salt is as long as the hash (RFC 8017 §9.1 recommendation).
    if (params.saltLength !== undefined && params.saltLength !== 32) throw notSupported("RSASSA-PSS uses a 32-byte salt here");
  }
  return chosen;
}

/** MAC: the algorithm named (if any) must be the key's, which the caller checks. */
export function macAlgorithm(params: CryptoParameters | undefined): CryptographicAlgorithm | undefined {
  if (params === undefined) return undefined;
  if (params.blockCipherMode !== undefined || params.paddingMethod !== undefined) throw notSupported("MAC is HMAC: Block Cipher Mode and Padding Method do not apply");
  if (params.algorithm !== undefined && !params.algorithm.startsWith("HMAC")) throw notSupported(`MAC with ${params.algorithm} is not supported (HMAC-SHA256/384/512)`);
  return params.algorithm;
}

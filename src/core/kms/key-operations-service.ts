import { timingSafeEqual } from "node:crypto";
import type { SignatureAlgorithm } from "../crypto/algorithms.js";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import { encryptOaepSha256, verifyWithPublicKey } from "../crypto/public-key-operations.js";
import type { CipherParameters } from "../crypto/secret-algorithms.js";
import type { Clock } from "../shared/clock.js";
import type { OperationMetrics } from "../shared/operation-metrics.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import { assertAllowed, effectiveState } from "./key-state.js";
import { kmsError } from "./kms-error.js";
import type { ManagedObject } from "./managed-object.js";
import type { ObjectCache } from "./object-cache.js";
import type { UsageRecorder, UsedOperation } from "./usage-recorder.js";
import { assertUsage } from "./usage-rules.js";

/** Largest plaintext / data one operation takes (KMIP Server Limit Exceeded above it). */
export const MAX_DATA_BYTES = 64 * 1024;
/** Largest RNG Retrieve. */
export const MAX_RANDOM_BYTES = 1024;

export type CipherMode = "AES-GCM" | "AES-CBC" | "RSA-OAEP-SHA256";

export interface EncryptRequest {
  readonly uid: string;
  readonly plaintext: Uint8Array;
  /** Default: AES-GCM for AES keys, RSA-OAEP-SHA256 for RSA public keys. */
  readonly mode?: CipherMode;
  /** Caller-chosen IV (KMIP allows it); default: random from the server (safer for GCM). */
  readonly iv?: Uint8Array;
  readonly aad?: Uint8Array;
  readonly tagLengthBytes?: 12 | 13 | 14 | 15 | 16;
}

export interface EncryptResult {
  readonly ciphertext: Uint8Array;
  readonly mode: CipherMode;
  readonly iv?: Uint8Array;
  readonly tag?: Uint8Array;
}

export interface DecryptRequest {
  readonly uid: string;
  readonly ciphertext: Uint8Array;
  readonly mode?: CipherMode;
  readonly iv?: Uint8Array;
  readonly aad?: Uint8Array;
  readonly tag?: Uint8Array;
  /** The tag length Encrypt used (default 16): a tag of any other length is refused, never trusted. */
  readonly tagLengthBytes?: 12 | 13 | 14 | 15 | 16;
}

const SIGNATURE_ALGORITHMS_BY_KEY: Readonly<Record<string, readonly SignatureAlgorithm[]>> = {
  RSA: ["RSA-PSS-SHA256", "RSA-PKCS1-SHA256", "RSA-PKCS1-SHA384", "RSA-PKCS1-SHA512"],
  "EC:P-256": ["ECDSA-SHA256"],
  "EC:P-384": ["ECDSA-SHA384"],
  Ed25519: ["Ed25519"],
};

/**
 * The cryptographic operations on managed objects: Encrypt, Decrypt, Sign, Signature Verify, MAC,
 * MAC Verify and RNG Retrieve. Each checks the object type, the usage mask and the lifecycle state
 * (protecting operations only when Active; processing ones also when Deactivated or Compromised),
 * then runs in the crypto backend. Uses are counted and audited in batches (UsageRecorder).
 */
export class KeyOperationsService {
  constructor(
    private readonly deps: {
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly objects: ObjectCache;
      readonly usage: UsageRecorder;
      /** Counts key uses by key and operation for operators (none when absent). */
      readonly metrics?: OperationMetrics;
    },
  ) {}

  async encrypt(context: RequestContext, request: EncryptRequest): Promise<EncryptResult> {
    assertSize(request.plaintext, "plaintext");
    const object = await this.usable(request.uid, "Encrypt");
    const mode = request.mode ?? (object.algorithm === "RSA" ? "RSA-OAEP-SHA256" : "AES-GCM");
    // In each branch the object type is checked before the usage mask: no mask could grant an
    // operation the key type cannot do, so "Invalid Object Type" is the precise reason.
    let result: EncryptResult;
    if (mode === "RSA-OAEP-SHA256") {
      if (object.objectType !== "PublicKey" || object.algorithm !== "RSA" || object.publicKeySpki === undefined) throw wrongType("RSA-OAEP encryption takes an RSA public key", object);
      assertUsage(object.usageMask, "Encrypt", "Encrypt");
      if (request.iv !== undefined || request.aad !== undefined) throw badParameters("iv/aad do not apply to RSA-OAEP", "iv");
      result = { mode, ciphertext: encryptOaepSha256(object.publicKeySpki, request.plaintext) };
    } else {
      const key = this.aesKey(object);
      assertUsage(object.usageMask, "Encrypt", "Encrypt");
      const iv = request.iv ?? this.deps.random.bytes(mode === "AES-GCM" ? 12 : 16);
      const output = await this.deps.crypto.encrypt(key, cipherParameters(mode, iv, request.aad, request.tagLengthBytes), request.plaintext);
      result = { mode, ciphertext: output.ciphertext, iv, ...(output.tag === undefined ? {} : { tag: output.tag }) };
    }
    this.used(context, object, "Encrypt");
    return result;
  }

  async decrypt(context: RequestContext, request: DecryptRequest): Promise<Uint8Array> {
    // A ciphertext may be one padding block longer than the largest plaintext (AES-CBC).
    assertSize(request.ciphertext, "ciphertext", MAX_DATA_BYTES + 16);
    const object = await this.usable(request.uid, "Decrypt");
    const mode = request.mode ?? (object.algorithm === "RSA" ? "RSA-OAEP-SHA256" : "AES-GCM");
    let plaintext: Uint8Array;
    if (mode === "RSA-OAEP-SHA256") {
      if (object.objectType !== "PrivateKey" || object.algorithm !== "RSA" || object.key === undefined) throw wrongType("RSA-OAEP decryption takes an RSA private key", object);
      assertUsage(object.usageMask, "Decrypt", "Decrypt");
      plaintext = await this.deps.crypto.decrypt(object.key, { mode }, request.ciphertext);
    } else {
      const key = this.aesKey(object);
      assertUsage(object.usageMask, "Decrypt", "Decrypt");
      if (request.iv === undefined) throw kmsError("invalid_input", "Missing Data", "iv: required to decrypt with AES", "iv");
      if (mode === "AES-GCM") assertGcmTag(request.tag, request.tagLengthBytes);
      plaintext = await this.deps.crypto.decrypt(key, cipherParameters(mode, request.iv, request.aad, mode === "AES-GCM" ? (request.tagLengthBytes ?? GCM_TAG_BYTES) : undefined), request.ciphertext, request.tag);
    }
    this.used(context, object, "Decrypt");
    return plaintext;
  }

  async sign(context: RequestContext, request: { uid: string; data: Uint8Array; algorithm?: SignatureAlgorithm }): Promise<{ signature: Uint8Array; algorithm: SignatureAlgorithm }> {
    assertSize(request.data, "data");
    const object = await this.usable(request.uid, "Sign");
    if (object.objectType !== "PrivateKey" || object.key === undefined) throw wrongType("Sign takes a private key", object);
    assertUsage(object.usageMask, "Sign", "Sign");
    const algorithm = signatureAlgorithm(object, request.algorithm);
    const signature = await this.deps.crypto.sign(object.key, algorithm, request.data);
    this.used(context, object, "Sign");
    return { signature, algorithm };
  }

  async verify(context: RequestContext, request: { uid: string; data: Uint8Array; signature: Uint8Array; algorithm?: SignatureAlgorithm }): Promise<boolean> {
    assertSize(request.data, "data");
    const object = await this.usable(request.uid, "SignatureVerify");
    if ((object.objectType !== "PublicKey" && object.objectType !== "PrivateKey") || object.publicKeySpki === undefined) throw wrongType("Signature Verify takes a public (or private) key", object);
    assertUsage(object.usageMask, "Verify", "Signature Verify");
    const valid = verifyWithPublicKey(object.publicKeySpki, signatureAlgorithm(object, request.algorithm), request.data, request.signature);
    this.used(context, object, "SignatureVerify");
    return valid;
  }

  async mac(context: RequestContext, request: { uid: string; data: Uint8Array }): Promise<Uint8Array> {
    assertSize(request.data, "data");
    const object = await this.usable(request.uid, "MAC");
    const key = this.hmacKey(object);
    assertUsage(object.usageMask, "MACGenerate", "MAC");
    const mac = await this.deps.crypto.mac(key, request.data);
    this.used(context, object, "MAC");
    return mac;
  }

  /** MAC Verify, comparing in constant time. */
  async macVerify(context: RequestContext, request: { uid: string; data: Uint8Array; mac: Uint8Array }): Promise<boolean> {
    assertSize(request.data, "data");
    const object = await this.usable(request.uid, "MACVerify");
    const key = this.hmacKey(object);
    assertUsage(object.usageMask, "MACVerify", "MAC Verify");
    const expected = Buffer.from(await this.deps.crypto.mac(key, request.data));
    const given = Buffer.from(request.mac);
    this.used(context, object, "MACVerify");
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** KMIP RNG Retrieve: random bytes from the server's CSPRNG. */
  rng(lengthBytes: number): Uint8Array {
    if (!Number.isInteger(lengthBytes) || lengthBytes < 1 || lengthBytes > MAX_RANDOM_BYTES) throw kmsError("invalid_input", "Invalid Field", `length: 1–${MAX_RANDOM_BYTES} bytes`, "length");
    return this.deps.random.bytes(lengthBytes);
  }

  /** Counts one use: the batched usage record (counters and audit) and the operator metric. */
  private used(context: RequestContext, object: ManagedObject, operation: UsedOperation): void {
    this.deps.usage.record(context.principal.id, object.uid, operation);
    // A named key's versions are one key to an operator; other objects are counted by kind only,
    // since their uids and KMIP Names are unbounded.
    this.deps.metrics?.keyUsed({ key: object.version?.name ?? `object:${object.objectType}`, operation });
  }

  /** The object, if its effective state allows the operation now. */
  private async usable(uid: string, operation: "Encrypt" | "Decrypt" | "Sign" | "SignatureVerify" | "MAC" | "MACVerify"): Promise<ManagedObject> {
    const object = await this.deps.objects.get(uid);
    assertAllowed(operation, effectiveState(object, this.deps.clock.now()));
    return object;
  }

  private aesKey(object: ManagedObject) {
    if (object.objectType !== "SymmetricKey" || object.algorithm !== "AES" || object.key === undefined) throw wrongType("AES modes take an AES symmetric key", object);
    return object.key;
  }

  private hmacKey(object: ManagedObject) {
    if (object.objectType !== "SymmetricKey" || !object.algorithm?.startsWith("HMAC") || object.key === undefined) throw wrongType("MAC takes an HMAC key", object);
    return object.key;
  }
}

function cipherParameters(mode: "AES-GCM" | "AES-CBC", iv: Uint8Array, aad: Uint8Array | undefined, tagLengthBytes: EncryptRequest["tagLengthBytes"]): CipherParameters {
  if (mode === "AES-GCM") {
    if (iv.length !== 12) throw badParameters("AES-GCM needs a 12-byte IV", "iv");
    return { mode, iv, ...(aad === undefined ? {} : { aad }), ...(tagLengthBytes === undefined ? {} : { tagLengthBytes }) };
  }
  if (iv.length !== 16) throw badParameters("AES-CBC needs a 16-byte IV", "iv");
  if (aad !== undefined) throw badParameters("additional data applies to AES-GCM only", "aad");
  return { mode, iv };
}

/** The signature algorithm: the requested one if it fits the key, else the key's default. */
function signatureAlgorithm(object: ManagedObject, requested: SignatureAlgorithm | undefined): SignatureAlgorithm {
  const fitting = SIGNATURE_ALGORITHMS_BY_KEY[object.algorithm === "EC" ? `EC:${object.curve ?? ""}` : (object.algorithm ?? "")] ?? [];
  const algorithm = requested ?? fitting[0];
  if (algorithm === undefined || !fitting.includes(algorithm)) {
    throw badParameters(`${requested ?? "no"} signature algorithm for a ${object.algorithm ?? ""} key (use ${fitting.join(", ")})`, "algorithm");
  }
  return algorithm;
}

/** GCM tag length when Encrypt was not told otherwise (NIST SP 800-38D §5.2.1.2: 128 bits). */
const GCM_TAG_BYTES = 16;

/**
 * The tag must be as long as Encrypt made it: a verifier that takes the tag's own length lets
 * whoever alters a stored ciphertext cut a 16-byte tag to 12 and forge with 2^32 less work
 * (SP 800-38D Appendix C; Node DEP0182).
 */
function assertGcmTag(tag: Uint8Array | undefined, tagLengthBytes: number | undefined): void {
  if (tag === undefined) throw kmsError("invalid_input", "Missing Data", "tag: required to decrypt with AES-GCM", "tag");
  if (tag.length < 12 || tag.length > GCM_TAG_BYTES) throw badParameters(`an AES-GCM tag is 12 to 16 bytes, got ${tag.length}`, "tag");
  const expected = tagLengthBytes ?? GCM_TAG_BYTES;
  if (tag.length !== expected) throw badParameters(`the tag is ${tag.length} bytes but tagLengthBytes is ${expected} (give tagLengthBytes when Encrypt was told a shorter tag)`, "tag");
}

function assertSize(data: Uint8Array, field: string, limit = MAX_DATA_BYTES): void {
  if (data.length > limit) throw kmsError("limit_exceeded", "Server Limit Exceeded", `${field}: at most ${limit} bytes per operation`, field);
}

function wrongType(message: string, object: ManagedObject) {
  return kmsError("invalid_input", "Invalid Object Type", `${message}; object ${object.uid} is a ${object.algorithm ?? ""} ${object.objectType}`.replace("  ", " "), "uid");
}

function badParameters(message: string, field: string) {
  return kmsError("invalid_input", "Bad Cryptographic Parameters", `${field}: ${message}`, field);
}

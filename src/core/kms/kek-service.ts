import { createHash } from "node:crypto";
import { DomainError } from "../shared/domain-error.js";
import type { State } from "./kmip-vocabulary.js";
import { decodeNamedCiphertext } from "./named-key-ciphertext.js";

// The key-encryption key (KEK) behind the Kubernetes KMS v2 plugin: a named key whose versions are
// the KEKs. Shared by both plugin modes (in-process against the database, remote over the REST API)
// so that they produce the same key_ids, ciphertexts and annotations and can replace each other.

/** The limits kube-apiserver enforces on what a KMS v2 plugin returns (k8s envelope/kmsv2: KeyIDMaxSize, encryptedDEKSourceMaxSize, annotationsMaxSize). */
export const KMS_V2_LIMITS = {
  keyIdMaxBytes: 1024,
  ciphertextMaxBytes: 1024,
  annotationsMaxBytes: 32 * 1024,
  /**
   * The largest plaintext this plugin wraps. kube-apiserver sends a 32-byte seed; 512 bytes keep the
   * wrapped form (`kpki:v1:<name ≤ 63>:<version>:<base64url(12 + n + 16)>`, ≤ 803 bytes) under 1 KiB.
   */
  plaintextMaxBytes: 512,
} as const;

/** The annotation every wrap carries: the plugin's wrap format (ciphertext = a named-key ciphertext, annotations authenticated as AAD). */
export const KEK_FORMAT_ANNOTATION = "format.kms-plugin.kpki.io";
const KEK_FORMAT = "1";
/** Label that starts the additional data of every KEK wrap, so it never equals another use of the named key. */
const AAD_LABEL = "kpki kms v2 kek";

/** Health of the KEK as Status reports it; `keyId` is the current version's, when known. */
export interface KekStatus {
  readonly keyId?: string;
  readonly healthy: boolean;
  /** "ok" when healthy, else why not (kube-apiserver shows it in its healthz failure). */
  readonly reason: string;
}

/** A wrapped seed: what EncryptResponse carries. */
export interface KekEncryption {
  readonly ciphertext: Uint8Array;
  readonly keyId: string;
  readonly annotations: ReadonlyMap<string, Uint8Array>;
}

/**
 * The port the KMS plugin consumes: the KEK, in-process (over NamedKeyService) or remote (over the
 * REST API). `requestId` is the plugin request's uid, for correlation in audit and logs.
 */
export interface KekProvider {
  status(): Promise<KekStatus>;
  encrypt(seed: Uint8Array, requestId?: string): Promise<KekEncryption>;
  decrypt(ciphertext: Uint8Array, keyId: string, annotations: ReadonlyMap<string, Uint8Array>, requestId?: string): Promise<Uint8Array>;
}

/** A key_id taken apart. */
export interface KekKeyIdParts {
  readonly name: string;
  readonly version: number;
  /** First 12 hex digits of SHA-256 of the version's managed-object uid. */
  readonly uidHash: string;
}

const UID_HASH_HEX = 12;
const KEY_ID = /^kpki-([a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?)-v([1-9][0-9]{0,9})-([0-9a-f]{12})$/;

function uidHash(uid: string): string {
  return createHash("sha256").update(uid, "utf8").digest("hex").slice(0, UID_HASH_HEX);
}

/**
 * `kpki-<name>-v<version>-<first 12 hex of sha256(version uid)>`: opaque to kube-apiserver, safe to
 * log (a hash, no secret), and never reused — version uids are unique, so a key deleted and
 * created again under the same name gets new key_ids. Operators can map it back to a version:
 * `printf %s "$uid" | sha256sum | cut -c1-12`.
 */
export function kekKeyId(name: string, version: number, uid: string): string {
  return `kpki-${name}-v${version}-${uidHash(uid)}`;
}

/** The parts of a kpki key_id, or undefined when it is not one (then it is unknown to this plugin). */
export function parseKekKeyId(keyId: string): KekKeyIdParts | undefined {
  const match = KEY_ID.exec(keyId);
  if (match === null) return undefined;
  return { name: match[1] ?? "", version: Number(match[2]), uidHash: match[3] ?? "" };
}

/** `not_found` for a key_id this plugin never issued (kube-apiserver must never get a decryption for it). */
export function unknownKeyId(keyId: string, why: string): DomainError {
  return new DomainError("not_found", `unknown key_id ${printable(keyId)}: ${why}`, { field: "key_id", reason: "Item Not Found" });
}

/** Throws `not_found` unless `keyId` names exactly the version with this uid (not a same-numbered version of a re-created key). */
export function assertKeyIdOfVersion(keyId: string, parts: KekKeyIdParts, uid: string): void {
  if (uidHash(uid) !== parts.uidHash) throw unknownKeyId(keyId, `version ${parts.version} of named key ${parts.name} is another key than the one this key_id was issued for`);
}

/**
 * k8s.io/apimachinery `IsFullyQualifiedDomainName`: an optional trailing dot, then a DNS-1123
 * subdomain (≤ 253 characters, lowercase) of at least two labels, each a DNS-1123 label (≤ 63).
 */
export function isFullyQualifiedDomainName(name: string): boolean {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  if (trimmed.length === 0 || trimmed.length > 253) return false;
  const labels = trimmed.split(".");
  return labels.length >= 2 && labels.every((label) => label.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(label));
}

/** key_id: non-empty, at most 1 KiB (bytes, as Go counts `len`). */
export function assertKmsKeyId(keyId: string): void {
  if (keyId.length === 0) throw invalid("key_id", "must not be empty");
  const bytes = Buffer.byteLength(keyId, "utf8");
  if (bytes > KMS_V2_LIMITS.keyIdMaxBytes) throw invalid("key_id", `${bytes} bytes; at most ${KMS_V2_LIMITS.keyIdMaxBytes}`);
}

/** ciphertext (the encrypted DEK source): non-empty, at most 1 KiB. */
export function assertKmsCiphertext(ciphertext: Uint8Array): void {
  if (ciphertext.length === 0) throw invalid("ciphertext", "must not be empty");
  if (ciphertext.length > KMS_V2_LIMITS.ciphertextMaxBytes) throw invalid("ciphertext", `${ciphertext.length} bytes; at most ${KMS_V2_LIMITS.ciphertextMaxBytes}`);
}

/** annotations: keys are fully qualified domain names; Σ(len(key) + len(value)) ≤ 32 KiB. */
export function assertKmsAnnotations(annotations: ReadonlyMap<string, Uint8Array>): void {
  let total = 0;
  for (const [key, value] of annotations) {
    if (!isFullyQualifiedDomainName(key)) throw invalid("annotations", `key ${printable(key)} is not a fully qualified domain name (e.g. name.example.com)`);
    total += Buffer.byteLength(key, "utf8") + value.length;
  }
  if (total > KMS_V2_LIMITS.annotationsMaxBytes) throw invalid("annotations", `${total} bytes of keys and values; at most ${KMS_V2_LIMITS.annotationsMaxBytes}`);
}

/** The annotations of a new wrap. */
export function kekAnnotations(): Map<string, Uint8Array> {
  return new Map([[KEK_FORMAT_ANNOTATION, Buffer.from(KEK_FORMAT, "utf8")]]);
}

/**
 * The additional data a wrap authenticates (the named key's `context`): a label and the
 * annotations, sorted and length-prefixed, so annotations changed in etcd make Decrypt fail.
 */
export function kekAssociatedData(annotations: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const parts: Buffer[] = [Buffer.from(AAD_LABEL, "utf8")];
  for (const key of [...annotations.keys()].sort()) {
    const name = Buffer.from(key, "utf8");
    const value = annotations.get(key) ?? new Uint8Array();
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(name.length, 0);
    lengths.writeUInt32BE(value.length, 4);
    parts.push(lengths, name, Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** The named-key ciphertext text inside a wrap, and the key and version it names. */
export function decodeWrappedKey(ciphertext: Uint8Array): { text: string; name: string; version: number } {
  const text = Buffer.from(ciphertext).toString("utf8");
  const decoded = decodeNamedCiphertext(text);
  return { text, name: decoded.name, version: decoded.version };
}

/** Status of the KEK from its current version: healthy only while that version is Active. */
export function evaluateKekStatus(current: { name: string; version: number; uid: string; state: State }): KekStatus {
  const keyId = kekKeyId(current.name, current.version, current.uid);
  if (current.state === "Active") return { keyId, healthy: true, reason: "ok" };
  return { keyId, healthy: false, reason: `version ${current.version} of named key ${current.name} is ${current.state}, not Active: rotate the key` };
}

/**
 * The KMS v2 rules around a KekProvider: every request and every answer within kube-apiserver's
 * limits, key_ids only of this plugin's key, the wrap's format annotation present. Requests
 * outside the limits are `invalid_input`; an answer outside them is `internal` (never sent on).
 */
export class KekService {
  constructor(
    private readonly provider: KekProvider,
    /** The named key this plugin serves; key_ids of any other key are unknown. */
    readonly keyName: string,
  ) {}

  /** Never throws: a failure of the key service is an unhealthy Status with the reason. */
  async status(): Promise<KekStatus> {
    let status: KekStatus;
    try {
      status = await this.provider.status();
    } catch (error) {
      return { healthy: false, reason: `key service: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (status.keyId !== undefined) {
      try {
        assertKmsKeyId(status.keyId);
      } catch (error) {
        return { healthy: false, reason: `invalid key_id: ${(error as Error).message}` };
      }
    } else if (status.healthy) {
      return { healthy: false, reason: "the key service reported no current key_id" };
    }
    return status;
  }

  async encrypt(plaintext: Uint8Array, requestId?: string): Promise<KekEncryption> {
    if (plaintext.length === 0) throw invalid("plaintext", "must not be empty");
    if (plaintext.length > KMS_V2_LIMITS.plaintextMaxBytes) throw invalid("plaintext", `${plaintext.length} bytes; at most ${KMS_V2_LIMITS.plaintextMaxBytes} (kube-apiserver sends a 32-byte seed)`);
    const result = await this.provider.encrypt(plaintext, requestId);
    try {
      assertKmsCiphertext(result.ciphertext);
      assertKmsKeyId(result.keyId);
      assertKmsAnnotations(result.annotations);
    } catch (error) {
      throw new DomainError("internal", `the key service's answer breaks a KMS v2 limit: ${(error as Error).message}`, {}, { cause: error });
    }
    return result;
  }

  async decrypt(request: { ciphertext: Uint8Array; keyId: string; annotations: ReadonlyMap<string, Uint8Array>; requestId?: string }): Promise<Uint8Array> {
    assertKmsKeyId(request.keyId);
    assertKmsCiphertext(request.ciphertext);
    assertKmsAnnotations(request.annotations);
    const parts = parseKekKeyId(request.keyId);
    if (parts === undefined) throw unknownKeyId(request.keyId, "not a key_id of a kpki KMS plugin");
    if (parts.name !== this.keyName) throw unknownKeyId(request.keyId, `this plugin serves named key ${this.keyName}`);
    const wrapped = decodeWrappedKey(request.ciphertext);
    if (wrapped.name !== parts.name || wrapped.version !== parts.version) {
      throw invalid("ciphertext", `made with version ${wrapped.version} of named key ${wrapped.name}, but key_id names version ${parts.version} of ${parts.name}`);
    }
    const format = request.annotations.get(KEK_FORMAT_ANNOTATION);
    if (format === undefined || Buffer.from(format).toString("utf8") !== KEK_FORMAT) {
      throw invalid("annotations", `${KEK_FORMAT_ANNOTATION} must be "${KEK_FORMAT}" (the annotations Encrypt returned)`);
    }
    return this.provider.decrypt(request.ciphertext, request.keyId, request.annotations, request.requestId);
  }
}

function invalid(field: string, message: string): DomainError {
  return new DomainError("invalid_input", `${field}: ${message}`, { field, reason: "Invalid Field" });
}

/** A caller-supplied string shortened and stripped of control characters, for an error message. */
function printable(text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, "?");
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 80)}…` : clean);
}

import {
  effectiveState,
  usageNames,
  type BatchOutcome,
  type KeyVersionUsage,
  type KmsResult,
  type ManagedObject,
  type NamedKey,
  type NamedKeyUsageReport,
} from "../../core/kms/index.js";
import { DomainError, type ErrorCode } from "../../core/shared/domain-error.js";

// The key service's JSON: binary values as standard padded base64 (RFC 4648 §4), dates as RFC 3339
// strings, managed objects as camelCase JSON with KMIP's names for values (object types, states,
// usages, link types). Key material appears only in what KMIP Get, Decrypt, RNG Retrieve and a
// data key return.

/** Standard base64, padded: what every binary field carries. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `invalid_input` on a request field, with the KMIP reason the key service reports for it. */
export function invalidField(field: string, message: string): DomainError {
  return new DomainError("invalid_input", `${field}: ${message}`, { field, reason: "Invalid Field" });
}

/**
 * Decodes a base64 request field strictly: standard alphabet, padded, canonical (no stray bits in
 * the last character), no whitespace. Anything else is a 400 naming the field, never silently
 * truncated data (Node's decoder skips what it does not understand).
 */
export function base64Field(value: string, field: string): Uint8Array {
  if (!BASE64.test(value)) throw invalidField(field, "not valid base64 (standard alphabet with padding, no whitespace)");
  const bytes = Buffer.from(value, "base64");
  if (bytes.toString("base64") !== value) throw invalidField(field, "not canonical base64 (the unused bits of the last character must be zero)");
  return new Uint8Array(bytes);
}

/** Like `base64Field` for an optional field. */
export function optionalBase64(value: string | undefined, field: string): Uint8Array | undefined {
  return value === undefined ? undefined : base64Field(value, field);
}

/** Bytes as standard padded base64. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** An RFC 3339 date-time request field (the contract checks the format; this checks the value). */
export function dateField(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidField(field, "not a valid date-time");
  return date;
}

/** Like `dateField` for an optional field. */
export function optionalDate(value: string | undefined, field: string): Date | undefined {
  return value === undefined ? undefined : dateField(value, field);
}

const iso = (date: Date | undefined) => date?.toISOString();

/** Drops the members whose value is undefined, so responses carry absent fields as absent. */
function compact<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter((entry) => entry[1] !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * A managed object as the API shows it: its KMIP attributes in camelCase, the usage mask both as
 * KMIP usage names and as the integer, the effective State at `now` (activation and deactivation
 * dates count). Never key material.
 */
export function objectJson(object: ManagedObject, now: Date) {
  return compact({
    uid: object.uid,
    objectType: object.objectType,
    algorithm: object.algorithm,
    length: object.length,
    curve: object.curve,
    usage: usageNames(object.usageMask),
    usageMask: object.usageMask,
    state: effectiveState(object, now),
    names: [...object.names],
    initialDate: object.initialDate.toISOString(),
    activationDate: iso(object.activationDate),
    deactivationDate: iso(object.deactivationDate),
    destroyDate: iso(object.destroyDate),
    compromiseDate: iso(object.compromiseDate),
    compromiseOccurrenceDate: iso(object.compromiseOccurrenceDate),
    revocationReason: object.revocationReason === undefined ? undefined : compact({ code: object.revocationReason.code, message: object.revocationReason.message }),
    links: object.links.map((link) => ({ type: link.type, uid: link.uid })),
    sensitive: object.sensitive,
    extractable: object.extractable,
    customAttributes: { ...object.customAttributes },
    lastChangeDate: object.lastChangeDate.toISOString(),
    namedKey: object.version === undefined ? undefined : { name: object.version.name, version: object.version.version },
    createdBy: object.createdBy,
  });
}

/** The response body of one KMIP operation: what its REST endpoint answers and what a batch item's `result` holds. */
export function kmsResultJson(result: KmsResult, now: Date) {
  switch (result.operation) {
    case "Create":
    case "Register":
    case "Activate":
    case "Revoke":
    case "Destroy":
    case "ReKey":
    case "ChangeAttribute":
      return objectJson(result.object, now);
    case "CreateKeyPair":
    case "ReKeyKeyPair":
      return { privateKey: objectJson(result.privateKey, now), publicKey: objectJson(result.publicKey, now) };
    case "Get":
      return { uid: result.object.uid, objectType: result.object.objectType, format: result.format, value: result.value };
    case "GetAttributes":
      return { uid: result.uid, attributes: result.attributes };
    case "GetAttributeList":
      return { uid: result.uid, names: [...result.names] };
    case "Locate":
      return compact({ items: result.page.items.map((object) => objectJson(object, now)), nextCursor: result.page.nextCursor });
    case "Encrypt":
      return compact({ uid: result.uid, mode: result.result.mode, ciphertext: base64(result.result.ciphertext), iv: mapDefined(result.result.iv, base64), tag: mapDefined(result.result.tag, base64) });
    case "Decrypt":
      return { uid: result.uid, plaintext: base64(result.plaintext) };
    case "Sign":
      return { uid: result.uid, signature: base64(result.signature), algorithm: result.algorithm };
    case "SignatureVerify":
    case "MACVerify":
      return { uid: result.uid, valid: result.valid };
    case "MAC":
      return { uid: result.uid, mac: base64(result.mac) };
    case "RNGRetrieve":
      return { data: base64(result.data) };
  }
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

/**
 * The KMIP Result Reason of an error: the core's own (`detail.reason`), else the closest reason to
 * its code, so a batch item's failure always names one.
 */
const REASON_OF_CODE: Readonly<Record<ErrorCode, string>> = {
  invalid_input: "Invalid Field",
  not_found: "Item Not Found",
  already_exists: "Object Already Exists",
  conflict: "Illegal Operation",
  policy_violation: "Permission Denied",
  wrong_state: "Wrong Key Lifecycle State",
  unauthenticated: "Permission Denied",
  permission_denied: "Permission Denied",
  limit_exceeded: "Server Limit Exceeded",
  unsupported: "Feature Not Supported",
  unavailable: "General Failure",
  internal: "General Failure",
};

export function kmipReasonOf(error: DomainError): string {
  return error.detail.reason ?? REASON_OF_CODE[error.code];
}

/**
 * One batch item's outcome, in KMIP's terms (Result Status Success / Operation Failed, or skipped
 * after a stop), under the operation name the item was sent with (AddAttribute, not the core's
 * ChangeAttribute).
 */
export function batchOutcomeJson(outcome: BatchOutcome, operation: string, now: Date) {
  switch (outcome.status) {
    case "Success":
      return { operation, status: outcome.status, result: kmsResultJson(outcome.result, now) };
    case "Failed":
      return {
        operation,
        status: outcome.status,
        error: compact({ code: outcome.error.code, kmipResultReason: kmipReasonOf(outcome.error), detail: outcome.error.message, field: outcome.error.detail.field }),
      };
    case "Skipped":
      return { operation, status: outcome.status };
  }
}

/** A named key (encryption as a service) as the API shows it. */
export function namedKeyJson(key: NamedKey) {
  return compact({
    name: key.name,
    algorithm: key.algorithm,
    currentVersion: key.currentVersion,
    minDecryptionVersion: key.minDecryptionVersion,
    rotatePeriodSeconds: key.rotatePeriodSeconds,
    lastRotatedAt: key.lastRotatedAt.toISOString(),
    createdAt: key.createdAt.toISOString(),
    updatedAt: key.updatedAt.toISOString(),
  });
}

/** `?force=true` on a query (the contract allows only true and false): go over the recent-decryption guard. */
export function forceRequested(query: unknown): boolean {
  const force = (query as { force?: string | boolean }).force;
  return force === true || force === "true";
}

/** One version of a named key with its use (counted in batches, so a few seconds behind). */
export function keyVersionJson(version: KeyVersionUsage) {
  return compact({
    version: version.version,
    uid: version.uid,
    state: version.state,
    encryptCount: version.encryptCount,
    decryptCount: version.decryptCount,
    lastEncryptAt: iso(version.lastEncryptAt),
    lastDecryptAt: iso(version.lastDecryptAt),
  });
}

/** The migration report of a named key: each version's use and role, and what still decrypts. */
export function usageReportJson(report: NamedKeyUsageReport) {
  return {
    name: report.key.name,
    currentVersion: report.key.currentVersion,
    minDecryptionVersion: report.key.minDecryptionVersion,
    generatedAt: report.generatedAt.toISOString(),
    windowDays: report.windowSeconds / 86_400,
    since: new Date(report.generatedAt.getTime() - report.windowSeconds * 1000).toISOString(),
    versions: report.versions.map((version) => ({ ...keyVersionJson(version), role: version.role, recentlyDecrypted: version.recentlyDecrypted })),
    stillDecrypting: report.stillDecrypting,
    safeMinDecryptionVersion: report.safeMinDecryptionVersion,
  };
}

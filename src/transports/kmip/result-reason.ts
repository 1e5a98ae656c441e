import type { KmipResultReason } from "../../core/kms/index.js";
import { isDomainError, type ErrorCode } from "../../core/shared/domain-error.js";
import { KmipError, type ResultReasonName } from "./kmip-error.js";
import { V1_0, V1_1, V1_2, V1_4, V2_0, type Version } from "./protocol-version.js";
import { ENUM } from "./ttlv/enumerations.js";

// The one mapping of failures to KMIP Result Reasons (house rule 5): the key service's reason
// names, the core's error codes, and the transport's own refusals, answered in the vocabulary of
// the request's protocol version.

export type { ResultReasonName };

/** The key service names its reasons as KMIP spells them; this is their enumeration name. */
const FROM_KEY_SERVICE: Readonly<Record<KmipResultReason, ResultReasonName>> = {
  "Item Not Found": "ItemNotFound",
  "Invalid Field": "InvalidField",
  "Missing Data": "MissingData",
  "Feature Not Supported": "FeatureNotSupported",
  "Cryptographic Failure": "CryptographicFailure",
  "Illegal Operation": "IllegalOperation",
  "Permission Denied": "PermissionDenied",
  "Key Format Type Not Supported": "KeyFormatTypeNotSupported",
  Sensitive: "Sensitive",
  "Not Extractable": "NotExtractable",
  "Object Already Exists": "ObjectAlreadyExists",
  "Wrong Key Lifecycle State": "WrongKeyLifecycleState",
  "Incompatible Cryptographic Usage Mask": "IncompatibleCryptographicUsageMask",
  "Invalid Object Type": "InvalidObjectType",
  "Read Only Attribute": "ReadOnlyAttribute",
  "Attribute Not Found": "AttributeNotFound",
  "Object Destroyed": "ObjectDestroyed",
  "Bad Cryptographic Parameters": "BadCryptographicParameters",
  "Server Limit Exceeded": "ServerLimitExceeded",
  "General Failure": "GeneralFailure",
};

/** Core errors that carry no KMIP reason (access decisions, other domains). */
const FROM_CODE: Readonly<Record<ErrorCode, ResultReasonName>> = {
  invalid_input: "InvalidField",
  not_found: "ItemNotFound",
  already_exists: "ObjectAlreadyExists",
  conflict: "IllegalOperation",
  policy_violation: "PermissionDenied",
  wrong_state: "WrongKeyLifecycleState",
  // authorize() says unauthenticated for a principal without a role: a certificate kpki accepted
  // but that grants nothing, which KMIP calls Permission Denied (the TLS handshake authenticated it).
  unauthenticated: "PermissionDenied",
  permission_denied: "PermissionDenied",
  limit_exceeded: "ServerLimitExceeded",
  unsupported: "FeatureNotSupported",
  unavailable: "GeneralFailure",
  internal: "GeneralFailure",
};

/** Reasons added after KMIP 1.0 (1.4 §9.1.3.2.29; everything from 0x19 on is 2.0, §11.28). */
function since(name: ResultReasonName): Version {
  const value = ENUM.ResultReason[name];
  if (value === ENUM.ResultReason.GeneralFailure || value <= ENUM.ResultReason.KeyCompressionTypeNotSupported) return V1_0;
  if (value === ENUM.ResultReason.EncodingOptionError) return V1_1;
  if (value <= ENUM.ResultReason.AttestationFailed) return V1_2;
  if (value <= ENUM.ResultReason.ObjectAlreadyExists) return V1_4;
  return V2_0;
}

/**
 * What an older version says instead of a reason it does not have. The 1.x choices follow how
 * KMIP 1.x error tables and PyKMIP's server answer the same refusals: a key in the wrong state or
 * without the usage is Permission Denied, a destroyed key's value is Key Value Not Present.
 */
const OLDER: Partial<Readonly<Record<ResultReasonName, ResultReasonName>>> = {
  WrongKeyLifecycleState: "PermissionDenied",
  ObjectDestroyed: "KeyValueNotPresent",
  KeyValueNotPresent: "PermissionDenied",
  IncompatibleCryptographicUsageMask: "PermissionDenied",
  InvalidObjectType: "IllegalOperation",
  IllegalObjectType: "IllegalOperation",
  ReadOnlyAttribute: "PermissionDenied",
  AttributeReadOnly: "PermissionDenied",
  AttributeNotFound: "ItemNotFound",
  AttributeInstanceNotFound: "ItemNotFound",
  ObjectNotFound: "ItemNotFound",
  MultiValuedAttribute: "IllegalOperation",
  AttributeSingleValued: "IllegalOperation",
  BadCryptographicParameters: "InvalidField",
  UnsupportedCryptographicParameters: "InvalidField",
  MissingInitializationVector: "MissingData",
  ServerLimitExceeded: "InvalidField",
  Sensitive: "PermissionDenied",
  NotExtractable: "PermissionDenied",
  NotAuthorised: "PermissionDenied",
  AttestationRequired: "PermissionDenied",
  AttestationFailed: "PermissionDenied",
  ObjectAlreadyExists: "InvalidField",
  EncodingOptionError: "InvalidField",
  UnknownEnumeration: "InvalidField",
  InvalidAttribute: "InvalidField",
  InvalidAttributeValue: "InvalidField",
  UnsupportedAttribute: "InvalidField",
  InvalidDataType: "InvalidField",
  NumericRange: "InvalidField",
  UnknownTag: "InvalidMessage",
  CodecError: "InvalidMessage",
  UnsupportedProtocolVersion: "InvalidMessage",
  UnknownMessageExtension: "FeatureNotSupported",
  KeyWrapTypeNotSupported: "FeatureNotSupported",
};

/**
 * The Result Reason value to send for `name` in protocol `version`. A version below 1.0 (a client
 * that sent 0.x) is answered with KMIP 1.0's vocabulary, the oldest there is.
 */
export function resultReasonValue(name: ResultReasonName, version: Version): number {
  const effective = Math.max(version, V1_0);
  let chosen = name;
  while (since(chosen) > effective) chosen = OLDER[chosen] ?? "GeneralFailure";
  return ENUM.ResultReason[chosen];
}

/** A failure as KMIP reports it; `internal` is true when it was not a refusal but a fault. */
export interface Failure {
  readonly reason: ResultReasonName;
  readonly message: string;
  readonly internal: boolean;
}

/** Any error thrown while serving a batch item → its Result Reason and a message safe to send. */
export function failureOf(error: unknown): Failure {
  if (error instanceof KmipError) return { reason: error.reason, message: error.message, internal: false };
  if (isDomainError(error)) {
    const named = error.detail.reason;
    const reason = named !== undefined && Object.hasOwn(FROM_KEY_SERVICE, named) ? FROM_KEY_SERVICE[named as KmipResultReason] : FROM_CODE[error.code];
    const internal = error.code === "internal" || error.code === "unavailable";
    return { reason, message: internal ? "the server could not complete the operation; see its log" : error.message, internal };
  }
  return { reason: "GeneralFailure", message: "the server could not complete the operation; see its log", internal: true };
}

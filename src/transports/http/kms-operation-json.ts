import type { SignatureAlgorithm } from "../../core/crypto/algorithms.js";
import {
  usageMask,
  type CipherMode,
  type CreateKeyPairRequest,
  type CreateRequest,
  type CryptographicAlgorithm,
  type DateRange,
  type KeyFormat,
  type KmsOperation,
  type LocateQuery,
  type ObjectAttributes,
  type ObjectType,
  type RegisterRequest,
  type RevocationReasonCode,
  type State,
  type UsageName,
} from "../../core/kms/index.js";
import { base64Field, invalidField, optionalBase64, optionalDate } from "./kms-json.js";

// Request bodies of the key service as the OpenAPI document admits them, and their translation
// into the core's KMIP operations. One translation serves the single endpoints and the batch, so a
// batch item means exactly what the same request sent alone means.

type SymmetricAlgorithm = NonNullable<CreateRequest["algorithm"]>;

/** Attributes a client may give when creating or registering (KMIP Template-Attribute, in camelCase). */
export interface AttributeFields {
  readonly names?: string[];
  readonly activate?: boolean;
  readonly activationDate?: string;
  readonly deactivationDate?: string;
  readonly sensitive?: boolean;
  /** REST default false: a key leaves the service only when its creator said so. */
  readonly extractable?: boolean;
  readonly customAttributes?: Record<string, string>;
}

export interface CreateBody extends AttributeFields {
  readonly objectType: CreateRequest["objectType"];
  readonly algorithm?: SymmetricAlgorithm;
  readonly length?: number;
  readonly usage?: UsageName[];
  readonly usageMask?: number;
}

export interface CreateKeyPairBody extends AttributeFields {
  readonly algorithm: CreateKeyPairRequest["algorithm"];
  readonly length?: number;
  readonly privateUsage?: UsageName[];
  readonly privateUsageMask?: number;
  readonly publicUsage?: UsageName[];
  readonly publicUsageMask?: number;
}

export interface RegisterBody extends AttributeFields {
  readonly objectType: ObjectType;
  readonly algorithm?: SymmetricAlgorithm;
  readonly format: KeyFormat;
  readonly value: string;
  readonly usage?: UsageName[];
  readonly usageMask?: number;
}

/** Locate filters: the query string of `GET /v1/objects`, or the fields of a batch Locate item. */
export interface LocateFields {
  readonly name?: string;
  readonly objectType?: ObjectType;
  readonly algorithm?: CryptographicAlgorithm;
  readonly state?: State;
  readonly attributeName?: string;
  readonly attributeValue?: string;
  readonly initialDateFrom?: string;
  readonly initialDateTo?: string;
  readonly activationDateFrom?: string;
  readonly activationDateTo?: string;
  readonly deactivationDateFrom?: string;
  readonly deactivationDateTo?: string;
  readonly limit?: number | string;
  readonly cursor?: string;
}

export interface RevokeBody {
  readonly reason: RevocationReasonCode;
  readonly message?: string;
  readonly compromiseOccurrenceDate?: string;
}

export interface EncryptBody {
  readonly plaintext: string;
  readonly mode?: CipherMode;
  readonly iv?: string;
  readonly aad?: string;
  readonly tagLengthBytes?: 12 | 13 | 14 | 15 | 16;
}

export interface DecryptBody {
  readonly ciphertext: string;
  readonly mode?: CipherMode;
  readonly iv?: string;
  readonly aad?: string;
  readonly tag?: string;
  readonly tagLengthBytes?: 12 | 13 | 14 | 15 | 16;
}

export interface SignBody {
  readonly data: string;
  readonly algorithm?: SignatureAlgorithm;
}

export interface VerifyBody extends SignBody {
  readonly signature: string;
}

export interface MacBody {
  readonly data: string;
}

export interface MacVerifyBody extends MacBody {
  readonly mac: string;
}

export interface AttributeBody {
  readonly name: string;
  readonly value: string;
}

/** A batch item: the KMIP operation name and that operation's fields; `uid` left out uses the ID Placeholder. */
export type BatchItemBody =
  | ({ readonly operation: "Create" } & CreateBody)
  | ({ readonly operation: "CreateKeyPair" } & CreateKeyPairBody)
  | ({ readonly operation: "Register" } & RegisterBody)
  | { readonly operation: "Get"; readonly uid?: string; readonly format?: KeyFormat }
  | { readonly operation: "GetAttributes"; readonly uid?: string; readonly names?: string[] }
  | { readonly operation: "GetAttributeList" | "Activate" | "Destroy"; readonly uid?: string }
  | ({ readonly operation: "AddAttribute"; readonly uid?: string } & AttributeBody)
  | { readonly operation: "ModifyAttribute"; readonly uid?: string; readonly name: string; readonly value: string; readonly current?: string }
  | { readonly operation: "DeleteAttribute"; readonly uid?: string; readonly name: string; readonly value?: string }
  | ({ readonly operation: "Locate" } & LocateFields)
  | ({ readonly operation: "Revoke"; readonly uid?: string } & RevokeBody)
  | { readonly operation: "ReKey" | "ReKeyKeyPair"; readonly uid?: string; readonly offsetSeconds?: number }
  | ({ readonly operation: "Encrypt"; readonly uid?: string } & EncryptBody)
  | ({ readonly operation: "Decrypt"; readonly uid?: string } & DecryptBody)
  | ({ readonly operation: "Sign"; readonly uid?: string } & SignBody)
  | ({ readonly operation: "SignatureVerify"; readonly uid?: string } & VerifyBody)
  | ({ readonly operation: "MAC"; readonly uid?: string } & MacBody)
  | ({ readonly operation: "MACVerify"; readonly uid?: string } & MacVerifyBody)
  | { readonly operation: "RNGRetrieve"; readonly lengthBytes: number };

/** `prefix.name`: where a field sits (a batch item's fields are `items.N.…`). */
const at = (prefix: string, name: string) => (prefix === "" ? name : `${prefix}.${name}`);

/** A usage mask from KMIP usage names or the integer; giving both is ambiguous. */
function maskOf(names: UsageName[] | undefined, mask: number | undefined, field: string, prefix: string): number | undefined {
  if (names !== undefined && mask !== undefined) throw invalidField(at(prefix, field), `give ${field} (KMIP usage names) or ${field}Mask (the integer), not both`);
  return names === undefined ? mask : usageMask(names);
}

function attributes(body: AttributeFields, prefix: string): ObjectAttributes {
  return {
    names: body.names,
    activate: body.activate,
    activationDate: optionalDate(body.activationDate, at(prefix, "activationDate")),
    deactivationDate: optionalDate(body.deactivationDate, at(prefix, "deactivationDate")),
    sensitive: body.sensitive,
    extractable: body.extractable ?? false,
    customAttributes: body.customAttributes,
  };
}

export function createRequest(body: CreateBody, prefix = ""): CreateRequest {
  return { ...attributes(body, prefix), objectType: body.objectType, algorithm: body.algorithm, length: body.length, usageMask: maskOf(body.usage, body.usageMask, "usage", prefix) };
}

export function createKeyPairRequest(body: CreateKeyPairBody, prefix = ""): CreateKeyPairRequest {
  return {
    ...attributes(body, prefix),
    algorithm: body.algorithm,
    length: body.length,
    privateUsageMask: maskOf(body.privateUsage, body.privateUsageMask, "privateUsage", prefix),
    publicUsageMask: maskOf(body.publicUsage, body.publicUsageMask, "publicUsage", prefix),
  };
}

export function registerRequest(body: RegisterBody, prefix = ""): RegisterRequest {
  return {
    ...attributes(body, prefix),
    objectType: body.objectType,
    algorithm: body.algorithm,
    format: body.format,
    value: body.value,
    usageMask: maskOf(body.usage, body.usageMask, "usage", prefix),
  };
}

function range(from: string | undefined, to: string | undefined, field: string, prefix: string): DateRange | undefined {
  if (from === undefined && to === undefined) return undefined;
  return { from: optionalDate(from, at(prefix, `${field}From`)), to: optionalDate(to, at(prefix, `${field}To`)) };
}

/** KMIP Locate filters (combined with AND) and the page. */
export function locateQuery(fields: LocateFields, prefix = ""): Omit<LocateQuery, "now" | "limit"> & { limit?: number } {
  if ((fields.attributeName === undefined) !== (fields.attributeValue === undefined)) {
    throw invalidField(at(prefix, fields.attributeName === undefined ? "attributeName" : "attributeValue"), "attributeName and attributeValue go together");
  }
  return {
    name: fields.name,
    objectType: fields.objectType,
    algorithm: fields.algorithm,
    state: fields.state,
    customAttribute: fields.attributeName === undefined || fields.attributeValue === undefined ? undefined : { name: fields.attributeName, value: fields.attributeValue },
    initialDate: range(fields.initialDateFrom, fields.initialDateTo, "initialDate", prefix),
    activationDate: range(fields.activationDateFrom, fields.activationDateTo, "activationDate", prefix),
    deactivationDate: range(fields.deactivationDateFrom, fields.deactivationDateTo, "deactivationDate", prefix),
    limit: fields.limit === undefined ? undefined : Number(fields.limit),
    after: fields.cursor,
  };
}

export function revokeReason(body: RevokeBody, prefix = ""): { code: RevocationReasonCode; message?: string; compromiseOccurrenceDate?: Date } {
  return { code: body.reason, message: body.message, compromiseOccurrenceDate: optionalDate(body.compromiseOccurrenceDate, at(prefix, "compromiseOccurrenceDate")) };
}

export function encryptOperation(uid: string | undefined, body: EncryptBody, prefix = ""): KmsOperation {
  return {
    operation: "Encrypt",
    request: { uid, plaintext: base64Field(body.plaintext, at(prefix, "plaintext")), mode: body.mode, iv: optionalBase64(body.iv, at(prefix, "iv")), aad: optionalBase64(body.aad, at(prefix, "aad")), tagLengthBytes: body.tagLengthBytes },
  };
}

export function decryptOperation(uid: string | undefined, body: DecryptBody, prefix = ""): KmsOperation {
  return {
    operation: "Decrypt",
    request: {
      uid,
      ciphertext: base64Field(body.ciphertext, at(prefix, "ciphertext")),
      mode: body.mode,
      iv: optionalBase64(body.iv, at(prefix, "iv")),
      aad: optionalBase64(body.aad, at(prefix, "aad")),
      tag: optionalBase64(body.tag, at(prefix, "tag")),
      tagLengthBytes: body.tagLengthBytes,
    },
  };
}

export function signOperation(uid: string | undefined, body: SignBody, prefix = ""): KmsOperation {
  return { operation: "Sign", uid, data: base64Field(body.data, at(prefix, "data")), algorithm: body.algorithm };
}

export function verifyOperation(uid: string | undefined, body: VerifyBody, prefix = ""): KmsOperation {
  return { operation: "SignatureVerify", uid, data: base64Field(body.data, at(prefix, "data")), signature: base64Field(body.signature, at(prefix, "signature")), algorithm: body.algorithm };
}

export function macOperation(uid: string | undefined, body: MacBody, prefix = ""): KmsOperation {
  return { operation: "MAC", uid, data: base64Field(body.data, at(prefix, "data")) };
}

export function macVerifyOperation(uid: string | undefined, body: MacVerifyBody, prefix = ""): KmsOperation {
  return { operation: "MACVerify", uid, data: base64Field(body.data, at(prefix, "data")), mac: base64Field(body.mac, at(prefix, "mac")) };
}

/** A batch item as the core's operation; decoding problems name the item (`items.N.field`). */
export function batchItemOperation(item: BatchItemBody, prefix: string): KmsOperation {
  switch (item.operation) {
    case "Create":
      return { operation: "Create", request: createRequest(item, prefix) };
    case "CreateKeyPair":
      return { operation: "CreateKeyPair", request: createKeyPairRequest(item, prefix) };
    case "Register":
      return { operation: "Register", request: registerRequest(item, prefix) };
    case "Get":
      return { operation: "Get", uid: item.uid, format: item.format };
    case "GetAttributes":
      return { operation: "GetAttributes", uid: item.uid, names: item.names };
    case "GetAttributeList":
    case "Activate":
    case "Destroy":
      return { operation: item.operation, uid: item.uid };
    case "AddAttribute":
      return { operation: "ChangeAttribute", uid: item.uid, change: { action: "add", name: item.name, value: item.value } };
    case "ModifyAttribute":
      return { operation: "ChangeAttribute", uid: item.uid, change: { action: "modify", name: item.name, value: item.value, current: item.current } };
    case "DeleteAttribute":
      return { operation: "ChangeAttribute", uid: item.uid, change: { action: "delete", name: item.name, value: item.value } };
    case "Locate":
      return { operation: "Locate", query: locateQuery(item, prefix) };
    case "Revoke":
      return { operation: "Revoke", uid: item.uid, reason: revokeReason(item, prefix) };
    case "ReKey":
    case "ReKeyKeyPair":
      return { operation: item.operation, uid: item.uid, offsetSeconds: item.offsetSeconds };
    case "Encrypt":
      return encryptOperation(item.uid, item, prefix);
    case "Decrypt":
      return decryptOperation(item.uid, item, prefix);
    case "Sign":
      return signOperation(item.uid, item, prefix);
    case "SignatureVerify":
      return verifyOperation(item.uid, item, prefix);
    case "MAC":
      return macOperation(item.uid, item, prefix);
    case "MACVerify":
      return macVerifyOperation(item.uid, item, prefix);
    case "RNGRetrieve":
      return { operation: "RNGRetrieve", length: item.lengthBytes };
  }
}

import type { SignatureAlgorithm } from "../crypto/algorithms.js";
import type { Page } from "../shared/page.js";
import type { DecryptRequest, EncryptRequest, EncryptResult } from "./key-operations-service.js";
import type { KeyFormat } from "./key-material-formats.js";
import type { RevocationReasonCode } from "./kmip-vocabulary.js";
import type { ManagedObject } from "./managed-object.js";
import type { AttributeChange, AttributeValue } from "./object-attributes.js";
import type { CreateKeyPairRequest, CreateRequest, RegisterRequest } from "./object-requests.js";
import type { LocateQuery } from "./ports.js";

/**
 * One KMIP operation as data: what a REST batch item or a KMIP batch item decodes to. `uid` may be
 * left out to use the ID Placeholder — the object the previous item of the batch created or
 * located (KMIP 1.4 §6.1 ID Placeholder).
 */
export type KmsOperation =
  | { readonly operation: "Create"; readonly request: CreateRequest }
  | { readonly operation: "CreateKeyPair"; readonly request: CreateKeyPairRequest }
  | { readonly operation: "Register"; readonly request: RegisterRequest }
  | { readonly operation: "Get"; readonly uid?: string; readonly format?: KeyFormat }
  | { readonly operation: "GetAttributes"; readonly uid?: string; readonly names?: readonly string[] }
  | { readonly operation: "GetAttributeList"; readonly uid?: string }
  | { readonly operation: "ChangeAttribute"; readonly uid?: string; readonly change: AttributeChange }
  | { readonly operation: "Locate"; readonly query: Omit<LocateQuery, "now" | "limit"> & { limit?: number } }
  | { readonly operation: "Activate"; readonly uid?: string }
  | { readonly operation: "Revoke"; readonly uid?: string; readonly reason: { code: RevocationReasonCode; message?: string; compromiseOccurrenceDate?: Date } }
  | { readonly operation: "Destroy"; readonly uid?: string; readonly force?: boolean }
  | { readonly operation: "ReKey"; readonly uid?: string; readonly offsetSeconds?: number }
  | { readonly operation: "ReKeyKeyPair"; readonly uid?: string; readonly offsetSeconds?: number }
  | { readonly operation: "Encrypt"; readonly request: Omit<EncryptRequest, "uid"> & { uid?: string } }
  | { readonly operation: "Decrypt"; readonly request: Omit<DecryptRequest, "uid"> & { uid?: string } }
  | { readonly operation: "Sign"; readonly uid?: string; readonly data: Uint8Array; readonly algorithm?: SignatureAlgorithm }
  | { readonly operation: "SignatureVerify"; readonly uid?: string; readonly data: Uint8Array; readonly signature: Uint8Array; readonly algorithm?: SignatureAlgorithm }
  | { readonly operation: "MAC"; readonly uid?: string; readonly data: Uint8Array }
  | { readonly operation: "MACVerify"; readonly uid?: string; readonly data: Uint8Array; readonly mac: Uint8Array }
  | { readonly operation: "RNGRetrieve"; readonly length: number };

export type KmsOperationName = KmsOperation["operation"];

/** The result of one operation. */
export type KmsResult =
  | { readonly operation: "Create" | "Register" | "Activate" | "Revoke" | "Destroy" | "ReKey" | "ChangeAttribute"; readonly object: ManagedObject }
  | { readonly operation: "CreateKeyPair" | "ReKeyKeyPair"; readonly privateKey: ManagedObject; readonly publicKey: ManagedObject }
  | { readonly operation: "Get"; readonly object: ManagedObject; readonly format: KeyFormat; readonly value: string }
  | { readonly operation: "GetAttributes"; readonly uid: string; readonly attributes: Record<string, AttributeValue> }
  | { readonly operation: "GetAttributeList"; readonly uid: string; readonly names: readonly string[] }
  | { readonly operation: "Locate"; readonly page: Page<ManagedObject> }
  | { readonly operation: "Encrypt"; readonly uid: string; readonly result: EncryptResult }
  | { readonly operation: "Decrypt"; readonly uid: string; readonly plaintext: Uint8Array }
  | { readonly operation: "Sign"; readonly uid: string; readonly signature: Uint8Array; readonly algorithm: SignatureAlgorithm }
  | { readonly operation: "SignatureVerify" | "MACVerify"; readonly uid: string; readonly valid: boolean }
  | { readonly operation: "MAC"; readonly uid: string; readonly mac: Uint8Array }
  | { readonly operation: "RNGRetrieve"; readonly data: Uint8Array };

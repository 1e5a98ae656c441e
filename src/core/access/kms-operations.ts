import type { KmsAccessOperation } from "../kms/index.js";
import type { OperationId } from "./operations.js";

/**
 * The REST operation whose permission each key-service operation needs, whichever transport
 * carries it (a REST batch item, a KMIP batch item): one table, so REST and KMIP make the same
 * decision for the same operation. GetMetadata is reading an object (REST GET /v1/objects/{uid},
 * KMIP's attribute reads). Add, Modify and Delete Attribute reach the core as one
 * ChangeAttribute; all three need key.manage.
 */
export const KMS_OPERATION_IDS: Readonly<Record<KmsAccessOperation, OperationId>> = {
  GetMetadata: "getObjectMetadata",
  Create: "createObject",
  CreateKeyPair: "createKeyPair",
  Register: "registerObject",
  Get: "getObject",
  GetAttributes: "getAttributes",
  GetAttributeList: "getAttributeList",
  ChangeAttribute: "modifyAttribute",
  Locate: "locateObjects",
  Activate: "activateObject",
  Revoke: "revokeObject",
  Destroy: "destroyObject",
  ReKey: "rekeyObject",
  ReKeyKeyPair: "rekeyKeyPair",
  Encrypt: "encryptData",
  Decrypt: "decryptData",
  Sign: "signData",
  SignatureVerify: "verifySignature",
  MAC: "computeMac",
  MACVerify: "verifyMac",
  RNGRetrieve: "retrieveRandom",
};

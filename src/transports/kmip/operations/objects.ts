import type { CreateKeyPairRequest, CreateRequest, ObjectAttributes, RegisterRequest } from "../../../core/kms/index.js";
import { readAttributeSet, templateFields, type TemplateFields } from "../attribute-requests.js";
import { decodeObject, OBJECT_TAG } from "../key-block.js";
import { invalidField, KmipError, notSupported } from "../kmip-error.js";
import { V2_0, type Version } from "../protocol-version.js";
import type { StructReader } from "../struct-reader.js";
import { ENUM } from "../ttlv/enumerations.js";
import { enumeration, textString } from "../ttlv/item.js";
import { TAG } from "../ttlv/tags.js";
import { OBJECT_TYPE, objectTypeOf } from "../vocabulary.js";
import type { OperationHandler } from "./operation.js";

// Create, Create Key Pair and Register (KMIP 1.4 §4.1–4.3, 2.0 §6.1.9–6.1.11, .39): the
// Template-Attribute (1.x) or Attributes (2.0) become the key service's request.

const SYMMETRIC = ["AES", "HMAC-SHA256", "HMAC-SHA384", "HMAC-SHA512"] as const;
type SymmetricAlgorithm = (typeof SYMMETRIC)[number];

/** Attributes common to every new object. KMIP's default for Extractable is true (1.4 §3.42). */
function objectAttributes(fields: TemplateFields): ObjectAttributes {
  return {
    names: fields.names,
    usageMask: fields.usageMask,
    activationDate: fields.activationDate,
    deactivationDate: fields.deactivationDate,
    sensitive: fields.sensitive,
    extractable: fields.extractable ?? true,
    customAttributes: fields.customAttributes,
  };
}

function refuseStorageMasks(payload: StructReader, version: Version): void {
  if (version >= V2_0 && payload.has(TAG.ProtectionStorageMasks)) throw notSupported("Protection Storage Masks are not supported: kpki has one storage protection (sealed under the master key)");
}

function symmetricAlgorithm(fields: TemplateFields): SymmetricAlgorithm | undefined {
  const { algorithm } = fields;
  if (algorithm === undefined) return undefined;
  if (!(SYMMETRIC as readonly string[]).includes(algorithm)) throw notSupported(`Cryptographic Algorithm ${algorithm} is not a symmetric algorithm kpki makes (AES, HMAC-SHA256/384/512)`);
  return algorithm as SymmetricAlgorithm;
}

/** Cryptographic Length bounds, as REST's schema (symmetric 8–4096 bits, key pairs 256–4096). */
function checkLength(length: number | undefined, min: number): void {
  if (length !== undefined && (length < min || length > 4096)) throw invalidField(`Cryptographic Length: ${min}–4096 bits`);
}

const objectTypeAndId = (objectType: number, uid: string) => [enumeration(TAG.ObjectType, objectType), textString(TAG.UniqueIdentifier, uid)];

export const CREATE: OperationHandler = {
  code: ENUM.Operation.Create,
  name: "Create",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const objectType = objectTypeOf(payload.enumeration(TAG.ObjectType));
    const fields = templateFields(readAttributeSet(payload, version, { v1: TAG.TemplateAttribute, v2: TAG.Attributes }));
    refuseStorageMasks(payload, version);
    payload.done();
    if (objectType !== "SymmetricKey" && objectType !== "SecretData") throw new KmipError("InvalidObjectType", `Create makes symmetric keys and secret data, not ${objectType} (use Create Key Pair or Register)`);
    if (fields.objectType !== undefined && fields.objectType !== objectType) throw invalidField(`the Object Type attribute (${fields.objectType}) contradicts the payload's (${objectType})`);
    if (fields.curve !== undefined) throw invalidField("Cryptographic Domain Parameters apply to key pairs");
    const algorithm = symmetricAlgorithm(fields);
    checkLength(fields.length, 8);
    const request: CreateRequest = { ...objectAttributes(fields), objectType, algorithm, length: fields.length };
    return async (run) => {
      const result = await run.execute({ operation: "Create", request });
      return objectTypeAndId(OBJECT_TYPE[result.object.objectType], result.object.uid);
    };
  },
};

export const CREATE_KEY_PAIR: OperationHandler = {
  code: ENUM.Operation.CreateKeyPair,
  name: "Create Key Pair",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const v2 = version >= V2_0;
    const common = templateFields(readAttributeSet(payload, version, { v1: TAG.CommonTemplateAttribute, v2: TAG.CommonAttributes }));
    const privateFields = templateFields(readAttributeSet(payload, version, { v1: TAG.PrivateKeyTemplateAttribute, v2: TAG.PrivateKeyAttributes }));
    const publicFields = templateFields(readAttributeSet(payload, version, { v1: TAG.PublicKeyTemplateAttribute, v2: TAG.PublicKeyAttributes }));
    if (v2) {
      for (const tag of [TAG.CommonProtectionStorageMasks, TAG.PrivateProtectionStorageMasks, TAG.PublicProtectionStorageMasks]) {
        if (payload.has(tag)) throw notSupported("Protection Storage Masks are not supported");
      }
    }
    payload.done();
    const all = [common, privateFields, publicFields];
    const agreed = <K extends "algorithm" | "length" | "curve" | "activationDate" | "deactivationDate">(key: K, what: string): TemplateFields[K] | undefined => {
      const comparable = (value: TemplateFields[K]) => (value instanceof Date ? value.getTime() : value);
      const values = [...new Set(all.map((fields) => comparable(fields[key])).filter((value) => value !== undefined))];
      if (values.length > 1) throw invalidField(`the templates give different ${what}`);
      return all.map((fields) => fields[key]).find((value) => value !== undefined);
    };
    const algorithm = agreed("algorithm", "Cryptographic Algorithms");
    if (algorithm === undefined) throw new KmipError("MissingData", "Create Key Pair: Cryptographic Algorithm is required (RSA, EC or Ed25519)");
    if (algorithm !== "RSA" && algorithm !== "EC" && algorithm !== "Ed25519") throw notSupported(`Create Key Pair makes RSA, EC and Ed25519 keys, not ${algorithm}`);
    const curve = agreed("curve", "curves");
    let length = agreed("length", "Cryptographic Lengths");
    if (curve !== undefined) {
      const curveBits = curve === "P-256" ? 256 : 384;
      if (length !== undefined && length !== curveBits) throw invalidField(`Cryptographic Length ${length} contradicts curve ${curve}`);
      length = curveBits;
    }
    checkLength(length, 256);
    for (const fields of all) {
      if (fields.objectType !== undefined && fields.objectType !== "PrivateKey" && fields.objectType !== "PublicKey") throw invalidField(`Object Type ${fields.objectType} in a key pair template`);
    }
    // The key service names both halves alike; different Names per half are not offered.
    const privateNames = [...common.names, ...privateFields.names];
    const publicNames = [...common.names, ...publicFields.names];
    if (privateNames.join("\n") !== publicNames.join("\n")) throw notSupported("different Names for the private and the public key are not supported; give the Name in the Common template");
    const request: CreateKeyPairRequest = {
      ...objectAttributes({
        ...common,
        names: privateNames,
        activationDate: agreed("activationDate", "Activation Dates"),
        deactivationDate: agreed("deactivationDate", "Deactivation Dates"),
        sensitive: privateFields.sensitive ?? common.sensitive,
        extractable: privateFields.extractable ?? common.extractable,
        customAttributes: { ...common.customAttributes, ...privateFields.customAttributes, ...publicFields.customAttributes },
      }),
      algorithm,
      length,
      privateUsageMask: privateFields.usageMask ?? common.usageMask,
      publicUsageMask: publicFields.usageMask ?? common.usageMask,
    };
    return async (run) => {
      const result = await run.execute({ operation: "CreateKeyPair", request });
      return [textString(TAG.PrivateKeyUniqueIdentifier, result.privateKey.uid), textString(TAG.PublicKeyUniqueIdentifier, result.publicKey.uid)];
    };
  },
};

export const REGISTER: OperationHandler = {
  code: ENUM.Operation.Register,
  name: "Register",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const objectType = objectTypeOf(payload.enumeration(TAG.ObjectType));
    const fields = templateFields(readAttributeSet(payload, version, { v1: TAG.TemplateAttribute, v2: TAG.Attributes }));
    const material = decodeObject(objectType, payload.struct(OBJECT_TAG[objectType]));
    refuseStorageMasks(payload, version);
    payload.done();
    if (fields.objectType !== undefined && fields.objectType !== objectType) throw invalidField(`the Object Type attribute (${fields.objectType}) contradicts the payload's (${objectType})`);
    if (fields.algorithm !== undefined && material.algorithm !== undefined && fields.algorithm !== material.algorithm) throw invalidField("the template's Cryptographic Algorithm contradicts the Key Block's");
    if (fields.length !== undefined && material.lengthBits !== undefined && fields.length !== material.lengthBits) throw invalidField("the template's Cryptographic Length contradicts the Key Block's");
    const algorithm = objectType === "SymmetricKey" ? symmetricAlgorithm({ ...fields, algorithm: material.algorithm ?? fields.algorithm }) : undefined;
    if (objectType === "SymmetricKey" && algorithm === undefined) throw new KmipError("MissingData", "Register: a symmetric key needs its Cryptographic Algorithm (Key Block or template)");
    const request: RegisterRequest = { ...objectAttributes(fields), objectType, algorithm, format: material.format, value: material.value };
    return async (run) => {
      const result = await run.execute({ operation: "Register", request });
      return [textString(TAG.UniqueIdentifier, result.object.uid)];
    };
  },
};

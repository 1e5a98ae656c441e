import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import type { CryptographicAlgorithm, ManagedObject, ObjectType, ObjectValue, RegisterRequest } from "../../core/kms/index.js";
import { invalidField, KmipError, notSupported } from "./kmip-error.js";
import type { Version } from "./protocol-version.js";
import { StructReader } from "./struct-reader.js";
import { ENUM } from "./ttlv/enumerations.js";
import { byteString, enumeration, integer, ITEM_TYPE, structure, type TtlvItem } from "./ttlv/item.js";
import { TAG } from "./ttlv/tags.js";
import { algorithmOf, algorithmValue } from "./vocabulary.js";

// Managed objects as KMIP carries them (KMIP 1.4 §2.2, §2.1.3 Key Block): what Get returns and
// Register takes. The key service keeps DER PKCS#8, DER SubjectPublicKeyInfo and raw bytes; the
// other key format types are re-encodings of those, done here with node:crypto.

const F = ENUM.KeyFormatType;

/** The structure tag of each object type's object (Get response, Register request). */
export const OBJECT_TAG: Readonly<Record<ObjectType, number>> = {
  SymmetricKey: TAG.SymmetricKey,
  PublicKey: TAG.PublicKey,
  PrivateKey: TAG.PrivateKey,
  SecretData: TAG.SecretData,
  OpaqueObject: TAG.OpaqueObject,
};

/** The Key Format Type a Get answers with when the client names none (KMIP 1.4 §4.11; PyKMIP expects these). */
function defaultFormat(objectType: ObjectType): number {
  switch (objectType) {
    case "PrivateKey":
      return F.Pkcs8;
    case "PublicKey":
      return F.X509;
    case "SecretData":
      return F.Opaque;
    default:
      return F.Raw;
  }
}

/** Key material in `format` from what the key service returned (its default format for the type). */
function material(object: ManagedObject, der: Buffer, format: number): TtlvItem {
  const refuse = (): never => {
    throw new KmipError("KeyFormatTypeNotSupported", `Key Format Type 0x${format.toString(16)} is not offered for a ${object.algorithm ?? ""} ${object.objectType}`.replace("  ", " "));
  };
  switch (object.objectType) {
    case "SymmetricKey":
      if (format === F.Raw) return byteString(TAG.KeyMaterial, der);
      if (format === F.TransparentSymmetricKey) return structure(TAG.KeyMaterial, [byteString(TAG.Key, der)]);
      return refuse();
    case "SecretData":
      return format === F.Opaque || format === F.Raw ? byteString(TAG.KeyMaterial, der) : refuse();
    case "PrivateKey": {
      if (format === F.Pkcs8) return byteString(TAG.KeyMaterial, der);
      const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
      if (format === F.Pkcs1 && object.algorithm === "RSA") return byteString(TAG.KeyMaterial, key.export({ format: "der", type: "pkcs1" }));
      if (format === F.EcPrivateKey && object.algorithm === "EC") return byteString(TAG.KeyMaterial, key.export({ format: "der", type: "sec1" }));
      return refuse();
    }
    case "PublicKey": {
      if (format === F.X509) return byteString(TAG.KeyMaterial, der);
      if (format === F.Pkcs1 && object.algorithm === "RSA") return byteString(TAG.KeyMaterial, createPublicKey({ key: der, format: "der", type: "spki" }).export({ format: "der", type: "pkcs1" }));
      return refuse();
    }
    case "OpaqueObject":
      return refuse();
  }
}

/** The object structure of a Get response, in the requested Key Format Type (or the default). */
export function encodeObject(got: ObjectValue, requestedFormat: number | undefined, version: Version): TtlvItem {
  const { object } = got;
  const der = Buffer.from(got.value, "base64");
  if (object.objectType === "OpaqueObject") {
    if (requestedFormat !== undefined && requestedFormat !== F.Opaque) throw new KmipError("KeyFormatTypeNotSupported", "an Opaque Object has no key format");
    return structure(TAG.OpaqueObject, [enumeration(TAG.OpaqueDataType, ENUM.OpaqueDataType.None), byteString(TAG.OpaqueDataValue, der)]);
  }
  const format = requestedFormat ?? defaultFormat(object.objectType);
  const algorithm = object.algorithm === undefined ? undefined : algorithmValue(object.algorithm, version);
  const keyBlock = structure(TAG.KeyBlock, [
    enumeration(TAG.KeyFormatType, format),
    structure(TAG.KeyValue, [material(object, der, format)]),
    algorithm === undefined ? undefined : enumeration(TAG.CryptographicAlgorithm, algorithm),
    object.length === undefined || object.objectType === "SecretData" ? undefined : integer(TAG.CryptographicLength, object.length),
  ]);
  if (object.objectType === "SecretData") return structure(TAG.SecretData, [enumeration(TAG.SecretDataType, ENUM.SecretDataType.Seed), keyBlock]);
  return structure(OBJECT_TAG[object.objectType], [keyBlock]);
}

/** What Register needs from the object structure. */
export interface RegisteredMaterial {
  readonly format: RegisterRequest["format"];
  /** base64 DER or raw bytes, as the key service's Register takes them. */
  readonly value: string;
  readonly algorithm?: CryptographicAlgorithm;
  readonly lengthBits?: number;
}

const KEY_TYPE_ALGORITHM: Readonly<Record<string, CryptographicAlgorithm>> = { rsa: "RSA", ec: "EC", ed25519: "Ed25519" };

/** Largest key material Register takes (REST: 16,384 base64 characters). */
const MAX_MATERIAL_BYTES = 12_288;

/** Reads the object of a Register request (its tag follows the Object Type). */
export function decodeObject(objectType: ObjectType, reader: StructReader): RegisteredMaterial {
  const decoded = decodeMaterial(objectType, reader);
  if (Buffer.byteLength(decoded.value, "base64") > MAX_MATERIAL_BYTES) throw invalidField(`key material: at most ${MAX_MATERIAL_BYTES} bytes`);
  return decoded;
}

function decodeMaterial(objectType: ObjectType, reader: StructReader): RegisteredMaterial {
  if (objectType === "OpaqueObject") {
    reader.enumeration(TAG.OpaqueDataType);
    const value = reader.bytes(TAG.OpaqueDataValue);
    reader.done();
    return { format: "raw", value: Buffer.from(value).toString("base64") };
  }
  if (objectType === "SecretData") reader.enumeration(TAG.SecretDataType);
  const block = reader.struct(TAG.KeyBlock, "Key Block");
  reader.done();
  const format = block.enumeration(TAG.KeyFormatType);
  if (block.optionalEnumeration(TAG.KeyCompressionType) !== undefined) throw new KmipError("KeyCompressionTypeNotSupported", "compressed keys are not supported");
  const keyValueItem = block.optionalAny(TAG.KeyValue);
  if (keyValueItem === undefined) throw new KmipError("MissingData", "Key Block: Key Value is required");
  // A Key Value sent as a Byte String is wrapped (1.4 §2.1.4); kpki takes keys in clear over TLS.
  if (keyValueItem.type === ITEM_TYPE.ByteString || block.has(TAG.KeyWrappingData)) throw notSupported("wrapped keys cannot be registered; send the Key Value in clear over the TLS session");
  const algorithmCode = block.optionalEnumeration(TAG.CryptographicAlgorithm);
  const lengthBits = block.optionalInteger(TAG.CryptographicLength);
  block.done();
  const keyValue = StructReader.of(keyValueItem, "Key Value");
  const materialItem = keyValue.optionalAny(TAG.KeyMaterial);
  // 1.x Key Value may also carry Attributes (1.4 §2.1.4); the template is where kpki reads them.
  keyValue.structs(TAG.Attribute);
  keyValue.done();
  if (materialItem === undefined) throw new KmipError("MissingData", "Key Value: Key Material is required");
  const algorithm = algorithmCode === undefined ? undefined : algorithmOf(algorithmCode);
  const common = { ...(algorithm === undefined ? {} : { algorithm }), ...(lengthBits === undefined ? {} : { lengthBits }) };
  const bytes = (): Buffer => {
    if (materialItem.type !== ITEM_TYPE.ByteString) throw invalidField(`Key Material of format 0x${format.toString(16)} is a Byte String`);
    return Buffer.from(materialItem.value);
  };
  const unsupported = (): never => {
    throw new KmipError("KeyFormatTypeNotSupported", `Key Format Type 0x${format.toString(16)} cannot be registered as a ${objectType}`);
  };
  switch (objectType) {
    case "SymmetricKey": {
      let raw: Buffer;
      if (format === F.Raw) raw = bytes();
      else if (format === F.TransparentSymmetricKey) {
        const transparent = StructReader.of(materialItem, "Transparent Symmetric Key");
        raw = Buffer.from(transparent.bytes(TAG.Key));
        transparent.done();
      } else return unsupported();
      if (lengthBits !== undefined && lengthBits !== raw.length * 8) throw invalidField(`Cryptographic Length ${lengthBits} does not match the ${raw.length * 8}-bit key`);
      return { format: "raw", value: raw.toString("base64"), ...common };
    }
    case "SecretData":
      if (format !== F.Opaque && format !== F.Raw) return unsupported();
      return { format: "raw", value: bytes().toString("base64"), ...common };
    case "PrivateKey": {
      const type = format === F.Pkcs8 ? "pkcs8" : format === F.Pkcs1 ? "pkcs1" : format === F.EcPrivateKey ? "sec1" : unsupported();
      const key = parseKey(() => createPrivateKey({ key: bytes(), format: "der", type }), format);
      checkAlgorithm(key, algorithm);
      return { format: "pkcs8", value: key.export({ format: "der", type: "pkcs8" }).toString("base64"), ...common };
    }
    case "PublicKey": {
      const type = format === F.X509 ? "spki" : format === F.Pkcs1 ? "pkcs1" : unsupported();
      const key = parseKey(() => createPublicKey({ key: bytes(), format: "der", type }), format);
      checkAlgorithm(key, algorithm);
      return { format: "spki", value: key.export({ format: "der", type: "spki" }).toString("base64"), ...common };
    }
  }
}

function parseKey(parse: () => KeyObject, format: number): KeyObject {
  try {
    return parse();
  } catch (error) {
    if (error instanceof KmipError) throw error;
    throw invalidField(`Key Material is not a valid key of Key Format Type 0x${format.toString(16)}`);
  }
}

/** The Key Block's Cryptographic Algorithm must name what the material is. */
function checkAlgorithm(key: KeyObject, algorithm: CryptographicAlgorithm | undefined): void {
  const actual = KEY_TYPE_ALGORITHM[key.asymmetricKeyType ?? ""];
  if (algorithm !== undefined && actual !== undefined && actual !== algorithm) throw invalidField(`Cryptographic Algorithm says ${algorithm} but the key is ${actual}`);
}

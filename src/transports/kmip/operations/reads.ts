import type { AttributeValue } from "../../../core/kms/index.js";
import { encodeAttributeValues, kmipAttributeName, reportable, specByName, specByTag } from "../attribute-specs.js";
import { encodeObject } from "../key-block.js";
import { KmipError, notSupported } from "../kmip-error.js";
import { V1_4, V2_0, type Version } from "../protocol-version.js";
import { StructReader } from "../struct-reader.js";
import { ENUM } from "../ttlv/enumerations.js";
import { enumeration, integer, ITEM_TYPE, structure, textString, type TtlvItem } from "../ttlv/item.js";
import { TAG } from "../ttlv/tags.js";
import { OBJECT_TYPE } from "../vocabulary.js";
import type { OperationHandler } from "./operation.js";

// Get, Get Attributes and Get Attribute List (KMIP 1.4 §4.11–4.13, 2.0 §6.1.21–6.1.23).

export const GET: OperationHandler = {
  code: ENUM.Operation.Get,
  name: "Get",
  since: 100,
  undoable: true,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const format = payload.optionalEnumeration(TAG.KeyFormatType);
    if (version >= V1_4) {
      const wrapType = payload.optionalEnumeration(TAG.KeyWrapType);
      // Not Wrapped and As Registered both mean "in clear" here: kpki never stores a key wrapped by a client.
      if (wrapType !== undefined && wrapType !== 1 && wrapType !== 2) throw notSupported(`Key Wrap Type ${wrapType} is not supported`);
    }
    if (payload.has(TAG.KeyCompressionType)) throw new KmipError("KeyCompressionTypeNotSupported", "kpki returns keys uncompressed");
    if (payload.has(TAG.KeyWrappingSpecification)) throw new KmipError(version >= V2_0 ? "KeyWrapTypeNotSupported" : "FeatureNotSupported", "kpki does not wrap keys on Get; the TLS session protects them");
    payload.done();
    return async (run) => {
      const result = await run.execute({ operation: "Get", uid });
      return [enumeration(TAG.ObjectType, OBJECT_TYPE[result.object.objectType]), textString(TAG.UniqueIdentifier, result.object.uid), encodeObject(result, format, run.version)];
    };
  },
};

/** The KMIP names of the attributes a request asks for: 1.x Attribute Name, 2.0 Attribute Reference. */
function requestedNames(payload: StructReader, version: Version): string[] {
  if (version < V2_0) return payload.texts(TAG.AttributeName);
  const names: string[] = [];
  for (;;) {
    const reference = payload.optionalAny(TAG.AttributeReference);
    if (reference === undefined) return names;
    if (reference.type === ITEM_TYPE.Enumeration) {
      const found = specByTag(reference.value, version);
      if (found === undefined) throw new KmipError("UnsupportedAttribute", `Attribute Reference 0x${reference.value.toString(16)} is not an attribute`);
      names.push(found.name);
    } else {
      const vendor = StructReader.of(reference, "Attribute Reference");
      vendor.text(TAG.VendorIdentification);
      names.push(vendor.text(TAG.AttributeName));
      vendor.done();
    }
  }
}

/** The object's attributes under KMIP names that `version` can carry, optionally only `names`. */
function reported(all: Record<string, AttributeValue>, names: readonly string[], version: Version): [string, AttributeValue][] {
  return Object.entries(all)
    .map(([coreName, value]): [string, AttributeValue] => [kmipAttributeName(coreName), value])
    .filter(([name]) => (names.length === 0 || names.includes(name)) && reportable(name, version));
}

/** Attributes in the version's form: 1.x Attribute structures, 2.0 one Attributes structure. */
export function encodeAttributeList(attributes: readonly [string, AttributeValue][], version: Version): TtlvItem[] {
  if (version >= V2_0) {
    return [structure(TAG.Attributes, attributes.flatMap(([name, value]) => encodeAttributeValues(name, value, specByName(name, version)?.tag ?? TAG.Attribute, version)))];
  }
  return attributes.flatMap(([name, value]) =>
    encodeAttributeValues(name, value, TAG.AttributeValue, version).map((encoded, index) =>
      structure(TAG.Attribute, [textString(TAG.AttributeName, name), index === 0 ? undefined : integer(TAG.AttributeIndex, index), encoded]),
    ),
  );
}

export const GET_ATTRIBUTES: OperationHandler = {
  code: ENUM.Operation.GetAttributes,
  name: "Get Attributes",
  since: 100,
  undoable: true,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const names = requestedNames(payload, version);
    payload.done();
    return async (run) => {
      const result = await run.execute({ operation: "GetAttributes", uid });
      return [textString(TAG.UniqueIdentifier, result.uid), ...encodeAttributeList(reported(result.attributes, names, run.version), run.version)];
    };
  },
};

export const GET_ATTRIBUTE_LIST: OperationHandler = {
  code: ENUM.Operation.GetAttributeList,
  name: "Get Attribute List",
  since: 100,
  undoable: true,
  decode(payload) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    payload.done();
    return async (run) => {
      const result = await run.execute({ operation: "GetAttributeList", uid });
      const names = result.names.map(kmipAttributeName).filter((name) => reportable(name, run.version));
      const listed =
        run.version >= V2_0
          ? names.flatMap((name) => {
              const tag = specByName(name, run.version)?.tag;
              return tag === undefined ? [] : [enumeration(TAG.AttributeReference, tag)];
            })
          : names.map((name) => textString(TAG.AttributeName, name));
      return [textString(TAG.UniqueIdentifier, result.uid), ...listed];
    };
  },
};

import type { CryptographicAlgorithm, DateRange, LocateQuery, ObjectType, State } from "../../core/kms/index.js";
import { isCustomName, specByName, specByTag, type AttributeSpec } from "./attribute-specs.js";
import { invalidField, KmipError } from "./kmip-error.js";
import { V2_0, type Version } from "./protocol-version.js";
import { checkText, dateOf, StructReader } from "./struct-reader.js";
import { ITEM_TYPE, itemTypeName, type TtlvItem } from "./ttlv/item.js";
import { describeTag, TAG } from "./ttlv/tags.js";
import { algorithmOf, curveOf, objectTypeOf, stateOf } from "./vocabulary.js";

/** One attribute a request carries, whichever form it came in. */
export interface RequestAttribute {
  readonly name: string;
  readonly value: TtlvItem;
  /** 1.x Attribute Index (which instance of a multi-instance attribute). */
  readonly index?: number;
}

/** A 1.x Attribute structure {Attribute Name, Attribute Index?, Attribute Value?} (1.4 §2.1.1). */
export function readAttributeStructure(reader: StructReader, version: Version, requireValue = true): RequestAttribute & { value: TtlvItem | undefined } {
  if (version >= V2_0) reader.optionalText(TAG.VendorIdentification);
  const name = reader.text(TAG.AttributeName);
  const index = version < V2_0 ? reader.optionalInteger(TAG.AttributeIndex) : undefined;
  const value = reader.optionalAny(TAG.AttributeValue);
  reader.done();
  if (requireValue && value === undefined) throw new KmipError("MissingData", `${reader.what}: Attribute ${name} has no Attribute Value`);
  if (value !== undefined) checkType(name, value, version);
  return { name, value: value as TtlvItem, ...(index === undefined ? {} : { index }) };
}

/** 1.x Template-Attribute {Name*, Attribute*} (1.4 §2.1.8); templates by name are not kept by kpki. */
export function readTemplateAttribute(reader: StructReader, version: Version): RequestAttribute[] {
  if (reader.has(TAG.Name)) throw new KmipError("FeatureNotSupported", `${reader.what}: kpki keeps no Templates, so a Template-Attribute cannot name one`);
  const attributes = reader.structs(TAG.Attribute, "Attribute").map((attribute) => readAttributeStructure(attribute, version));
  reader.done();
  return attributes;
}

/** 2.0 Attributes: each attribute under its own tag; vendor attributes as Attribute (2.0 §4). */
export function readAttributes(reader: StructReader, version: Version): RequestAttribute[] {
  return reader.rest().map((item) => readTaggedAttribute(item, reader.what, version));
}

/** One attribute in the 2.0 form (an item of an Attributes structure, or a New/Current Attribute). */
export function readTaggedAttribute(item: TtlvItem, what: string, version: Version): RequestAttribute {
  if (item.tag === TAG.Attribute) return readAttributeStructure(StructReader.of(item, `${what}: Attribute`), version);
  const found = specByTag(item.tag, version);
  if (found === undefined) throw new KmipError("UnsupportedAttribute", `${what}: ${describeTag(item.tag)} is not a KMIP ${version >= V2_0 ? "2.0 " : ""}attribute`);
  checkType(found.name, item, version);
  return { name: found.name, value: item };
}

/** Either form, by version: Template-Attribute (1.x) or Attributes (2.0) under `tag`. */
export function readAttributeSet(payload: StructReader, version: Version, tags: { v1: number; v2: number }): RequestAttribute[] {
  if (version < V2_0) {
    const template = payload.optionalStruct(tags.v1);
    return template === undefined ? [] : readTemplateAttribute(template, version);
  }
  const attributes = payload.optionalStruct(tags.v2);
  return attributes === undefined ? [] : readAttributes(attributes, version);
}

function checkType(name: string, value: TtlvItem, version: Version): void {
  const found: AttributeSpec | undefined = specByName(name, version);
  if (found === undefined) {
    if (isCustomName(name)) {
      if (value.type !== ITEM_TYPE.TextString) throw invalidField(`custom attribute ${name}: kpki keeps text values only, not ${itemTypeName(value.type)}`);
      return;
    }
    throw new KmipError("UnsupportedAttribute", `${name} is not a KMIP attribute kpki knows in this protocol version`);
  }
  if (value.type !== found.type) throw invalidField(`attribute ${name} must be a ${itemTypeName(found.type)}, not a ${itemTypeName(value.type)}`);
}

/** Longest text value an attribute change or a filter takes (as REST's schema: 1024, Names 255). */
const MAX_TEXT = 1024;
const MAX_NAME = 255;

/** The Name Value of a Name attribute (any Name Type: a URI name is kept as its text). */
export function nameValue(value: TtlvItem): string {
  const reader = StructReader.of(value, "Name");
  const text = reader.text(TAG.NameValue);
  reader.enumeration(TAG.NameType);
  reader.done();
  if (text.length === 0 || text.length > MAX_NAME) throw invalidField(`Name: 1–${MAX_NAME} characters`);
  return text;
}

function boundedText(value: TtlvItem, name: string): string {
  const text = checkText(value.value as string, name);
  if (text.length > MAX_TEXT) throw invalidField(`${name}: at most ${MAX_TEXT} characters`);
  return text;
}

const asNumber = (value: TtlvItem): number => value.value as number;
const asDate = (value: TtlvItem, name: string): Date => dateOf(value.value as bigint, name, value.tag);

/** The curve of a Cryptographic Domain Parameters value {Qlength?, Recommended Curve?}. */
export function curveValue(value: TtlvItem): "P-256" | "P-384" | undefined {
  const reader = StructReader.of(value, "Cryptographic Domain Parameters");
  reader.optionalInteger(TAG.Qlength);
  const curve = reader.optionalEnumeration(TAG.RecommendedCurve);
  reader.done();
  return curve === undefined ? undefined : curveOf(curve);
}

/** What a Create, Create Key Pair or Register template sets, in the key service's terms. */
export interface TemplateFields {
  objectType?: ObjectType;
  algorithm?: CryptographicAlgorithm;
  length?: number;
  usageMask?: number;
  curve?: "P-256" | "P-384";
  names: string[];
  activationDate?: Date;
  deactivationDate?: Date;
  sensitive?: boolean;
  extractable?: boolean;
  customAttributes: Record<string, string>;
}

/** Attributes a client may set when it makes an object (KMIP 1.4 §3 "set by client"). */
export function templateFields(attributes: readonly RequestAttribute[]): TemplateFields {
  const fields: TemplateFields = { names: [], customAttributes: {} };
  const seen = new Set<string>();
  const once = (name: string) => {
    if (seen.has(name)) throw invalidField(`attribute ${name} is given twice`);
    seen.add(name);
  };
  for (const { name, value } of attributes) {
    if (name === "Name") {
      fields.names.push(nameValue(value));
      continue;
    }
    once(name);
    switch (name) {
      case "Object Type":
        fields.objectType = objectTypeOf(asNumber(value));
        break;
      case "Cryptographic Algorithm":
        fields.algorithm = algorithmOf(asNumber(value));
        break;
      case "Cryptographic Length":
        fields.length = asNumber(value);
        break;
      case "Cryptographic Usage Mask":
        fields.usageMask = asNumber(value);
        break;
      case "Cryptographic Domain Parameters": {
        const curve = curveValue(value);
        if (curve !== undefined) fields.curve = curve;
        break;
      }
      case "Activation Date":
        fields.activationDate = asDate(value, name);
        break;
      case "Deactivation Date":
        fields.deactivationDate = asDate(value, name);
        break;
      case "Sensitive":
        fields.sensitive = value.value as boolean;
        break;
      case "Extractable":
        fields.extractable = value.value as boolean;
        break;
      default:
        if (isCustomName(name)) fields.customAttributes[name] = boundedText(value, name);
        else throw new KmipError("UnsupportedAttribute", `attribute ${name} cannot be set by a client of kpki`);
    }
  }
  return fields;
}

/** The text form of an attribute value that Add/Modify/Set/Delete Attribute hand to the key service. */
export function changeValue(attribute: RequestAttribute): string {
  const { name, value } = attribute;
  if (name === "Name") return nameValue(value);
  switch (value.type) {
    case ITEM_TYPE.DateTime:
      return asDate(value, name).toISOString();
    case ITEM_TYPE.Boolean:
      return value.value ? "true" : "false";
    case ITEM_TYPE.TextString:
      return boundedText(value, name);
    case ITEM_TYPE.Integer:
    case ITEM_TYPE.Enumeration:
    case ITEM_TYPE.Interval:
      return String(value.value);
    default:
      // Structures other than Name are server-managed or not kept; the key service refuses them by name.
      return "";
  }
}

/** KMIP Locate criteria (1.4 §4.9) as the key service's query: AND of the given attributes. */
export function locateCriteria(attributes: readonly RequestAttribute[]): Omit<LocateQuery, "now" | "limit" | "after"> {
  const query: { name?: string; objectType?: ObjectType; algorithm?: CryptographicAlgorithm; state?: State; customAttribute?: { name: string; value: string } } = {};
  const dates = new Map<string, Date[]>();
  const single = <K extends keyof typeof query>(key: K, value: (typeof query)[K], name: string) => {
    if (query[key] !== undefined) throw new KmipError("FeatureNotSupported", `Locate by several values of ${name} is not supported`);
    query[key] = value;
  };
  for (const attribute of attributes) {
    const { name, value } = attribute;
    switch (name) {
      case "Name":
        single("name", nameValue(value), name);
        break;
      case "Object Type":
        single("objectType", objectTypeOf(asNumber(value)), name);
        break;
      case "Cryptographic Algorithm":
        single("algorithm", algorithmOf(asNumber(value)), name);
        break;
      case "State":
        single("state", stateOf(asNumber(value)), name);
        break;
      case "Initial Date":
      case "Activation Date":
      case "Deactivation Date":
        dates.set(name, [...(dates.get(name) ?? []), asDate(value, name)]);
        break;
      default:
        if (isCustomName(name)) single("customAttribute", { name, value: boundedText(value, name) }, name);
        else throw new KmipError("FeatureNotSupported", `Locate by ${name} is not supported by kpki`);
    }
  }
  const range = (name: string): DateRange | undefined => {
    const given = dates.get(name);
    if (given === undefined) return undefined;
    if (given.length > 2) throw invalidField(`Locate: ${name} is given ${given.length} times (one date, or two for a range)`);
    // One date matches that second; two are an inclusive range (1.4 §4.9). The key service's `to` is exclusive.
    const from = new Date(Math.min(...given.map((d) => d.getTime())));
    const to = new Date(Math.max(...given.map((d) => d.getTime())) + 1000);
    return { from, to };
  };
  const initialDate = range("Initial Date");
  const activationDate = range("Activation Date");
  const deactivationDate = range("Deactivation Date");
  return {
    ...query,
    ...(initialDate === undefined ? {} : { initialDate }),
    ...(activationDate === undefined ? {} : { activationDate }),
    ...(deactivationDate === undefined ? {} : { deactivationDate }),
  };
}

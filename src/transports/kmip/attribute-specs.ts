import type { AttributeValue, CryptographicAlgorithm, LinkType, ObjectType, RevocationReasonCode, State } from "../../core/kms/index.js";
import { V1_1, V1_2, V1_4, V2_0, type Version } from "./protocol-version.js";
import { ENUM } from "./ttlv/enumerations.js";
import { boolean, dateTime, enumeration, integer, ITEM_TYPE, structure, textString, type ItemType, type TtlvItem } from "./ttlv/item.js";
import { TAG } from "./ttlv/tags.js";
import { algorithmValue, CURVE, LINK_TYPE, OBJECT_TYPE, REVOCATION_REASON, STATE } from "./vocabulary.js";

/** A KMIP attribute: its name (1.x Attribute Name), its tag (2.0 form), the type of its value. */
export interface AttributeSpec {
  readonly name: string;
  readonly tag: number;
  readonly type: ItemType;
  readonly since: Version;
  readonly until?: Version;
}

const spec = (name: string, tag: number, type: ItemType, since: Version = 100, until?: Version): AttributeSpec => ({ name, tag, type, since, ...(until === undefined ? {} : { until }) });
const { Structure, Integer, Enumeration, Boolean, TextString, DateTime, Interval } = ITEM_TYPE;

/**
 * The standard attributes (KMIP 1.4 §3, 2.0 §4) a request may name: those kpki keeps, and the
 * others so that naming one gets a precise refusal instead of "unknown". Operation Policy Name is
 * reserved from 2.0 on (2.0 §4 "(Reserved)").
 */
export const ATTRIBUTE_SPECS: readonly AttributeSpec[] = [
  spec("Unique Identifier", TAG.UniqueIdentifier, TextString),
  spec("Name", TAG.Name, Structure),
  spec("Object Type", TAG.ObjectType, Enumeration),
  spec("Cryptographic Algorithm", TAG.CryptographicAlgorithm, Enumeration),
  spec("Cryptographic Length", TAG.CryptographicLength, Integer),
  spec("Cryptographic Parameters", TAG.CryptographicParameters, Structure),
  spec("Cryptographic Domain Parameters", TAG.CryptographicDomainParameters, Structure),
  spec("Certificate Type", TAG.CertificateType, Enumeration),
  spec("Digest", TAG.Digest, Structure),
  spec("Operation Policy Name", TAG.OperationPolicyName, TextString, 100, V2_0),
  spec("Cryptographic Usage Mask", TAG.CryptographicUsageMask, Integer),
  spec("Lease Time", TAG.LeaseTime, Interval),
  spec("Usage Limits", TAG.UsageLimits, Structure),
  spec("State", TAG.State, Enumeration),
  spec("Initial Date", TAG.InitialDate, DateTime),
  spec("Activation Date", TAG.ActivationDate, DateTime),
  spec("Process Start Date", TAG.ProcessStartDate, DateTime),
  spec("Protect Stop Date", TAG.ProtectStopDate, DateTime),
  spec("Deactivation Date", TAG.DeactivationDate, DateTime),
  spec("Destroy Date", TAG.DestroyDate, DateTime),
  spec("Compromise Occurrence Date", TAG.CompromiseOccurrenceDate, DateTime),
  spec("Compromise Date", TAG.CompromiseDate, DateTime),
  spec("Revocation Reason", TAG.RevocationReason, Structure),
  spec("Archive Date", TAG.ArchiveDate, DateTime),
  spec("Object Group", TAG.ObjectGroup, TextString),
  spec("Fresh", TAG.Fresh, Boolean, V1_1),
  spec("Link", TAG.Link, Structure),
  spec("Application Specific Information", TAG.ApplicationSpecificInformation, Structure),
  spec("Contact Information", TAG.ContactInformation, TextString),
  spec("Last Change Date", TAG.LastChangeDate, DateTime),
  spec("Alternative Name", TAG.AlternativeName, Structure, V1_2),
  spec("Key Value Present", TAG.KeyValuePresent, Boolean, V1_2),
  spec("Key Value Location", TAG.KeyValueLocation, Structure, V1_2),
  spec("Original Creation Date", TAG.OriginalCreationDate, DateTime, V1_2),
  spec("Description", TAG.Description, TextString, V1_4),
  spec("Comment", TAG.Comment, TextString, V1_4),
  spec("Sensitive", TAG.Sensitive, Boolean, V1_4),
  spec("Always Sensitive", TAG.AlwaysSensitive, Boolean, V1_4),
  spec("Extractable", TAG.Extractable, Boolean, V1_4),
  spec("Never Extractable", TAG.NeverExtractable, Boolean, V1_4),
];

const BY_NAME = new Map(ATTRIBUTE_SPECS.map((s) => [s.name, s]));
const BY_TAG = new Map(ATTRIBUTE_SPECS.map((s) => [s.tag, s]));

/** The attribute of this name that exists in `version`. */
export function specByName(name: string, version: Version): AttributeSpec | undefined {
  const found = BY_NAME.get(name);
  return found !== undefined && exists(found, version) ? found : undefined;
}

/** The attribute of this tag (2.0 form) that exists in `version`. */
export function specByTag(tag: number, version: Version): AttributeSpec | undefined {
  const found = BY_TAG.get(tag);
  return found !== undefined && exists(found, version) ? found : undefined;
}

function exists(s: AttributeSpec, version: Version): boolean {
  return s.since <= version && (s.until === undefined || version < s.until);
}

/** kpki keeps the EC curve as "Recommended Curve"; KMIP carries it in Cryptographic Domain Parameters. */
const KMIP_NAME_OF_CORE: Readonly<Record<string, string>> = { "Recommended Curve": "Cryptographic Domain Parameters" };
const CORE_NAME_OF_KMIP: Readonly<Record<string, string>> = { "Cryptographic Domain Parameters": "Recommended Curve" };

export const kmipAttributeName = (coreName: string): string => KMIP_NAME_OF_CORE[coreName] ?? coreName;
export const coreAttributeName = (kmipName: string): string => CORE_NAME_OF_KMIP[kmipName] ?? kmipName;

/** Custom attributes: kpki's `x-` names (KMIP 1.x "x-" client attributes, 2.0 vendor attributes). */
export const isCustomName = (name: string): boolean => name.startsWith("x-");

/**
 * The TTLV values of one attribute the key service reports (attributesOf), under `tag` (1.x:
 * Attribute Value; 2.0: the attribute's own tag). Several values for multi-instance attributes
 * (Name, Link); none when `version` cannot express it.
 */
export function encodeAttributeValues(kmipName: string, value: AttributeValue, tag: number, version: Version): TtlvItem[] {
  const text = () => (typeof value === "string" ? [textString(tag, value)] : []);
  switch (kmipName) {
    case "Unique Identifier":
      return text();
    case "Object Type":
      return [enumeration(tag, OBJECT_TYPE[value as ObjectType])];
    case "Cryptographic Algorithm": {
      const algorithm = algorithmValue(value as CryptographicAlgorithm, version);
      return algorithm === undefined ? [] : [enumeration(tag, algorithm)];
    }
    case "Cryptographic Length":
    case "Cryptographic Usage Mask":
      return [integer(tag, value as number)];
    case "Cryptographic Domain Parameters": {
      const curve = CURVE[value as keyof typeof CURVE];
      return [structure(tag, [enumeration(TAG.RecommendedCurve, curve)])];
    }
    case "State":
      return [enumeration(tag, STATE[value as State])];
    case "Name":
      return (value as readonly string[]).map((name) => structure(tag, [textString(TAG.NameValue, name), enumeration(TAG.NameType, ENUM.NameType.UninterpretedTextString)]));
    case "Link":
      return (value as readonly { type: string; uid: string }[]).map((link) =>
        structure(tag, [enumeration(TAG.LinkType, LINK_TYPE[link.type as LinkType]), textString(TAG.LinkedObjectIdentifier, link.uid)]),
      );
    case "Revocation Reason": {
      const reason = value as { code: RevocationReasonCode; message?: string };
      return [structure(tag, [enumeration(TAG.RevocationReasonCode, REVOCATION_REASON[reason.code]), reason.message === undefined ? undefined : textString(TAG.RevocationMessage, reason.message)])];
    }
    case "Sensitive":
    case "Extractable":
      return [boolean(tag, value as boolean)];
    default: {
      const s = BY_NAME.get(kmipName);
      if (s?.type === ITEM_TYPE.DateTime) return [dateTime(tag, new Date(value as string))];
      return isCustomName(kmipName) ? text() : [];
    }
  }
}

/** Whether kpki can report this attribute in `version` (custom ones in 1.x form only). */
export function reportable(kmipName: string, version: Version): boolean {
  return isCustomName(kmipName) ? version < V2_0 : specByName(kmipName, version) !== undefined;
}

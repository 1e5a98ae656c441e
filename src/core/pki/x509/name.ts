import { invalidInput } from "../../shared/domain-error.js";
import { derError, isStringNode, readDer, readOid, readString, sequenceItems, Tag, type DerNode } from "./der/der-reader.js";
import { derOid, derPrintableString, derSequence, derSet, derUtf8String } from "./der/der-writer.js";
import { AttributeOid } from "./oids.js";

// Distinguished names (RFC 5280 §4.1.2.4) and their RFC 4514 text form.

/** One AttributeTypeAndValue: the type OID and the value as text. */
export interface NameAttribute {
  readonly type: string;
  /** Decoded string; for a non-string value, `#` + hex of its DER (RFC 4514 §2.4). */
  readonly value: string;
  /** The DER AttributeValue as found in a parsed name (absent on values built in code). */
  readonly valueDer?: Uint8Array;
}

/** A parsed Name: its exact DER (issuer/subject comparisons are byte-wise) and its RDNs in order. */
export interface DistinguishedName {
  readonly der: Uint8Array;
  /** RelativeDistinguishedNames from the most general (first in DER) to the most specific. */
  readonly rdns: readonly (readonly NameAttribute[])[];
}

/** The subject attributes kpki issues. */
export interface SubjectFields {
  commonName?: string;
  organization?: readonly string[];
  organizationalUnit?: readonly string[];
  country?: string;
  state?: string;
  locality?: string;
}

// Upper bounds from RFC 5280 Appendix A.1 (ub-common-name, ub-organization-name, …).
const UPPER_BOUNDS: Record<string, number> = {
  [AttributeOid.commonName]: 64,
  [AttributeOid.organization]: 64,
  [AttributeOid.organizationalUnit]: 64,
  [AttributeOid.locality]: 128,
  [AttributeOid.state]: 128,
};
const FIELD_NAMES: Record<string, string> = {
  [AttributeOid.commonName]: "commonName",
  [AttributeOid.organization]: "organization",
  [AttributeOid.organizationalUnit]: "organizationalUnit",
  [AttributeOid.locality]: "locality",
  [AttributeOid.state]: "state",
};
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const EMPTY_NAME = Uint8Array.of(0x30, 0x00);

/**
 * DER Name with one attribute per RDN, in the order Go's crypto/x509 writes them
 * (pkix.Name.ToRDNSequence: C, ST, L, O…, OU…, CN). Values are UTF8String (RFC 5280 §4.1.2.4 MUST
 * for new certificates) except countryName, which X.520 fixes as a two-letter PrintableString.
 */
export function encodeName(fields: SubjectFields): Uint8Array {
  const rdns: Uint8Array[] = [];
  if (fields.country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(fields.country)) throw invalidInput("subject.country", `"${fields.country}" is not a two-letter country code`);
    rdns.push(rdn(AttributeOid.country, derPrintableString(fields.country)));
  }
  const add = (oid: string, value: string | undefined): void => {
    if (value !== undefined) rdns.push(rdn(oid, derUtf8String(checkValue(oid, value))));
  };
  add(AttributeOid.state, fields.state);
  add(AttributeOid.locality, fields.locality);
  for (const o of fields.organization ?? []) add(AttributeOid.organization, o);
  for (const ou of fields.organizationalUnit ?? []) add(AttributeOid.organizationalUnit, ou);
  add(AttributeOid.commonName, fields.commonName);
  return rdns.length === 0 ? EMPTY_NAME.slice() : derSequence(...rdns);
}

function rdn(oid: string, valueDer: Uint8Array): Uint8Array {
  return derSet(derSequence(derOid(oid), valueDer));
}

function checkValue(oid: string, value: string): string {
  const field = `subject.${FIELD_NAMES[oid] ?? oid}`;
  const max = UPPER_BOUNDS[oid] ?? 64;
  const length = [...value].length;
  if (length === 0) throw invalidInput(field, "must not be empty");
  if (length > max) throw invalidInput(field, `is ${length} characters long; the maximum is ${max} (RFC 5280 Appendix A.1)`);
  if (CONTROL.test(value)) throw invalidInput(field, "must not contain control characters");
  return value;
}

/** Parses a DER Name (RDNSequence). */
export function parseName(der: Uint8Array): DistinguishedName {
  return parseNameNode(readDer(der));
}

/** Parses an already-read Name element (used inside certificate and CSR parsing). */
export function parseNameNode(node: DerNode): DistinguishedName {
  const rdns = sequenceItems(node, "Name").map((set) => {
    if (set.tagClass !== "universal" || set.tag !== Tag.SET || set.children.length === 0) {
      throw derError("Name: each RelativeDistinguishedName must be a non-empty SET", set.offset);
    }
    return set.children.map((atv): NameAttribute => {
      const [typeNode, valueNode] = sequenceItems(atv, "AttributeTypeAndValue", 2, 2);
      if (!typeNode || !valueNode) throw derError("Name: malformed AttributeTypeAndValue", atv.offset);
      const type = readOid(typeNode, "attribute type");
      const value = isStringNode(valueNode) ? readString(valueNode, `attribute ${type}`) : `#${hex(valueNode.bytes)}`;
      return { type, value, valueDer: valueNode.bytes };
    });
  });
  return { der: node.bytes, rdns };
}

// RFC 4514 §3 short names, plus the two PKIX attributes operators know from openssl's output.
const SHORT_NAMES: Record<string, string> = {
  [AttributeOid.commonName]: "CN",
  [AttributeOid.locality]: "L",
  [AttributeOid.state]: "ST",
  [AttributeOid.organization]: "O",
  [AttributeOid.organizationalUnit]: "OU",
  [AttributeOid.country]: "C",
  [AttributeOid.streetAddress]: "STREET",
  [AttributeOid.domainComponent]: "DC",
  [AttributeOid.userId]: "UID",
  [AttributeOid.serialNumber]: "serialNumber",
  [AttributeOid.emailAddress]: "emailAddress",
};

/**
 * RFC 4514 string: most specific RDN first, multi-valued RDNs joined by "+", values escaped per
 * §2.4; unknown attribute types as dotted OID with `#` + hex of the value's DER.
 */
export function formatName(dn: DistinguishedName): string {
  return [...dn.rdns]
    .reverse()
    .map((rdnAttrs) =>
      rdnAttrs
        .map((a) => {
          const short = SHORT_NAMES[a.type];
          if (short !== undefined && isStringValue(a)) return `${short}=${escapeValue(a.value)}`;
          return `${short ?? a.type}=#${hex(a.valueDer ?? derUtf8String(a.value))}`;
        })
        .join("+"),
    )
    .join(",");
}

// RFC 4514 §2.4: escape the specials, a leading space or '#', a trailing space; control characters
// are written as \XX (allowed, and what openssl's RFC2253 mode prints).
function escapeValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? "";
    const code = ch.charCodeAt(0);
    if ('"+,;<>\\'.includes(ch) || (i === 0 && (ch === " " || ch === "#")) || (i === value.length - 1 && ch === " ")) {
      out += `\\${ch}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).toUpperCase().padStart(2, "0")}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** The SubjectFields found in a name; repeated single-valued attributes and all others go to `other`. */
export function nameFields(dn: DistinguishedName): SubjectFields & { other: NameAttribute[] } {
  const out: { commonName?: string; organization: string[]; organizationalUnit: string[]; country?: string; state?: string; locality?: string; other: NameAttribute[] } = {
    organization: [],
    organizationalUnit: [],
    other: [],
  };
  const single = { [AttributeOid.commonName]: "commonName", [AttributeOid.country]: "country", [AttributeOid.state]: "state", [AttributeOid.locality]: "locality" } as const;
  for (const a of dn.rdns.flat()) {
    const key = (single as Record<string, "commonName" | "country" | "state" | "locality" | undefined>)[a.type];
    if (!isStringValue(a)) out.other.push(a);
    else if (key !== undefined && out[key] === undefined) out[key] = a.value;
    else if (a.type === AttributeOid.organization) out.organization.push(a.value);
    else if (a.type === AttributeOid.organizationalUnit) out.organizationalUnit.push(a.value);
    else out.other.push(a);
  }
  return out;
}

// Values built in code are strings; parsed ones are strings when their DER tag is a string type.
function isStringValue(a: NameAttribute): boolean {
  const tag = a.valueDer?.[0];
  return tag === undefined || STRING_TAGS.has(tag);
}
const STRING_TAGS = new Set<number>([Tag.UTF8_STRING, Tag.NUMERIC_STRING, Tag.PRINTABLE_STRING, Tag.TELETEX_STRING, Tag.IA5_STRING, Tag.VISIBLE_STRING, Tag.UNIVERSAL_STRING, Tag.BMP_STRING]);

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

import { createHash } from "node:crypto";
import { invalidInput } from "../../shared/domain-error.js";
import { readBitString, readDer, sequenceItems } from "./der/der-reader.js";
import { derBitString, derBoolean, derInteger, derOctetString, derOid, derSequence, derTlv } from "./der/der-writer.js";
import type { CertificateExtensions } from "./certificate-extensions.js";
import { encodeGeneralName, encodeGeneralNames } from "./general-name.js";
import { KEY_USAGES, type KeyUsage } from "./key-usage.js";
import { AccessMethodOid, ExtensionOid } from "./oids.js";

export { KEY_USAGES, type KeyUsage } from "./key-usage.js";
export type { CertificateExtensions, OtherExtension } from "./certificate-extensions.js";

// Certificate extensions (RFC 5280 §4.2) as one typed value, and their DER encoding.

const CRITICAL = derBoolean(true);
const NOT_CRITICAL = new Uint8Array(0); // DEFAULT FALSE is omitted in DER (X.690 §11.5)
const OID = {
  ski: derOid(ExtensionOid.subjectKeyIdentifier),
  ku: derOid(ExtensionOid.keyUsage),
  san: derOid(ExtensionOid.subjectAltName),
  bc: derOid(ExtensionOid.basicConstraints),
  crldp: derOid(ExtensionOid.crlDistributionPoints),
  aki: derOid(ExtensionOid.authorityKeyIdentifier),
  eku: derOid(ExtensionOid.extendedKeyUsage),
  aia: derOid(ExtensionOid.authorityInfoAccess),
};
// Whole Extension encodings that never vary: basicConstraints for a leaf and for an unbounded CA.
const BC_LEAF = extension(OID.bc, true, derSequence());
const BC_CA = extension(OID.bc, true, derSequence(derBoolean(true)));
const KNOWN = new Set<string>(Object.values(ExtensionOid));

function extension(oidDer: Uint8Array, critical: boolean, valueDer: Uint8Array): Uint8Array {
  return derTlv(0x30, oidDer, critical ? CRITICAL : NOT_CRITICAL, derOctetString(valueDer));
}

/** One `Extension` (RFC 5280 §4.1): OID, criticality (omitted when false) and the DER value. */
export function encodeExtension(oid: string, critical: boolean, valueDer: Uint8Array): Uint8Array {
  return extension(derOid(oid), critical, valueDer);
}

/**
 * The `Extensions` SEQUENCE, in Go crypto/x509's order (KU, EKU, BC, SKI, AKI, AIA, SAN, CRL DP,
 * then `other`). Criticality follows RFC 5280: basicConstraints and keyUsage critical
 * (§4.2.1.9, §4.2.1.3), subjectAltName critical only when the subject is empty (§4.2.1.6), the rest
 * not critical. Returns an empty array when there is no extension at all.
 */
export function encodeExtensions(ext: CertificateExtensions, subjectEmpty = false): Uint8Array {
  const parts = encodeExtensionList(ext, subjectEmpty);
  return parts.length === 0 ? new Uint8Array(0) : derTlv(0x30, ...parts);
}

/**
 * The encoded `Extension` elements `encodeExtensions` wraps, for builders that write the SEQUENCE
 * header themselves. Some elements are shared constants: copy them, never modify them.
 */
export function encodeExtensionList(ext: CertificateExtensions, subjectEmpty = false): Uint8Array[] {
  const parts: Uint8Array[] = [];
  if (ext.keyUsage !== undefined) parts.push(extension(OID.ku, true, encodeKeyUsage(ext.keyUsage)));
  if (ext.extendedKeyUsage !== undefined) parts.push(extension(OID.eku, false, encodeExtendedKeyUsage(ext.extendedKeyUsage)));
  if (ext.basicConstraints !== undefined) parts.push(encodeBasicConstraints(ext.basicConstraints));
  if (ext.subjectKeyIdentifier !== undefined) parts.push(extension(OID.ski, false, derOctetString(keyId(ext.subjectKeyIdentifier, "subjectKeyIdentifier"))));
  if (ext.authorityKeyIdentifier !== undefined) {
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } (RFC 5280 §4.2.1.1)
    parts.push(extension(OID.aki, false, derSequence(derTlv(0x80, keyId(ext.authorityKeyIdentifier, "authorityKeyIdentifier")))));
  }
  if (ext.authorityInfoAccess !== undefined) parts.push(extension(OID.aia, false, encodeAuthorityInfoAccess(ext.authorityInfoAccess)));
  if (ext.subjectAltNames !== undefined) parts.push(extension(OID.san, subjectEmpty, encodeGeneralNames(ext.subjectAltNames)));
  if (ext.crlDistributionPoints !== undefined) parts.push(extension(OID.crldp, false, encodeCrlDistributionPoints(ext.crlDistributionPoints)));
  const seen = new Set<string>();
  for (const other of ext.other ?? []) {
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (KNOWN.has(other.oid) && isModelled(ext, other.oid)) throw invalidInput("extensions", `extension ${other.oid} is given twice`);
    if (seen.has(other.oid)) throw invalidInput("extensions", `extension ${other.oid} is given twice`);
    seen.add(other.oid);
    parts.push(extension(derOid(other.oid), other.critical, other.valueDer));
  }
  return parts;
}

function isModelled(ext: CertificateExtensions, oid: string): boolean {
  switch (oid) {
    case ExtensionOid.keyUsage: return ext.keyUsage !== undefined;
    case ExtensionOid.extendedKeyUsage: return ext.extendedKeyUsage !== undefined;
    case ExtensionOid.basicConstraints: return ext.basicConstraints !== undefined;
    case ExtensionOid.subjectKeyIdentifier: return ext.subjectKeyIdentifier !== undefined;
    case ExtensionOid.authorityKeyIdentifier: return ext.authorityKeyIdentifier !== undefined;
    case ExtensionOid.authorityInfoAccess: return ext.authorityInfoAccess !== undefined;
    case ExtensionOid.subjectAltName: return ext.subjectAltNames !== undefined;
    case ExtensionOid.crlDistributionPoints: return ext.crlDistributionPoints !== undefined;
    default: return false;
  }
}

function keyId(id: Uint8Array, field: string): Uint8Array {
  if (id.length === 0 || id.length > 64) throw invalidInput(field, `must be 1 to 64 bytes, not ${id.length}`);
  return id;
}

/** KeyUsage BIT STRING with trailing zero bits removed (DER named-bit rule, X.690 §11.2.2). */
function encodeKeyUsage(usages: readonly KeyUsage[]): Uint8Array {
  if (usages.length === 0) throw invalidInput("keyUsage", "must name at least one usage (RFC 5280 §4.2.1.3)");
  let bits = 0;
  for (const u of usages) {
    const bit = KEY_USAGES.indexOf(u);
    if (bit < 0) throw invalidInput("keyUsage", `unknown key usage "${String(u)}"`);
    bits |= 0x8000 >> bit; // bit 0 is the most significant bit of the first octet
  }
  const bytes = bits & 0xff ? Uint8Array.of(bits >> 8, bits & 0xff) : Uint8Array.of(bits >> 8);
  const last = bytes[bytes.length - 1] ?? 1;
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return derBitString(bytes, unused);
}

function encodeExtendedKeyUsage(purposes: readonly string[]): Uint8Array {
  if (purposes.length === 0) throw invalidInput("extendedKeyUsage", "must name at least one purpose (RFC 5280 §4.2.1.12)");
  if (new Set(purposes).size !== purposes.length) throw invalidInput("extendedKeyUsage", "lists a purpose twice");
  return derSequence(...purposes.map((p) => derOid(p)));
}

function encodeBasicConstraints(bc: { ca: boolean; pathLength?: number }): Uint8Array {
  if (bc.pathLength !== undefined) {
    // RFC 5280 §4.2.1.9: pathLenConstraint only makes sense when cA is TRUE.
    if (!bc.ca) throw invalidInput("basicConstraints", "pathLength is only allowed on a CA");
    if (!Number.isInteger(bc.pathLength) || bc.pathLength < 0 || bc.pathLength > 255) {
      throw invalidInput("basicConstraints", `pathLength ${bc.pathLength} is not an integer in 0–255`);
    }
    return extension(OID.bc, true, derSequence(derBoolean(true), derInteger(bc.pathLength)));
  }
  return bc.ca ? BC_CA : BC_LEAF;
}

const ACCESS_OCSP = derOid(AccessMethodOid.ocsp);
const ACCESS_CA_ISSUERS = derOid(AccessMethodOid.caIssuers);

function encodeAuthorityInfoAccess(aia: { ocsp?: readonly string[]; caIssuers?: readonly string[] }): Uint8Array {
  // RFC 5280 §4.2.2.1: SEQUENCE SIZE (1..MAX) OF AccessDescription { accessMethod, accessLocation }.
  const items = [
    ...(aia.ocsp ?? []).map((uri) => derSequence(ACCESS_OCSP, encodeGeneralName({ type: "uri", value: uri }))),
    ...(aia.caIssuers ?? []).map((uri) => derSequence(ACCESS_CA_ISSUERS, encodeGeneralName({ type: "uri", value: uri }))),
  ];
  if (items.length === 0) throw invalidInput("authorityInfoAccess", "must contain at least one URI");
  return derSequence(...items);
}

export function encodeCrlDistributionPoints(uris: readonly string[]): Uint8Array {
  if (uris.length === 0) throw invalidInput("crlDistributionPoints", "must contain at least one URI");
  // DistributionPoint { distributionPoint [0] { fullName [0] IMPLICIT GeneralNames } } (RFC 5280 §4.2.1.13);
  // [0] around the DistributionPointName CHOICE is explicit, fullName's [0] replaces the SEQUENCE tag.
  return derSequence(...uris.map((uri) => derSequence(derTlv(0xa0, derTlv(0xa0, encodeGeneralName({ type: "uri", value: uri }))))));
}

/**
 * SubjectKeyIdentifier: SHA-1 of the subjectPublicKey BIT STRING contents, excluding the tag,
 * length and unused-bits octet (RFC 5280 §4.2.1.2 method 1; what Go and openssl compute).
 */
export function subjectKeyIdentifier(spkiDer: Uint8Array): Uint8Array {
  const [, keyBits] = sequenceItems(readDer(spkiDer), "SubjectPublicKeyInfo", 2, 2);
  if (keyBits === undefined) throw invalidInput("publicKey", "malformed SubjectPublicKeyInfo");
  const digest = createHash("sha1").update(readBitString(keyBits, "subjectPublicKey").bytes).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export { parseExtensions, parseExtensionsNode } from "./extensions-parser.js";

import { DomainError, invalidInput, isDomainError } from "../../shared/domain-error.js";
import {
  derError,
  isContext,
  readBitString,
  readBoolean,
  readDer,
  readNested,
  readOctetString,
  readOid,
  readSmallInteger,
  sequenceItems,
  Tag,
  type DerNode,
} from "./der/der-reader.js";
import type { CertificateExtensions, OtherExtension } from "./certificate-extensions.js";
import { KEY_USAGES, type KeyUsage } from "./key-usage.js";
import { decodeGeneralName, decodeGeneralNames, type GeneralName } from "./general-name.js";
import { AccessMethodOid, ExtensionOid } from "./oids.js";

// Reading `Extensions` (RFC 5280 §4.1.2.9) into CertificateExtensions.

/**
 * "request": extensions a CSR asks for; values are syntax-checked, names other than DNS/IP/email/URI
 * and unknown critical extensions are refused as unsupported.
 * "certificate": extensions of an existing certificate; anything kpki cannot model is kept in `other`.
 */
export type ExtensionsMode = "request" | "certificate";

/** Parses a DER `Extensions` SEQUENCE; duplicate extension OIDs are refused (RFC 5280 §4.2). */
export function parseExtensions(der: Uint8Array, mode: ExtensionsMode = "certificate"): CertificateExtensions {
  return parseExtensionsNode(readDer(der), mode);
}

/** Same as `parseExtensions` for an already-read node. */
export function parseExtensionsNode(node: DerNode, mode: ExtensionsMode = "certificate"): CertificateExtensions {
  const out: CertificateExtensions = {};
  const other: OtherExtension[] = [];
  const seen = new Set<string>();
  // RFC 5280 §4.1: Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
  for (const item of sequenceItems(node, "Extensions", 1)) {
    const parts = sequenceItems(item, "Extension", 2, 3);
    const [idNode, second, third] = parts;
    if (!idNode || !second) throw derError("Extension: malformed", item.offset);
    const oid = readOid(idNode, "extnID");
    // critical BOOLEAN DEFAULT FALSE; an explicit FALSE is tolerated, as Go and openssl do.
    const critical = third !== undefined ? readBoolean(second, "critical") : false;
    const valueNode = third ?? second;
    readOctetString(valueNode, "extnValue");
    if (seen.has(oid)) throw invalidInput("extensions", `extension ${oid} appears twice (RFC 5280 §4.2)`);
    seen.add(oid);
    try {
      if (!readKnown(out, oid, readNested(valueNode), mode === "request")) {
        if (critical && mode === "request") {
          throw new DomainError("unsupported", `extensions: critical extension ${oid} is not supported`, { field: "extensions" });
        }
        other.push({ oid, critical, valueDer: valueNode.value });
      }
    } catch (error) {
      // A certificate may carry forms kpki does not model (otherName SANs, CRL issuers…): keep them raw.
      if (mode === "certificate" && isDomainError(error) && error.code === "unsupported") {
        other.push({ oid, critical, valueDer: valueNode.value });
      } else {
        throw error;
      }
    }
  }
  if (other.length > 0) out.other = other;
  return out;
}

// Fills the matching field of `out` and returns true, or returns false for an extension not modelled.
function readKnown(out: CertificateExtensions, oid: string, value: DerNode, strict: boolean): boolean {
  switch (oid) {
    case ExtensionOid.basicConstraints:
      out.basicConstraints = readBasicConstraints(value);
      return true;
    case ExtensionOid.keyUsage:
      out.keyUsage = readKeyUsage(value);
      return true;
    case ExtensionOid.extendedKeyUsage:
      out.extendedKeyUsage = sequenceItems(value, "extendedKeyUsage", 1).map((n) => readOid(n, "extendedKeyUsage"));
      return true;
    case ExtensionOid.subjectAltName:
      out.subjectAltNames = decodeGeneralNames(value, strict);
      return true;
    case ExtensionOid.subjectKeyIdentifier:
      out.subjectKeyIdentifier = readOctetString(value, "subjectKeyIdentifier");
      return true;
    case ExtensionOid.authorityKeyIdentifier: {
      const id = readAuthorityKeyId(value);
      if (id !== undefined) out.authorityKeyIdentifier = id;
      return true;
    }
    case ExtensionOid.crlDistributionPoints:
      out.crlDistributionPoints = readCrlDistributionPoints(value, strict);
      return true;
    case ExtensionOid.authorityInfoAccess:
      out.authorityInfoAccess = readAuthorityInfoAccess(value, strict);
      return true;
    default:
      return false;
  }
}

// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
function readBasicConstraints(node: DerNode): { ca: boolean; pathLength?: number } {
  const items = sequenceItems(node, "basicConstraints", 0, 2);
  const first = items[0];
  const hasCa = first !== undefined && first.tagClass === "universal" && first.tag === Tag.BOOLEAN;
  const ca = hasCa ? readBoolean(first, "basicConstraints cA") : false;
  const pathNode = items[hasCa ? 1 : 0];
  if (items.length > (hasCa ? 1 : 0) + 1) throw derError("basicConstraints: unexpected element", node.offset);
  return pathNode === undefined ? { ca } : { ca, pathLength: readSmallInteger(pathNode, "basicConstraints pathLenConstraint") };
}

function readKeyUsage(node: DerNode): KeyUsage[] {
  const { bytes } = readBitString(node, "keyUsage");
  const usages: KeyUsage[] = [];
  for (let byte = 0; byte < bytes.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      if (((bytes[byte] ?? 0) & (0x80 >> bit)) === 0) continue;
      const usage = KEY_USAGES[byte * 8 + bit];
      if (usage === undefined) throw derError(`keyUsage: bit ${byte * 8 + bit} is not defined`, node.offset);
      usages.push(usage);
    }
  }
  return usages;
}

// AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, authorityCertIssuer [1] OPTIONAL,
// authorityCertSerialNumber [2] OPTIONAL } — only keyIdentifier is kept (RFC 5280 §4.2.1.1).
function readAuthorityKeyId(node: DerNode): Uint8Array | undefined {
  const items = sequenceItems(node, "authorityKeyIdentifier", 0, 3);
  let last = -1;
  for (const item of items) {
    if (item.tagClass !== "context" || item.tag > 2 || item.tag <= last) {
      throw derError("authorityKeyIdentifier: unexpected element", item.offset);
    }
    last = item.tag;
  }
  const id = items[0];
  if (!isContext(id, 0)) return undefined;
  if (id.constructed) throw derError("authorityKeyIdentifier: keyIdentifier must be primitive", id.offset);
  return id.value;
}

function readCrlDistributionPoints(node: DerNode, strict: boolean): string[] {
  const uris: string[] = [];
  for (const dp of sequenceItems(node, "crlDistributionPoints", 1)) {
    const [name, ...rest] = sequenceItems(dp, "DistributionPoint", 1, 3);
    const full = name?.children[0];
    if (rest.length > 0 || !isContext(name, 0) || !name.constructed || name.children.length !== 1 || !isContext(full, 0) || !full.constructed) {
      throw new DomainError("unsupported", "crlDistributionPoints: only full-name URIs are supported", { field: "extensions" });
    }
    if (full.children.length === 0) throw derError("crlDistributionPoints: empty fullName", full.offset);
    for (const gn of full.children) uris.push(uriOnly(decodeGeneralName(gn, strict, "crlDistributionPoints"), "crlDistributionPoints"));
  }
  return uris;
}

function readAuthorityInfoAccess(node: DerNode, strict: boolean): { ocsp?: string[]; caIssuers?: string[] } {
  const ocsp: string[] = [];
  const caIssuers: string[] = [];
  for (const ad of sequenceItems(node, "authorityInfoAccess", 1)) {
    const [methodNode, locationNode] = sequenceItems(ad, "AccessDescription", 2, 2);
    if (!methodNode || !locationNode) throw derError("authorityInfoAccess: malformed", ad.offset);
    const method = readOid(methodNode, "accessMethod");
    const uri = uriOnly(decodeGeneralName(locationNode, strict, "authorityInfoAccess"), "authorityInfoAccess");
    if (method === AccessMethodOid.ocsp) ocsp.push(uri);
    else if (method === AccessMethodOid.caIssuers) caIssuers.push(uri);
    else throw new DomainError("unsupported", `authorityInfoAccess: access method ${method} is not supported`, { field: "extensions" });
  }
  return { ...(ocsp.length > 0 ? { ocsp } : {}), ...(caIssuers.length > 0 ? { caIssuers } : {}) };
}

function uriOnly(gn: GeneralName, field: string): string {
  if (gn.type !== "uri") throw new DomainError("unsupported", `${field}: only URI locations are supported`, { field: "extensions" });
  return gn.value;
}

import { DomainError, invalidInput } from "../../shared/domain-error.js";
import { derError, readString, Tag, type DerNode } from "./der/der-reader.js";
import { derTlv } from "./der/der-writer.js";
import { formatIpAddress, parseIpAddress } from "./ip-address.js";

// The four GeneralName choices kpki issues and accepts (RFC 5280 §4.2.1.6).

/** A subject alternative name; IPs are canonical text (IPv4 dotted, IPv6 RFC 5952). */
export type GeneralName =
  | { type: "dns"; value: string }
  | { type: "ip"; value: string }
  | { type: "email"; value: string }
  | { type: "uri"; value: string };

// Context tag numbers of the GeneralName CHOICE (RFC 5280 Appendix A.2).
const TAG = { email: 1, dns: 2, uri: 6, ip: 7 } as const;
const CHOICE_NAMES = ["otherName", "rfc822Name", "dNSName", "x400Address", "directoryName", "ediPartyName", "uniformResourceIdentifier", "iPAddress", "registeredID"];

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;

/** Why `name` is not a host name (LDH labels, optional leading "*." wildcard, ≤ 253 chars), or undefined if it is. */
export function dnsNameProblem(name: string): string | undefined {
  const host = name.startsWith("*.") ? name.slice(2) : name;
  if (name.length > 253) return `DNS name is longer than 253 characters`;
  // RFC 5280 §4.2.1.6 uses the preferred name syntax of RFC 1034 §3.5 (relaxed by RFC 1123 §2.1 for digits).
  if (host === "" || !host.split(".").every((label) => LABEL.test(label))) return `"${name}" is not a valid DNS name`;
  return undefined;
}

/** Why `address` is not an rfc822Name mailbox (RFC 5280 §4.2.1.6, RFC 5321 §4.1.2 dot-atom), or undefined. */
export function emailProblem(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (at <= 0 || local.length > 64 || !DOT_ATOM.test(local) || domain.startsWith("*.") || dnsNameProblem(domain) !== undefined) {
    return `"${address}" is not a valid email address`;
  }
  return undefined;
}

/** Why `uri` is not an absolute URI (RFC 3986 §4.3, ASCII, no spaces), or undefined. */
export function uriProblem(uri: string): string | undefined {
  return ABSOLUTE_URI.test(uri) ? undefined : `"${uri}" is not an absolute URI`;
}

/** Checks a GeneralName's syntax and returns it with a canonical value (IPs normalised). */
export function validateGeneralName(gn: GeneralName, field = "subjectAltName"): GeneralName {
  switch (gn.type) {
    case "dns":
      check(dnsNameProblem(gn.value), field);
      return gn;
    case "email":
      check(emailProblem(gn.value), field);
      return gn;
    case "uri":
      check(uriProblem(gn.value), field);
      return gn;
    case "ip": {
      const octets = parseIpAddress(gn.value);
      if (!octets) throw invalidInput(field, `"${gn.value}" is not an IP address`);
      return { type: "ip", value: formatIpAddress(octets) };
    }
  }
}

function check(problem: string | undefined, field: string): void {
  if (problem !== undefined) throw invalidInput(field, problem);
}

/** DER of one GeneralName (validated): `[1]`/`[2]`/`[6]` IA5String or `[7]` OCTET STRING, all IMPLICIT. */
export function encodeGeneralName(gn: GeneralName): Uint8Array {
  if (gn.type === "ip") {
    const octets = parseIpAddress(gn.value);
    if (!octets) throw invalidInput("subjectAltName", `"${gn.value}" is not an IP address`);
    return derTlv(0x80 | TAG.ip, octets);
  }
  validateGeneralName(gn);
  // The validators above only admit ASCII, so one byte per character is exact.
  const out = new Uint8Array(gn.value.length);
  for (let i = 0; i < gn.value.length; i++) out[i] = gn.value.charCodeAt(i);
  return derTlv(0x80 | TAG[gn.type], out);
}

/** DER of `GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName`. */
export function encodeGeneralNames(names: readonly GeneralName[]): Uint8Array {
  if (names.length === 0) throw invalidInput("subjectAltName", "must contain at least one name (RFC 5280 §4.2.1.6)");
  return derTlv(0x30, ...names.map(encodeGeneralName));
}

/**
 * Decodes one GeneralName. Choices other than the four above are refused as `unsupported`.
 * `strict` also checks the syntax of the value (used for CSRs, whose content we will sign).
 */
export function decodeGeneralName(node: DerNode, strict: boolean, field = "subjectAltName"): GeneralName {
  const choice = CHOICE_NAMES[node.tag] ?? `[${node.tag}]`;
  if (node.tagClass !== "context" || node.tag > 8) throw derError(`${field}: not a GeneralName`, node.offset);
  if (node.tag !== TAG.dns && node.tag !== TAG.ip && node.tag !== TAG.email && node.tag !== TAG.uri) {
    throw new DomainError("unsupported", `${field}: ${choice} entries are not supported (only DNS, IP, email and URI names)`, { field });
  }
  if (node.constructed) throw derError(`${field}: ${choice} must be primitive`, node.offset);
  if (node.tag === TAG.ip) {
    if (node.value.length !== 4 && node.value.length !== 16) {
      throw derError(`${field}: iPAddress must have 4 or 16 octets, found ${node.value.length}`, node.offset);
    }
    return { type: "ip", value: formatIpAddress(node.value) };
  }
  const value = readString({ ...node, tag: Tag.IA5_STRING, tagClass: "universal" }, `${field} ${choice}`);
  const type = node.tag === TAG.dns ? "dns" : node.tag === TAG.email ? "email" : "uri";
  const gn: GeneralName = { type, value };
  return strict ? validateGeneralName(gn, field) : gn;
}

/** Decodes `GeneralNames` (a non-empty SEQUENCE OF GeneralName). */
export function decodeGeneralNames(node: DerNode, strict: boolean, field = "subjectAltName"): GeneralName[] {
  if (node.tagClass !== "universal" || node.tag !== Tag.SEQUENCE) throw derError(`${field}: expected a SEQUENCE of names`, node.offset);
  if (node.children.length === 0) throw derError(`${field}: empty list of names`, node.offset);
  return node.children.map((child) => decodeGeneralName(child, strict, field));
}

const TEXT_PREFIX: Record<GeneralName["type"], string> = { dns: "DNS", ip: "IP", email: "email", uri: "URI" };

/** Display form used by openssl and Go: `DNS:x`, `IP:x`, `email:x`, `URI:x`. */
export function formatGeneralName(gn: GeneralName): string {
  return `${TEXT_PREFIX[gn.type]}:${gn.value}`;
}

/** Inverse of `formatGeneralName` (prefix case-insensitive); validates and canonicalises the value. */
export function parseGeneralNameText(text: string, field = "subjectAltName"): GeneralName {
  const colon = text.indexOf(":");
  const prefix = text.slice(0, colon).toLowerCase();
  const value = text.slice(colon + 1);
  const type = prefix === "dns" ? "dns" : prefix === "ip" ? "ip" : prefix === "email" ? "email" : prefix === "uri" ? "uri" : undefined;
  if (colon < 0 || type === undefined) throw invalidInput(field, `"${text}" must start with DNS:, IP:, email: or URI:`);
  return validateGeneralName({ type, value }, field);
}

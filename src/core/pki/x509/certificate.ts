import { createHash } from "node:crypto";
import type { KeyAlgorithm } from "../../crypto/algorithms.js";
import { DomainError, invalidInput } from "../../shared/domain-error.js";
import { derError, isContext, readBitString, readDer, readIntegerBytes, readSmallInteger, readTime, sequenceItems, type DerNode } from "./der/der-reader.js";
import { parseExtensionsNode, type CertificateExtensions } from "./extensions.js";
import { withField } from "./field-error.js";
import { parseNameNode, type DistinguishedName } from "./name.js";
import { inspectPublicKeyNode } from "./public-key.js";
import { verifySignature } from "./signature-algorithm.js";

// Reading X.509 certificates (RFC 5280 §4.1), strictly.

/** A parsed certificate. Byte fields are views into the input DER. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** The signed TBSCertificate bytes. */
  readonly tbsDer: Uint8Array;
  /** Lower-case hex of the serial INTEGER contents without a leading 00 sign byte. */
  readonly serialHex: string;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeySpki: Uint8Array;
  readonly publicKeyAlgorithm: KeyAlgorithm;
  /** Empty for a v1 certificate. */
  readonly extensions: CertificateExtensions;
  /** DER AlgorithmIdentifier of the signature (interpreted only on verification). */
  readonly signatureAlgorithmDer: Uint8Array;
  readonly signature: Uint8Array;
  /** Lower-case hex SHA-256 of the whole DER. */
  readonly fingerprintSha256: string;
}

/**
 * Parses a DER certificate, v3 or v1. Strict DER; the inner and outer signature algorithms must
 * match (RFC 5280 §4.1.1.2), the serial must not be negative, the issuer must not be empty.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  return withField("certificate", () => {
    const root = readDer(der);
    const [tbs, algorithmNode, signatureNode] = sequenceItems(root, "Certificate", 3, 3);
    if (!tbs || !algorithmNode || !signatureNode) throw derError("Certificate: malformed", root.offset);
    const items = sequenceItems(tbs, "TBSCertificate", 6, 10);
    let i = 0;
    let version = 1;
    const first = items[0];
    if (isContext(first, 0)) {
      const [versionNode] = first.children;
      if (!first.constructed || first.children.length !== 1 || !versionNode) throw derError("version: malformed [0]", first.offset);
      const encoded = readSmallInteger(versionNode, "version");
      // Version DEFAULT v1: DER omits v1 (X.690 §11.5); v2 (1) is not something kpki will accept.
      if (encoded === 0) throw derError("version: v1 must be omitted, not encoded", first.offset);
      if (encoded !== 2) throw new DomainError("unsupported", `certificate: X.509 version ${encoded + 1} is not supported (v1 or v3)`, { field: "certificate" });
      version = 3;
      i = 1;
    }
    const next = (what: string): DerNode => {
      const node = items[i++];
      if (!node) throw derError(`TBSCertificate: ${what} missing`, tbs.offset);
      return node;
    };
    const serial = readIntegerBytes(next("serialNumber"), "serialNumber");
    if ((serial[0] ?? 0) & 0x80) throw invalidInput("certificate", "serial number is negative (RFC 5280 §4.1.2.2)");
    const innerAlgorithm = next("signature");
    if (!sameBytes(innerAlgorithm.bytes, algorithmNode.bytes)) {
      throw invalidInput("certificate", "TBSCertificate signature algorithm differs from the outer one (RFC 5280 §4.1.1.2)");
    }
    const issuer = parseNameNode(next("issuer"));
    if (issuer.rdns.length === 0) throw invalidInput("certificate", "issuer name is empty (RFC 5280 §4.1.2.4)");
    const [notBeforeNode, notAfterNode] = sequenceItems(next("validity"), "Validity", 2, 2);
    if (!notBeforeNode || !notAfterNode) throw derError("Validity: malformed", tbs.offset);
    const subject = parseNameNode(next("subject"));
    const spki = next("subjectPublicKeyInfo");
    const key = inspectPublicKeyNode(spki);
    let extensions: CertificateExtensions = {};
    // issuerUniqueID [1] and subjectUniqueID [2] (IMPLICIT BIT STRING) are skipped; extensions [3] last.
    for (const [tag, what] of [[1, "issuerUniqueID"], [2, "subjectUniqueID"], [3, "extensions"]] as const) {
      const node = items[i];
      if (!isContext(node, tag)) continue;
      if (version === 1) throw derError(`${what} is not allowed in a v1 certificate`, node.offset);
      if (tag === 3) {
        const [inner] = node.children;
        if (!node.constructed || node.children.length !== 1 || !inner) throw derError("extensions: malformed [3]", node.offset);
        extensions = parseExtensionsNode(inner, "certificate");
      } else if (node.constructed) {
        throw derError(`${what} must be primitive`, node.offset);
      }
      i++;
    }
    if (i !== items.length) throw derError("TBSCertificate: unexpected trailing element", items[i]?.offset);
    const { bytes: signature } = readBitString(signatureNode, "signatureValue");
    return {
      der: root.bytes,
      tbsDer: tbs.bytes,
      serialHex: hex(serial[0] === 0 && serial.length > 1 ? serial.subarray(1) : serial),
      issuer,
      subject,
      notBefore: readTime(notBeforeNode, "notBefore"),
      notAfter: readTime(notAfterNode, "notAfter"),
      publicKeySpki: spki.bytes,
      publicKeyAlgorithm: key.algorithm,
      extensions,
      signatureAlgorithmDer: algorithmNode.bytes,
      signature,
      fingerprintSha256: createHash("sha256").update(root.bytes).digest("hex"),
    };
  });
}

/**
 * Whether `cert`'s signature verifies with the issuer's DER SubjectPublicKeyInfo. Checks the
 * signature only; name chaining and validity are the caller's path-validation concern.
 */
export function verifyIssuedBy(cert: ParsedCertificate, issuerSpkiDer: Uint8Array): boolean {
  return verifySignature(issuerSpkiDer, cert.signatureAlgorithmDer, cert.tbsDer, cert.signature);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

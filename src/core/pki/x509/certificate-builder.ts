import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { invalidInput } from "../../shared/domain-error.js";
import { concatBytes, derBitString, derHeader, derInteger, derSequence, derTime } from "./der/der-writer.js";
import { encodeExtensionList, type CertificateExtensions } from "./extensions.js";
import { signatureAlgorithmIdentifier } from "./signature-algorithm.js";

// The issuance hot path: a TBSCertificate (RFC 5280 §4.1) written straight to DER from a template.
// Constant parts are precomputed; each call allocates the pieces once and copies them once.

/** Everything a certificate says, except the signature itself. */
export interface CertificateTemplate {
  /** Unsigned big-endian serial; at most 20 octets once encoded as a positive INTEGER (RFC 5280 §4.1.2.2). */
  serialNumber: Uint8Array;
  /** DER Name of the issuer: the issuing CA's subject, byte for byte (RFC 5280 §4.1.2.4). */
  issuerNameDer: Uint8Array;
  subjectNameDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  subjectPublicKeySpki: Uint8Array;
  extensions: CertificateExtensions;
  signatureAlgorithm: SignatureAlgorithm;
}

const VERSION_3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02); // [0] EXPLICIT INTEGER 2 (v3)
const NOTHING = new Uint8Array(0);

/** DER TBSCertificate, always v3 (RFC 5280 §4.1.2.1), with the extensions in `[3] EXPLICIT`. */
export function encodeTbsCertificate(t: CertificateTemplate): Uint8Array {
  const serial = derInteger(t.serialNumber);
  // serial = 02 len contents; a zero serial encodes as 02 01 00.
  if (serial.length - 2 > 20) throw invalidInput("serialNumber", "is longer than 20 octets (RFC 5280 §4.1.2.2)");
  if (serial.length === 3 && serial[2] === 0) throw invalidInput("serialNumber", "must be positive (RFC 5280 §4.1.2.2)");
  if (!(t.notBefore.getTime() <= t.notAfter.getTime())) throw invalidInput("validity", "notAfter is before notBefore");
  const subjectEmpty = t.subjectNameDer.length === 2 && t.subjectNameDer[1] === 0x00;
  // RFC 5280 §4.1.2.6: an empty subject requires a (critical) subjectAltName.
  if (subjectEmpty && (t.extensions.subjectAltNames?.length ?? 0) === 0) throw invalidInput("subject", "an empty subject needs subjectAltNames (RFC 5280 §4.1.2.6)");
  const parts: Uint8Array[] = [
    NOTHING, // TBSCertificate header, filled in below
    VERSION_3,
    serial,
    signatureAlgorithmIdentifier(t.signatureAlgorithm),
    t.issuerNameDer,
    derSequence(derTime(t.notBefore), derTime(t.notAfter)),
    t.subjectNameDer,
    t.subjectPublicKeySpki,
  ];
  const extensions = encodeExtensionList(t.extensions, subjectEmpty);
  if (extensions.length > 0) {
    // [3] EXPLICIT Extensions: both headers written here so the extensions are copied only once.
    let length = 0;
    for (const e of extensions) length += e.length;
    const sequenceHeader = derHeader(0x30, length);
    parts.push(derHeader(0xa3, sequenceHeader.length + length), sequenceHeader, ...extensions);
  }
  let length = 0;
  for (let i = 1; i < parts.length; i++) length += (parts[i] as Uint8Array).length;
  parts[0] = derHeader(0x30, length);
  return concatBytes(...parts);
}

/** DER Certificate: TBSCertificate, the signature's AlgorithmIdentifier and the signature (RFC 5280 §4.1.1). */
export function assembleCertificate(tbsDer: Uint8Array, signatureAlgorithm: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return derSequence(tbsDer, signatureAlgorithmIdentifier(signatureAlgorithm), derBitString(signature));
}

import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { derBitString, derOid, derSequence, derSet, derTlv } from "./der/der-writer.js";
import { encodeExtensions, type CertificateExtensions } from "./extensions.js";
import { Pkcs9Oid } from "./oids.js";
import { signatureAlgorithmIdentifier } from "./signature-algorithm.js";

// Building PKCS #10 requests (RFC 2986 §4) for CAs whose certificate an external CA signs.

const VERSION_1 = Uint8Array.of(0x02, 0x01, 0x00);
const NO_ATTRIBUTES = Uint8Array.of(0xa0, 0x00);
const EXTENSION_REQUEST = derOid(Pkcs9Oid.extensionRequest);

/**
 * DER CertificationRequestInfo (the bytes to sign): version 0, subject, key, and the requested
 * extensions as a PKCS #9 extensionRequest attribute (RFC 2985 §5.4.2) when there are any.
 */
export function encodeCertificationRequestInfo(subjectDer: Uint8Array, spkiDer: Uint8Array, extensions?: CertificateExtensions): Uint8Array {
  const subjectEmpty = subjectDer.length === 2 && subjectDer[0] === 0x30 && subjectDer[1] === 0x00;
  const extensionsDer = extensions === undefined ? new Uint8Array(0) : encodeExtensions(extensions, subjectEmpty);
  // attributes [0] IMPLICIT SET OF Attribute: the SET's tag becomes [0] constructed.
  const attributes = extensionsDer.length === 0 ? NO_ATTRIBUTES : derTlv(0xa0, derSequence(EXTENSION_REQUEST, derSet(extensionsDer)));
  return derSequence(VERSION_1, subjectDer, spkiDer, attributes);
}

/** DER CertificationRequest: the signed info, the signature's AlgorithmIdentifier and the signature. */
export function assembleCertificateRequest(criDer: Uint8Array, signatureAlgorithm: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return derSequence(criDer, signatureAlgorithmIdentifier(signatureAlgorithm), derBitString(signature));
}

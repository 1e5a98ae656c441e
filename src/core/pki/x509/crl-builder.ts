import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { invalidInput } from "../../shared/domain-error.js";
import { derError, readDer, readIntegerBytes, sequenceItems, Tag } from "./der/der-reader.js";
import { derBitString, derContextExplicit, derContextImplicit, derInteger, derSequence, derSequenceOf, derTime, derTlv } from "./der/der-writer.js";
import { encodeCrlDistributionPoints, encodeExtension } from "./extensions.js";
import { CrlExtensionOid, ExtensionOid } from "./oids.js";
import { signatureAlgorithmIdentifier } from "./signature-algorithm.js";

/** One revoked certificate as a CRL lists it (RFC 5280 §5.1.2.6). */
export interface CrlEntry {
  /** Unsigned big-endian serial, as in the certificate. */
  readonly serialNumber: Uint8Array;
  readonly revocationDate: Date;
  /** CRLReason code (§5.3.1); 0 (unspecified) is not written, as §5.3.1 recommends. */
  readonly reasonCode: number;
}

/** Everything a CRL says, except the signature. */
export interface CrlTemplate {
  readonly issuerNameDer: Uint8Array;
  readonly authorityKeyId: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** CRL number (§5.2.3): one increasing sequence per CA, shared by complete and delta CRLs. */
  readonly number: bigint;
  /** For a delta CRL: the number of the complete CRL it updates (§5.2.4), written critical. */
  readonly baseNumber?: bigint;
  /** For a complete CRL: where its delta CRLs are (Freshest CRL, §5.2.6). */
  readonly freshestCrlUrl?: string;
  readonly entries: readonly CrlEntry[];
  readonly signatureAlgorithm: SignatureAlgorithm;
}

const VERSION_2 = derInteger(1); // v2: required once extensions are present (§5.1.2.1)
// CRLNumber is 0..MAX and at most 20 octets (§5.2.3).
const MAX_CRL_NUMBER = (1n << 159n) - 1n;

/** DER TBSCertList (RFC 5280 §5.1.2), version 2 with AKI and CRL number. */
export function encodeTbsCertList(t: CrlTemplate): Uint8Array {
  if (t.number < 0n || t.number > MAX_CRL_NUMBER) throw invalidInput("number", "a CRL number is 0 to 2^159-1 (RFC 5280 §5.2.3)");
  if (t.nextUpdate.getTime() < t.thisUpdate.getTime()) throw invalidInput("nextUpdate", "is before thisUpdate");
  const extensions = [
    encodeExtension(ExtensionOid.authorityKeyIdentifier, false, derSequence(derContextImplicit(0, t.authorityKeyId))),
    encodeExtension(CrlExtensionOid.crlNumber, false, derInteger(t.number)),
  ];
  if (t.baseNumber !== undefined) extensions.push(encodeExtension(CrlExtensionOid.deltaCrlIndicator, true, derInteger(t.baseNumber)));
  if (t.freshestCrlUrl !== undefined) {
    // FreshestCRL has the CRLDistributionPoints syntax (§5.2.6).
    extensions.push(encodeExtension(CrlExtensionOid.freshestCrl, false, encodeCrlDistributionPoints([t.freshestCrlUrl])));
  }
  const parts = [VERSION_2, signatureAlgorithmIdentifier(t.signatureAlgorithm), t.issuerNameDer, derTime(t.thisUpdate), derTime(t.nextUpdate)];
  // An empty revokedCertificates must be absent, not an empty SEQUENCE (§5.1.2.6).
  // revokedCertificates: any number of entries, so no argument spread (derSequenceOf).
  if (t.entries.length > 0) parts.push(derSequenceOf(t.entries.map(encodeEntry)));
  parts.push(derContextExplicit(0, derSequence(...extensions)));
  return derSequence(...parts);
}

function encodeEntry(entry: CrlEntry): Uint8Array {
  const fields = [derInteger(entry.serialNumber), derTime(entry.revocationDate)];
  if (entry.reasonCode !== 0) {
    fields.push(derSequence(encodeExtension(CrlExtensionOid.reasonCode, false, derTlv(0x0a, Uint8Array.of(entry.reasonCode)))));
  }
  return derSequence(...fields);
}

/** DER CertificateList (§5.1.1). */
export function assembleCrl(tbsDer: Uint8Array, signatureAlgorithm: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return derSequence(tbsDer, signatureAlgorithmIdentifier(signatureAlgorithm), derBitString(signature));
}

/**
 * The serial numbers (lower-case hex of the INTEGER contents, as the inventory stores them) a
 * DER CRL lists: what a delta CRL must not repeat from its base (§5.2.4).
 */
export function crlSerials(der: Uint8Array): ReadonlySet<string> {
  const [tbs] = sequenceItems(readDer(der), "CertificateList", 3, 3);
  if (tbs === undefined) throw derError("CertificateList: malformed");
  // version, signature, issuer, thisUpdate, nextUpdate, then revokedCertificates when it is a SEQUENCE.
  const revoked = tbs.children[5];
  const serials = new Set<string>();
  if (revoked === undefined || revoked.tagClass !== "universal" || revoked.tag !== Tag.SEQUENCE) return serials;
  for (const entry of sequenceItems(revoked, "revokedCertificates")) {
    const [serial] = sequenceItems(entry, "revokedCertificate", 2, 3);
    if (serial !== undefined) serials.add(Buffer.from(readIntegerBytes(serial, "userCertificate")).toString("hex"));
  }
  return serials;
}

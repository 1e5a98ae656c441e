import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { invalidInput } from "../../shared/domain-error.js";
import { derError, isContext, readBitString, readDer, readIntegerBytes, readOctetString, readOid, sequenceItems, type DerNode } from "./der/der-reader.js";
import { concatBytes, derBitString, derContextExplicit, derContextImplicit, derGeneralizedTime, derOctetString, derOid, derSequence, derTlv } from "./der/der-writer.js";
import { withField } from "./field-error.js";
import { OcspOid } from "./oids.js";
import { signatureAlgorithmIdentifier } from "./signature-algorithm.js";

// OCSP (RFC 6960): the request a relying party sends and the signed answer.

/** CertID (§4.1.1): which certificate, named by hashes of its issuer and its serial. */
export interface OcspCertId {
  /** "sha1" (what openssl and most clients send) or "sha256". */
  readonly hash: "sha1" | "sha256";
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** Unsigned big-endian serial. */
  readonly serialNumber: Uint8Array;
  /** The CertID's DER, echoed unchanged in the answer. */
  readonly der: Uint8Array;
}

export interface OcspRequest {
  readonly certIds: readonly OcspCertId[];
  /** The nonce extension's value (§4.4.1), echoed in the answer when present. */
  readonly nonce?: Uint8Array;
}

/** At most this many certificates per request: a request is one relying party checking a chain. */
export const MAX_OCSP_REQUESTS = 16;

const HASH_BY_OID: Readonly<Record<string, OcspCertId["hash"]>> = { [OcspOid.sha1]: "sha1", [OcspOid.sha256]: "sha256" };

/**
 * Parses a DER OCSPRequest (§4.1.1). The optional requestor signature is not checked: kpki
 * answers anyone (revocation status is public) and signs every answer itself.
 */
export function parseOcspRequest(der: Uint8Array): OcspRequest {
  return withField("ocspRequest", () => {
    const root = readDer(der);
    const [tbs] = sequenceItems(root, "OCSPRequest", 1, 2);
    if (tbs === undefined) throw derError("OCSPRequest: tbsRequest missing", root.offset);
    // TBSRequest ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, requestorName [1] EXPLICIT OPTIONAL, requestList, requestExtensions [2] EXPLICIT OPTIONAL }
    const items = sequenceItems(tbs, "TBSRequest", 1, 4);
    let index = 0;
    if (isContext(items[index], 0)) index++;
    if (isContext(items[index], 1)) index++;
    const requestList = items[index++];
    if (requestList === undefined) throw derError("TBSRequest: requestList missing", tbs.offset);
    const requests = sequenceItems(requestList, "requestList", 1, MAX_OCSP_REQUESTS);
    const certIds = requests.map((request) => {
      const [certId] = sequenceItems(request, "Request", 1, 2);
      if (certId === undefined) throw derError("Request: reqCert missing", request.offset);
      return parseCertId(certId);
    });
    const extensions = items[index];
    const nonce = extensions !== undefined && isContext(extensions, 2) ? findNonce(extensions) : undefined;
    return { certIds, ...(nonce === undefined ? {} : { nonce }) };
  });
}

function parseCertId(node: DerNode): OcspCertId {
  const [algorithm, nameHash, keyHash, serial] = sequenceItems(node, "CertID", 4, 4);
  if (!algorithm || !nameHash || !keyHash || !serial) throw derError("CertID: malformed", node.offset);
  const [oid] = sequenceItems(algorithm, "hashAlgorithm", 1, 2);
  if (oid === undefined) throw derError("hashAlgorithm: OID missing", algorithm.offset);
  const hash = HASH_BY_OID[readOid(oid)];
  if (hash === undefined) throw invalidInput("ocspRequest", `CertID hash ${readOid(oid)} is not supported (SHA-1 or SHA-256)`);
  return { hash, issuerNameHash: readOctetString(nameHash), issuerKeyHash: readOctetString(keyHash), serialNumber: readIntegerBytes(serial, "serialNumber"), der: node.bytes };
}

/** The nonce from `[2] EXPLICIT Extensions`: the extension's OCTET STRING value, as given. */
function findNonce(wrapper: DerNode): Uint8Array | undefined {
  const [list] = wrapper.children;
  if (list === undefined) return undefined;
  for (const extension of sequenceItems(list, "requestExtensions")) {
    const [oid, ...rest] = sequenceItems(extension, "Extension", 2, 3);
    const value = rest.at(-1);
    if (oid !== undefined && value !== undefined && readOid(oid) === OcspOid.nonce) {
      const nonce = readOctetString(value, "nonce");
      // §4.4.1: at most 32 octets of nonce (the inner OCTET STRING and its header fit in 34).
      if (nonce.length > 34) throw invalidInput("ocspRequest", "nonce longer than 32 octets (RFC 6960 §4.4.1)");
      return nonce;
    }
  }
  return undefined;
}

/** What the responder says about one certificate (§4.2.1 CertStatus). */
export type OcspCertStatus = { readonly status: "good" } | { readonly status: "unknown" } | { readonly status: "revoked"; readonly revokedAt: Date; readonly reasonCode?: number };

export interface OcspSingleAnswer {
  readonly certId: OcspCertId;
  readonly status: OcspCertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

export interface OcspResponseTemplate {
  /** SHA-1 of the responder's public key BIT STRING (ResponderID byKey, §4.2.1). */
  readonly responderKeyHash: Uint8Array;
  readonly producedAt: Date;
  readonly answers: readonly OcspSingleAnswer[];
  readonly nonce?: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm;
}

/** DER ResponseData (§4.2.1): the part the responder signs. */
export function encodeOcspResponseData(t: OcspResponseTemplate): Uint8Array {
  const responses = t.answers.map((answer) =>
    derSequence(answer.certId.der, certStatus(answer.status), derGeneralizedTime(answer.thisUpdate), derContextExplicit(0, derGeneralizedTime(answer.nextUpdate))),
  );
  const parts = [derContextExplicit(2, derOctetString(t.responderKeyHash)), derGeneralizedTime(t.producedAt), derSequence(...responses)];
  if (t.nonce !== undefined) {
    parts.push(derContextExplicit(1, derSequence(derSequence(derOid(OcspOid.nonce), derOctetString(t.nonce)))));
  }
  return derSequence(...parts);
}

function certStatus(status: OcspCertStatus): Uint8Array {
  switch (status.status) {
    case "good":
      return derContextImplicit(0, new Uint8Array(0));
    case "unknown":
      return derContextImplicit(2, new Uint8Array(0));
    case "revoked": {
      // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      const fields = [derGeneralizedTime(status.revokedAt)];
      if (status.reasonCode !== undefined && status.reasonCode !== 0) fields.push(derContextExplicit(0, derTlv(0x0a, Uint8Array.of(status.reasonCode))));
      return derContextImplicit(1, concatBytes(...fields), true);
    }
  }
}

/** OCSPResponse with a signed BasicOCSPResponse (§4.2.1), status successful. */
export function assembleOcspResponse(responseData: Uint8Array, signatureAlgorithm: SignatureAlgorithm, signature: Uint8Array, certsDer: readonly Uint8Array[] = []): Uint8Array {
  // BasicOCSPResponse.certs [0] EXPLICIT SEQUENCE OF Certificate: a delegated responder's certificate (§4.2.2.2).
  const certs = certsDer.length === 0 ? [] : [derContextExplicit(0, derSequence(...certsDer))];
  const basic = derSequence(responseData, signatureAlgorithmIdentifier(signatureAlgorithm), derBitString(signature), ...certs);
  return derSequence(derTlv(0x0a, Uint8Array.of(0)), derContextExplicit(0, derSequence(derOid(OcspOid.basicResponse), derOctetString(basic))));
}

/** The unsigned error answers (§4.2.1 OCSPResponseStatus). */
export const OCSP_ERROR_STATUS = { malformedRequest: 1, internalError: 2, tryLater: 3, unauthorized: 6 } as const;

/** OCSPResponse without responseBytes: an error status only. */
export function ocspErrorResponse(status: keyof typeof OCSP_ERROR_STATUS): Uint8Array {
  return derSequence(derTlv(0x0a, Uint8Array.of(OCSP_ERROR_STATUS[status])));
}

/** SHA-1/SHA-256 input for issuerKeyHash and ResponderID byKey: the subjectPublicKey BIT STRING contents. */
export function publicKeyBits(spkiDer: Uint8Array): Uint8Array {
  const [, bits] = sequenceItems(readDer(spkiDer), "SubjectPublicKeyInfo", 2, 2);
  if (bits === undefined) throw derError("SubjectPublicKeyInfo: malformed");
  return readBitString(bits, "subjectPublicKey").bytes;
}

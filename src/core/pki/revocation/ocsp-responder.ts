import { createHash } from "node:crypto";
import { defaultSignatureAlgorithm } from "../../crypto/algorithms.js";
import type { CryptoBackend } from "../../crypto/crypto-backend.js";
import type { Clock } from "../../shared/clock.js";
import { isDomainError } from "../../shared/domain-error.js";
import type { UnitOfWork } from "../../shared/unit-of-work.js";
import type { CertificateAuthority } from "../certificate-authority.js";
import type { PkiRepositories } from "../ports.js";
import { assembleOcspResponse, encodeOcspResponseData, ocspErrorResponse, parseOcspRequest, publicKeyBits, type OcspCertId, type OcspCertStatus, type OcspRequest } from "../x509/ocsp.js";
import type { OcspSigningDelegates } from "./ocsp-delegate.js";
import { revocationKey } from "./revocation-key.js";

/** How long an answer may be cached by relying parties (nextUpdate − thisUpdate). */
const ANSWER_VALIDITY_SECONDS = 3600;

/**
 * The OCSP responder (RFC 6960) for every CA in kpki. Each answer is signed by the issuing CA's own
 * key (§4.2.2.2: the CA that issued the certificate may sign directly) or, with `delegates`, by
 * the CA's delegated responder, whose certificate travels in `certs`; ResponderID byKey. A
 * request naming an issuer kpki does not hold gets `unauthorized` (§2.3); an unknown serial under
 * a known CA gets `unknown`. Answers are computed from the database on each request, so a
 * revocation is visible at once on every replica.
 */
export class OcspResponder {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly delegates?: OcspSigningDelegates;
    },
  ) {}

  /** DER OCSPResponse for a DER OCSPRequest; never throws for a bad request (it is an OCSP answer too). */
  async respond(requestDer: Uint8Array): Promise<Uint8Array> {
    let request: OcspRequest;
    try {
      request = parseOcspRequest(requestDer);
    } catch (error) {
      if (isDomainError(error) && error.code === "invalid_input") return ocspErrorResponse("malformedRequest");
      throw error;
    }
    const authorities = await this.deps.uow.read((r) => r.authorities.list());
    const issuer = issuerOf(authorities, request.certIds);
    if (issuer === undefined || issuer.key === undefined || issuer.certificateDer === undefined) return ocspErrorResponse("unauthorized");
    const delegate = await this.deps.delegates?.for(issuer);
    const signer = delegate ?? revocationKey(issuer);
    const now = new Date(Math.floor(this.deps.clock.now().getTime() / 1000) * 1000);
    const nextUpdate = new Date(now.getTime() + ANSWER_VALIDITY_SECONDS * 1000);
    const answers = await this.deps.uow.read((r) =>
      Promise.all(
        request.certIds.map(async (certId) => {
          const certificate = await r.certificates.findBySerial(issuer.id, Buffer.from(certId.serialNumber).toString("hex"));
          const status: OcspCertStatus =
            certificate === undefined
              ? { status: "unknown" }
              : certificate.status === "revoked"
                ? { status: "revoked", revokedAt: certificate.revokedAt ?? now, ...(certificate.revocationReason === undefined ? {} : { reasonCode: certificate.revocationReason }) }
                : { status: "good" };
          return { certId, status, thisUpdate: now, nextUpdate };
        }),
      ),
    );
    const signatureAlgorithm = defaultSignatureAlgorithm(signer.keyAlgorithm);
    const responseData = encodeOcspResponseData({
      responderKeyHash: createHash("sha1").update(publicKeyBits(signer.publicKeySpki)).digest(),
      producedAt: now,
      answers,
      ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
      signatureAlgorithm,
    });
    const signature = await this.deps.crypto.sign(signer.key, signatureAlgorithm, responseData);
    return assembleOcspResponse(responseData, signatureAlgorithm, signature, delegate === undefined ? [] : [delegate.certificateDer]);
  }
}

/** The one CA every CertID names (by hash of its subject and key), or undefined. */
function issuerOf(authorities: readonly CertificateAuthority[], certIds: readonly OcspCertId[]): CertificateAuthority | undefined {
  const matches = (ca: CertificateAuthority, id: OcspCertId) => {
    const hashes = issuerHashes(ca, id.hash);
    return Buffer.from(hashes.name).equals(id.issuerNameHash) && Buffer.from(hashes.key).equals(id.issuerKeyHash);
  };
  const first = certIds[0];
  const ca = first === undefined ? undefined : authorities.find((candidate) => matches(candidate, first));
  return ca !== undefined && certIds.every((id) => matches(ca, id)) ? ca : undefined;
}

/** A CA's subject and key never change under its id, so their CertID hashes are computed once. */
const HASHES = new Map<string, { name: Uint8Array; key: Uint8Array }>();

function issuerHashes(ca: CertificateAuthority, hash: OcspCertId["hash"]): { name: Uint8Array; key: Uint8Array } {
  const cacheKey = `${ca.id}:${hash}`;
  let hashes = HASHES.get(cacheKey);
  if (hashes === undefined) {
    hashes = { name: createHash(hash).update(ca.subjectDer).digest(), key: createHash(hash).update(publicKeyBits(ca.publicKeySpki)).digest() };
    HASHES.set(cacheKey, hashes);
  }
  return hashes;
}

import { Router, type Response } from "express";
import type { AuthorityRevocationService, CertificateInventory, CrlRecord, CrlService, HierarchyService, OcspResponder, RevocationService } from "../../../core/pki/index.js";
import { revocationReasonName, x509 } from "../../../core/pki/index.js";
import type { Clock } from "../../../core/shared/clock.js";
import { invalidInput } from "../../../core/shared/domain-error.js";
import { authorityJson, certificateJson } from "../presenters.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the revocation routes. */
export interface RevocationRouteDependencies {
  readonly revocation: RevocationService;
  readonly authorityRevocation: AuthorityRevocationService;
  readonly crls: CrlService;
  readonly ocsp: OcspResponder;
  readonly inventory: CertificateInventory;
  readonly hierarchy: HierarchyService;
  readonly clock: Clock;
}

/** An OCSP request names a handful of certificates: a few hundred bytes (RFC 6960 §4.1.1). */
export const MAX_OCSP_REQUEST_BYTES = 8192;

/** Revocation, the CRLs (RFC 5280) and the OCSP responder (RFC 6960). */
export function revocationRoutes(deps: RevocationRouteDependencies): Router {
  const router = Router();

  router.post("/v1/certificates/:id/revoke", async (req, res) => {
    const body = req.body as { reason: string };
    const certificate = await deps.revocation.revoke(requestContext(res), String(req.params.id), body.reason);
    const ca = await deps.hierarchy.list().then((all) => all.find((candidate) => candidate.id === certificate.caId));
    res.json(certificateJson(certificate, ca?.name ?? certificate.caId, deps.clock.now()));
  });

  router.post("/v1/authorities/:name/revoke", async (req, res) => {
    const body = req.body as { reason: string };
    const revocation = await deps.authorityRevocation.revoke(requestContext(res), String(req.params.name), body.reason);
    const names = new Map((await deps.hierarchy.list()).map((ca) => [ca.id as string, ca.name]));
    res.json({
      authority: authorityJson(revocation.authority, names),
      revokedAt: revocation.revokedAt.toISOString(),
      reason: revocationReasonName(revocation.reasonCode),
      revokedAuthorities: revocation.authorities,
      revokedCertificates: revocation.certificates,
    });
  });

  router.get("/v1/authorities/:name/crl", async (req, res) => {
    sendCrl(req.accepts(["application/pkix-crl", "application/x-pem-file"]), res, await deps.crls.current(String(req.params.name), "full"));
  });

  router.get("/v1/authorities/:name/crl/delta", async (req, res) => {
    sendCrl(req.accepts(["application/pkix-crl", "application/x-pem-file"]), res, await deps.crls.current(String(req.params.name), "delta"));
  });

  router.post("/v1/ocsp", async (req, res) => {
    const body: unknown = req.body;
    if (!(body instanceof Buffer) || body.length === 0) throw invalidInput("body", "a DER OCSPRequest with Content-Type application/ocsp-request");
    sendOcsp(res, await deps.ocsp.respond(body), deps.clock.now());
  });

  router.get("/v1/ocsp/:request", async (req, res) => {
    // Appendix A.1: base64 of the DER, URL-encoded (Express has decoded the path segment).
    const text = String(req.params.request);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw invalidInput("request", "base64 of a DER OCSPRequest (RFC 6960 Appendix A.1)");
    sendOcsp(res, await deps.ocsp.respond(Buffer.from(text, "base64")), deps.clock.now());
  });
  return router;
}

function sendCrl(accepted: string | false, res: Response, crl: CrlRecord): void {
  // Relying parties may cache a CRL until its nextUpdate.
  res.setHeader("Cache-Control", `public, max-age=${Math.max(0, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000))}`);
  res.setHeader("Last-Modified", crl.thisUpdate.toUTCString());
  if (accepted === "application/x-pem-file") {
    res.type("application/x-pem-file").send(x509.pemEncode("X509 CRL", crl.der));
    return;
  }
  res.type("application/pkix-crl").send(Buffer.from(crl.der));
}

function sendOcsp(res: Response, der: Uint8Array, now: Date): void {
  // Answers are computed per request and valid for an hour; let caches keep GET answers briefly.
  res.setHeader("Cache-Control", "public, max-age=60");
  res.setHeader("Date", now.toUTCString());
  res.type("application/ocsp-response").send(Buffer.from(der));
}

import { Router } from "express";
import type { KeyAlgorithm } from "../../../core/crypto/algorithms.js";
import type { CertificateInventory, HierarchyService, IssuanceService } from "../../../core/pki/index.js";
import { x509 } from "../../../core/pki/index.js";
import type { Clock } from "../../../core/shared/clock.js";
import { derFromPem, generalNames } from "../pem-input.js";
import { certificateJson, certificatesPem } from "../presenters.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the certificate routes. */
export interface CertificateRouteDependencies {
  readonly issuance: IssuanceService;
  readonly inventory: CertificateInventory;
  readonly hierarchy: HierarchyService;
  readonly clock: Clock;
}

interface IssueBody {
  ca: string;
  profile: string;
  csr?: string;
  keyAlgorithm?: KeyAlgorithm;
  subject?: x509.SubjectFields;
  subjectAltNames?: string[];
  ttlSeconds?: number;
}

/** Issuance and the inventory. */
export function certificateRoutes(deps: CertificateRouteDependencies): Router {
  const router = Router();
  const caNames = async () => new Map((await deps.hierarchy.list()).map((ca) => [ca.id as string, ca.name]));

  router.post("/v1/certificates", async (req, res) => {
    const body = req.body as IssueBody;
    const idempotencyKey = req.get("Idempotency-Key");
    const subjectAltNames = generalNames(body.subjectAltNames, "subjectAltNames");
    const result = await deps.issuance.issue(requestContext(res), {
      ca: body.ca,
      profile: body.profile,
      ...(body.csr === undefined ? {} : { csrDer: derFromPem(body.csr, ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "csr") }),
      ...(body.keyAlgorithm === undefined ? {} : { keyAlgorithm: body.keyAlgorithm }),
      ...(body.subject === undefined ? {} : { subject: body.subject }),
      ...(subjectAltNames === undefined ? {} : { subjectAltNames }),
      ...(body.ttlSeconds === undefined ? {} : { ttlSeconds: body.ttlSeconds }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    if (result.replayed) res.setHeader("Idempotent-Replayed", "true");
    res
      .status(result.replayed ? 200 : 201)
      .location(`/v1/certificates/${result.certificate.id}`)
      .json({
        ...certificateJson(result.certificate, result.caName, deps.clock.now()),
        chainPem: certificatesPem(result.chainDer),
        ...(result.privateKeyPkcs8 === undefined ? {} : { privateKeyPem: x509.pemEncode("PRIVATE KEY", result.privateKeyPkcs8) }),
      });
  });

  router.get("/v1/certificates", async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const page = await deps.inventory.list({
      ...(q.ca === undefined ? {} : { ca: q.ca }),
      ...(q.profile === undefined ? {} : { profile: q.profile }),
      ...(q.commonName === undefined ? {} : { commonName: q.commonName }),
      ...(q.status === undefined ? {} : { status: q.status as "active" | "revoked" | "expired" }),
      ...(q.expiringBefore === undefined ? {} : { expiringBefore: new Date(q.expiringBefore) }),
      ...(q.limit === undefined ? {} : { limit: Number(q.limit) }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    const names = await caNames();
    const now = deps.clock.now();
    res.json({
      items: page.items.map((c) => certificateJson(c, names.get(c.caId) ?? c.caId, now)),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    });
  });

  router.get("/v1/certificates/:id", async (req, res) => {
    const certificate = await deps.inventory.get(String(req.params.id));
    if (req.accepts(["application/json", "application/x-pem-file"]) === "application/x-pem-file") {
      res.type("application/x-pem-file").send(certificatesPem([certificate.der]));
      return;
    }
    const names = await caNames();
    res.json(certificateJson(certificate, names.get(certificate.caId) ?? certificate.caId, deps.clock.now()));
  });
  return router;
}

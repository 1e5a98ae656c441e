import type { Clock } from "../../shared/clock.js";
import { DomainError } from "../../shared/domain-error.js";
import { UUID_PATTERN, type CertificateId } from "../../shared/ids.js";
import type { RequestContext } from "../../shared/request-context.js";
import type { UnitOfWork } from "../../shared/unit-of-work.js";
import type { IssuedCertificate } from "../issued-certificate.js";
import type { PkiRepositories } from "../ports.js";
import type { CrlService } from "./crl-service.js";
import { revocationReasonCode } from "./revocation-reason.js";

/**
 * Revokes issued certificates (final: no hold, no release). The change and its audit entry are
 * one transaction; the CA's CRLs are reissued right after, and a CRL fetched later is reissued on
 * the spot if that step failed (CrlService.current checks for newer revocations), so a
 * revocation is never lost from the CRL, only possibly late by one request.
 */
export class RevocationService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly clock: Clock;
      readonly crls: CrlService;
      /** Told when the CRL reissue after a revocation fails, with the revoking request (its id for the log). */
      readonly onCrlFailure?: (error: unknown, context: RequestContext) => void;
    },
  ) {}

  async revoke(context: RequestContext, id: string, reason: string): Promise<IssuedCertificate> {
    const reasonCode = revocationReasonCode(reason);
    if (!UUID_PATTERN.test(id)) throw new DomainError("not_found", `certificate ${id} does not exist`);
    const now = this.deps.clock.now();
    const { certificate, ca } = await this.deps.uow.run(async (r) => {
      const found = await r.certificates.findById(id as CertificateId);
      if (found === undefined) throw new DomainError("not_found", `certificate ${id} does not exist`);
      if (!(await r.certificates.markRevoked(found.id, now, reasonCode))) {
        throw new DomainError("conflict", `certificate ${id} is already revoked (since ${found.revokedAt?.toISOString() ?? "earlier"}); revocation is final`);
      }
      await r.audit.record({ actor: context.principal.id, action: "certificate.revoke", target: `certificate:${found.id}`, result: "success", requestId: context.requestId, details: { serial: found.serialHex, reason } }, now);
      const authority = await r.authorities.findById(found.caId);
      return { certificate: { ...found, status: "revoked" as const, revokedAt: now, revocationReason: reasonCode }, ca: authority };
    });
    if (ca !== undefined) {
      await this.deps.crls.revoked(ca).catch((error: unknown) => this.deps.onCrlFailure?.(error, context));
    }
    return certificate;
  }
}

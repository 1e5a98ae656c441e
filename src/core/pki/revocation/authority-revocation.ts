import type { Clock } from "../../shared/clock.js";
import { DomainError } from "../../shared/domain-error.js";
import { newId, type CertificateId } from "../../shared/ids.js";
import type { RandomSource } from "../../shared/random.js";
import type { RequestContext } from "../../shared/request-context.js";
import type { UnitOfWork } from "../../shared/unit-of-work.js";
import type { CertificateAuthority } from "../certificate-authority.js";
import type { IssuedCertificate } from "../issued-certificate.js";
import type { PkiRepositories } from "../ports.js";
import { parseCertificate } from "../x509/certificate.js";
import { formatGeneralName } from "../x509/general-name.js";
import { nameFields, parseName } from "../x509/name.js";
import type { CrlService } from "./crl-service.js";
import { REVOCATION_REASONS, revocationReasonCode } from "./revocation-reason.js";

/** The inventory profile under which a revoked CA certificate is entered in its parent's list. */
export const CA_CERTIFICATE_PROFILE = "ca";

/** What revoking a CA did. */
export interface AuthorityRevocation {
  /** The revoked CA, now disabled. */
  readonly authority: CertificateAuthority;
  readonly revokedAt: Date;
  readonly reasonCode: number;
  /** Every CA revoked and disabled: the named one first, then the CAs below it. */
  readonly authorities: readonly string[];
  /** End-entity and CA certificates of those CAs newly marked revoked. */
  readonly certificates: number;
}

/**
 * The reason recorded for what a revoked CA issued. A compromised (or unexplained) CA key means
 * nothing it signed can be trusted: cACompromise (RFC 5280 §5.3.1). A CA retired for another reason
 * (superseded, cessationOfOperation, …) did not leak anything: what it issued is withdrawn because
 * its issuer ceased to vouch for it, cessationOfOperation.
 */
function issuedReasonCode(caReasonCode: number): number {
  const compromised: readonly number[] = [REVOCATION_REASONS.unspecified, REVOCATION_REASONS.keyCompromise, REVOCATION_REASONS.cACompromise, REVOCATION_REASONS.aACompromise];
  return compromised.includes(caReasonCode) ? REVOCATION_REASONS.cACompromise : REVOCATION_REASONS.cessationOfOperation;
}

/**
 * Revokes an intermediate CA (RFC 5280 §6.3: a relying party that checks the parent's CRL or OCSP
 * rejects every path through it). Intermediate CA certificates are not in the inventory, so the
 * CA's current certificate is entered there under its parent, revoked: the parent's CRL and OCSP
 * answers list it from then on, by the same path as any revoked certificate. The CA and every CA
 * below it are disabled (they issue nothing more), and what they issued is marked revoked as well:
 * path validation already rejects it, but the inventory should say so, and many relying parties
 * check only a leaf's own status (OCSP stapling), which the CA's own CRL and OCSP answers, still
 * served and signed by the disabled CA's key, now give. One transaction, one audit entry; CRLs
 * are reissued after it.
 */
export class AuthorityRevocationService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly crls: CrlService;
      readonly onCrlFailure?: (error: unknown, context: RequestContext) => void;
    },
  ) {}

  async revoke(context: RequestContext, name: string, reason: string): Promise<AuthorityRevocation> {
    const reasonCode = revocationReasonCode(reason);
    const childReasonCode = issuedReasonCode(reasonCode);
    const now = this.deps.clock.now();
    const { result, touched } = await this.deps.uow.run(async (r) => {
      const ca = await r.authorities.findByName(name);
      if (ca === undefined) throw new DomainError("not_found", `CA ${name} does not exist`);
      const all = await r.authorities.list();
      const parent = all.find((candidate) => candidate.id === ca.parentId);
      assertRevocable(ca, parent);
      if ((await r.certificates.findBySerial(parent.id, ca.serialHex ?? ""))?.status === "revoked") {
        throw new DomainError("conflict", `CA ${name} is already revoked; revocation is final`);
      }
      const subtree = below(ca, all);
      let certificates = 0;
      for (const revoked of subtree) {
        const issuer = revoked === ca ? parent : all.find((candidate) => candidate.id === revoked.parentId);
        // A CA below may already be revoked on its own (its entry exists): then only its status matters.
        if (issuer !== undefined && revoked.certificateDer !== undefined && (await r.certificates.findBySerial(issuer.id, revoked.serialHex ?? "")) === undefined) {
          const entry = inventoryEntry(revoked, revoked.certificateDer, issuer, context, now, this.deps.random);
          await r.certificates.create([entry]);
          await r.certificates.markRevoked(entry.id, now, revoked === ca ? reasonCode : childReasonCode);
          certificates += 1;
        }
        if (revoked.status !== "disabled") await r.authorities.update({ ...revoked, status: "disabled", updatedAt: now });
        certificates += await r.certificates.markAllRevoked(revoked.id, now, childReasonCode);
      }
      const names = subtree.map((revoked) => revoked.name);
      await r.audit.record(
        { actor: context.principal.id, action: "ca.revoke", target: `ca:${ca.id}`, result: "success", requestId: context.requestId, details: { name, serial: ca.serialHex ?? null, reason, authorities: names.join(","), certificates } },
        now,
      );
      return {
        result: { authority: { ...ca, status: "disabled" as const, updatedAt: now }, revokedAt: now, reasonCode, authorities: names, certificates },
        touched: [parent, ...subtree],
      };
    });
    for (const ca of touched) {
      if (ca.key === undefined) continue; // an offline CA signs no CRL; its parent's CRL still lists it
      await this.deps.crls.revoked(ca).catch((error: unknown) => this.deps.onCrlFailure?.(error, context));
    }
    return result;
  }
}

/** Only an intermediate whose issuer is in kpki can be revoked here: its parent's CRL must list it. */
function assertRevocable(ca: CertificateAuthority, parent: CertificateAuthority | undefined): asserts parent is CertificateAuthority {
  if (ca.internal) throw new DomainError("wrong_state", `CA ${ca.name} is kpki's own (it signs the service's TLS and client certificates) and cannot be revoked`, { field: "name" });
  if (ca.certificateDer === undefined || ca.serialHex === undefined) throw new DomainError("wrong_state", `CA ${ca.name} has no certificate yet (pending): nothing to revoke`, { field: "name" });
  if (parent === undefined) {
    throw new DomainError("wrong_state", `CA ${ca.name} is a root or was signed outside kpki: only its issuer can revoke it (a root is withdrawn by removing it from trust stores)`, { field: "name" });
  }
}

/** The CA and every CA below it, parents before children. */
function below(ca: CertificateAuthority, all: readonly CertificateAuthority[]): CertificateAuthority[] {
  const out = [ca];
  for (let i = 0; i < out.length; i++) {
    const current = out[i];
    out.push(...all.filter((candidate) => candidate.parentId !== undefined && candidate.parentId === current?.id));
  }
  return out;
}

/** A CA's certificate as an inventory entry of its issuer (it was never in the inventory). */
function inventoryEntry(ca: CertificateAuthority, der: Uint8Array, issuer: CertificateAuthority, context: RequestContext, now: Date, random: RandomSource): IssuedCertificate {
  const parsed = parseCertificate(der);
  const commonName = nameFields(parseName(ca.subjectDer)).commonName;
  return {
    id: newId<CertificateId>(now, random),
    caId: issuer.id,
    serialHex: parsed.serialHex,
    profile: CA_CERTIFICATE_PROFILE,
    subject: ca.subject,
    ...(commonName === undefined ? {} : { commonName }),
    subjectAltNames: (parsed.extensions.subjectAltNames ?? []).map(formatGeneralName),
    keyAlgorithm: ca.keyAlgorithm,
    status: "active",
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    der,
    fingerprintSha256: parsed.fingerprintSha256,
    // The inventory learns of it through the revocation: the revoker is who entered it.
    requestedBy: context.principal.id,
    serverGeneratedKey: false,
    createdAt: now,
  };
}

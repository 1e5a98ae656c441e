import { defaultSignatureAlgorithm } from "../../crypto/algorithms.js";
import type { CryptoBackend } from "../../crypto/crypto-backend.js";
import type { Clock } from "../../shared/clock.js";
import { DomainError, isDomainError } from "../../shared/domain-error.js";
import type { UnitOfWork } from "../../shared/unit-of-work.js";
import type { CertificateAuthority } from "../certificate-authority.js";
import type { CrlRecord, PkiRepositories } from "../ports.js";
import { assembleCrl, crlSerials, encodeTbsCertList } from "../x509/crl-builder.js";
import { revocationKey } from "./revocation-key.js";

/** How long a CRL is valid, and when a new base CRL (the one deltas refer to) is due. */
export interface CrlPolicy {
  /** nextUpdate − thisUpdate of a complete CRL. */
  readonly fullValiditySeconds: number;
  /** nextUpdate − thisUpdate of a delta CRL. */
  readonly deltaValiditySeconds: number;
  /** A new base CRL (and an empty delta) at least this often (the scheduled job). */
  readonly basePeriodSeconds: number;
}

export const DEFAULT_CRL_POLICY: CrlPolicy = { fullValiditySeconds: 7 * 86_400, deltaValiditySeconds: 86_400, basePeriodSeconds: 86_400 };

/** Where a CA's delta CRL is published, for the Freshest CRL extension of its complete CRLs. */
export type DeltaCrlUrl = (caName: string) => string | undefined;

/**
 * Two writers issuing at once may pick the same CRL number; the loser's insert fails on the
 * (ca, number) key and it retries with the next number. (Lock contention between them, SQLite busy
 * or a PostgreSQL deadlock victim, is rerun by the unit of work itself.)
 */
const NUMBER_RETRIES = 5;

/**
 * Complete and delta CRLs per CA (RFC 5280 §5). One CRL number sequence per CA for both kinds
 * (§5.2.3), kept monotonic across replicas by the (ca, number) primary key: a writer that loses
 * the race retries with the next number. A *base* CRL is issued on schedule; every revocation
 * issues a new complete CRL and a delta CRL relative to the base, so the delta lists exactly the
 * revocations since the base (§5.2.4) while the complete CRL is never behind.
 */
export class CrlService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly policy?: CrlPolicy;
      readonly deltaUrl?: DeltaCrlUrl;
    },
  ) {}

  private get policy(): CrlPolicy {
    return this.deps.policy ?? DEFAULT_CRL_POLICY;
  }

  /**
   * The CA's current CRL of that kind, DER. A missing or stale one (a revocation after it, or past
   * half its validity) is issued first, so a relying party never gets a CRL behind the database.
   */
  async current(caName: string, kind: "full" | "delta"): Promise<CrlRecord> {
    const ca = await this.authority(caName);
    const now = this.deps.clock.now();
    const latest = await this.deps.uow.read((r) => r.crls.latest(ca.id, kind));
    if (latest !== undefined && !(await this.stale(ca, latest, now))) return latest;
    const issued = await this.issue(ca, { base: (await this.deps.uow.read((r) => r.crls.latestBase(ca.id))) === undefined });
    return kind === "full" ? issued.full : issued.delta;
  }

  /** After a revocation: a new complete CRL and a new delta relative to the current base. */
  async revoked(ca: CertificateAuthority): Promise<void> {
    await this.issue(ca, { base: false });
  }

  /** The scheduled job: a new base CRL (and an empty delta) for every CA whose base is due. */
  async refreshDue(): Promise<readonly string[]> {
    const now = this.deps.clock.now();
    const authorities = await this.deps.uow.read((r) => r.authorities.list());
    const refreshed: string[] = [];
    for (const ca of authorities) {
      if (ca.key === undefined || ca.certificateDer === undefined) continue;
      const base = await this.deps.uow.read((r) => r.crls.latestBase(ca.id));
      if (base !== undefined && now.getTime() - base.thisUpdate.getTime() < this.policy.basePeriodSeconds * 1000) continue;
      await this.issue(ca, { base: true });
      refreshed.push(ca.name);
    }
    return refreshed;
  }

  private async authority(caName: string): Promise<CertificateAuthority> {
    const ca = await this.deps.uow.read((r) => r.authorities.findByName(caName));
    if (ca === undefined) throw new DomainError("not_found", `CA ${caName} does not exist`, { field: "ca" });
    return ca;
  }

  private async stale(ca: CertificateAuthority, crl: CrlRecord, now: Date): Promise<boolean> {
    const halfLife = (crl.nextUpdate.getTime() - crl.thisUpdate.getTime()) / 2;
    if (now.getTime() >= crl.thisUpdate.getTime() + halfLife) return true;
    return (await this.deps.uow.read((r) => r.certificates.countRevoked(ca.id))) > crl.revokedTotal;
  }

  /** Issues a complete CRL (a base when asked, or when the CA has none) and a delta relative to the base. */
  private async issue(ca: CertificateAuthority, options: { base: boolean }): Promise<{ full: CrlRecord; delta: CrlRecord }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.issueOnce(ca, options);
      } catch (error) {
        if (attempt < NUMBER_RETRIES && isDomainError(error) && error.code === "already_exists") {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.floor(Math.random() * 50)));
          continue;
        }
        throw error;
      }
    }
  }

  private async issueOnce(ca: CertificateAuthority, options: { base: boolean }): Promise<{ full: CrlRecord; delta: CrlRecord }> {
    const signer = revocationKey(ca);
    // Whole seconds: what the DER Time says is what is stored and compared.
    const now = new Date(Math.floor(this.deps.clock.now().getTime() / 1000) * 1000);
    const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    return this.deps.uow.run(async (r) => {
      // Count before listing: a revocation committed in between makes the count low, so the next
      // request reissues; never the other way round (a CRL that claims more than it lists).
      const revokedTotal = await r.certificates.countRevoked(ca.id);
      const revoked = await r.certificates.listRevoked(ca.id, { notExpiredAt: now });
      const previousBase = await r.crls.latestBase(ca.id);
      const fullNumber = (await r.crls.highestNumber(ca.id)) + 1n;
      const isBase = options.base || previousBase === undefined;
      const deltaUrl = this.deps.deltaUrl?.(ca.name);
      const full: CrlRecord = {
        caId: ca.id,
        number: fullNumber,
        kind: "full",
        isBase,
        thisUpdate: now,
        nextUpdate: later(this.policy.fullValiditySeconds),
        revokedTotal,
        der: await this.sign(signer, { number: fullNumber, thisUpdate: now, nextUpdate: later(this.policy.fullValiditySeconds), entries: revoked, ...(deltaUrl === undefined ? {} : { freshestCrlUrl: deltaUrl }) }),
      };
      const base = isBase || previousBase === undefined ? full : previousBase;
      // §5.2.4: the delta lists what changed since its base: the revocations the base does not list.
      const inBase = isBase ? undefined : crlSerials(base.der);
      const changes = inBase === undefined ? [] : revoked.filter((entry) => !inBase.has(entry.serialHex));
      const deltaNumber = fullNumber + 1n;
      const delta: CrlRecord = {
        caId: ca.id,
        number: deltaNumber,
        kind: "delta",
        isBase: false,
        baseNumber: base.number,
        thisUpdate: now,
        nextUpdate: later(this.policy.deltaValiditySeconds),
        revokedTotal,
        der: await this.sign(signer, { number: deltaNumber, baseNumber: base.number, thisUpdate: now, nextUpdate: later(this.policy.deltaValiditySeconds), entries: changes }),
      };
      await r.crls.create(full, now);
      await r.crls.create(delta, now);
      return { full, delta };
    });
  }

  private async sign(
    signer: ReturnType<typeof revocationKey>,
    crl: { number: bigint; baseNumber?: bigint; thisUpdate: Date; nextUpdate: Date; freshestCrlUrl?: string; entries: readonly { serialHex: string; revokedAt: Date; reasonCode: number }[] },
  ): Promise<Uint8Array> {
    const signatureAlgorithm = defaultSignatureAlgorithm(signer.keyAlgorithm);
    const tbs = encodeTbsCertList({
      issuerNameDer: signer.subjectDer,
      authorityKeyId: signer.subjectKeyId,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      number: crl.number,
      ...(crl.baseNumber === undefined ? {} : { baseNumber: crl.baseNumber }),
      ...(crl.freshestCrlUrl === undefined ? {} : { freshestCrlUrl: crl.freshestCrlUrl }),
      entries: crl.entries.map((entry) => ({ serialNumber: Buffer.from(entry.serialHex, "hex"), revocationDate: entry.revokedAt, reasonCode: entry.reasonCode })),
      signatureAlgorithm,
    });
    return assembleCrl(tbs, signatureAlgorithm, await this.deps.crypto.sign(signer.key, signatureAlgorithm, tbs));
  }
}

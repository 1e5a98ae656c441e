import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import type { CaId } from "../shared/ids.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { chainOf } from "./authority-chain.js";
import { issuerOf, type IssuerIdentity } from "./authority-signer.js";
import { assertCanSign, type CertificateAuthority } from "./certificate-authority.js";
import type { PkiRepositories } from "./ports.js";

/** How long a looked-up issuer is reused: CA changes reach other replicas within this time. */
const TTL_MILLIS = 10_000;

/** An active CA ready to sign: the record, its signing identity and its chain. */
export interface ReadyIssuer {
  readonly ca: CertificateAuthority & { notAfter: Date };
  readonly identity: IssuerIdentity;
  readonly chainDer: readonly Uint8Array[];
}

/**
 * Keeps recently used issuers in memory so the issuance hot path does not read the CA and walk its
 * chain on every request.
 */
export class IssuerCache {
  private readonly entries = new Map<string, { issuer: ReadyIssuer; until: number }>();

  constructor(
    private readonly uow: UnitOfWork<PkiRepositories>,
    private readonly clock: Clock,
  ) {}

  /** The named CA, if it exists and can sign now. */
  async get(name: string): Promise<ReadyIssuer> {
    const nowMillis = this.clock.now().getTime();
    const cached = this.entries.get(name);
    if (cached !== undefined && cached.until > nowMillis) return cached.issuer;
    const issuer = await this.load((r) => r.authorities.findByName(name), name);
    if (issuer.ca.notAfter.getTime() <= nowMillis) {
      throw new DomainError("wrong_state", `CA ${name} expired on ${issuer.ca.notAfter.toISOString()}`, { field: "ca" });
    }
    this.entries.set(name, { issuer, until: nowMillis + TTL_MILLIS });
    return issuer;
  }

  /** The CA with this id (for replays; may be disabled by now, chain still valid). */
  async byId(id: CaId): Promise<{ name: string; chainDer: readonly Uint8Array[] }> {
    return this.uow.read(async (r) => {
      const ca = await r.authorities.findById(id);
      if (ca === undefined) throw new DomainError("internal", `CA ${id} vanished`);
      return { name: ca.name, chainDer: await chainOf(r, ca) };
    });
  }

  private async load(find: (r: PkiRepositories) => Promise<CertificateAuthority | undefined>, name: string): Promise<ReadyIssuer> {
    return this.uow.read(async (r) => {
      const ca = await find(r);
      if (ca === undefined) throw new DomainError("not_found", `CA ${name} does not exist`, { field: "ca" });
      assertCanSign(ca);
      return { ca, identity: issuerOf(ca), chainDer: await chainOf(r, ca) };
    });
  }
}

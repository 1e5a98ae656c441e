import { DomainError, invalidInput } from "../shared/domain-error.js";
import { UUID_PATTERN, type CertificateId } from "../shared/ids.js";
import type { Clock } from "../shared/clock.js";
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from "../shared/page.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { IssuedCertificate } from "./issued-certificate.js";
import type { PkiRepositories } from "./ports.js";

/** Inventory filters as a caller gives them (by CA name, not id). */
export interface InventoryFilter {
  readonly ca?: string;
  readonly profile?: string;
  readonly commonName?: string;
  readonly status?: "active" | "revoked" | "expired";
  readonly expiringBefore?: Date;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Expiry of the inventory at one moment, for monitoring. */
export interface ExpirySnapshot {
  /** Per CA: its own certificate's notAfter (when it has one) and its active certificates' earliest. */
  readonly authorities: readonly { readonly name: string; readonly clusterId?: string; readonly notAfter?: Date; readonly earliestIssuedNotAfter?: Date }[];
  /** Active certificates expiring within each horizon (seconds), in the order asked. */
  readonly expiringWithin: readonly { readonly seconds: number; readonly count: number }[];
}

/**
 * Read side of the certificate inventory: filtered, keyset-paginated listing (issuance order;
 * active certificates soonest expiry first, see CertificateQuery) and lookup.
 */
export class CertificateInventory {
  constructor(private readonly deps: { readonly uow: UnitOfWork<PkiRepositories>; readonly clock: Clock }) {}

  async list(filter: InventoryFilter): Promise<Page<IssuedCertificate>> {
    const limit = filter.limit ?? PAGE_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) throw invalidInput("limit", `must be 1–${PAGE_LIMIT_MAX}`);
    if (filter.cursor !== undefined && !UUID_PATTERN.test(filter.cursor)) throw invalidInput("cursor", "not a cursor returned by this API");
    return this.deps.uow.read(async (r) => {
      const ca = filter.ca === undefined ? undefined : await r.authorities.findByName(filter.ca);
      if (filter.ca !== undefined && ca === undefined) throw new DomainError("not_found", `CA ${filter.ca} does not exist`, { field: "ca" });
      return r.certificates.list({
        ...(ca === undefined ? {} : { caId: ca.id }),
        ...(filter.profile === undefined ? {} : { profile: filter.profile }),
        ...(filter.commonName === undefined ? {} : { commonName: filter.commonName }),
        ...(filter.status === undefined ? {} : { status: filter.status }),
        ...(filter.expiringBefore === undefined ? {} : { expiringBefore: filter.expiringBefore }),
        now: this.deps.clock.now(),
        limit,
        ...(filter.cursor === undefined ? {} : { after: filter.cursor as CertificateId }),
      });
    });
  }

  /** What expires when (two indexed queries and a count per horizon; CAs are few). */
  async expiry(horizonsSeconds: readonly number[]): Promise<ExpirySnapshot> {
    const now = this.deps.clock.now();
    return this.deps.uow.read(async (r) => {
      const earliest = await r.certificates.earliestActiveNotAfterByCa(now);
      const authorities = (await r.authorities.list()).map((ca) => {
        const issued = earliest.get(ca.id);
        return { name: ca.name, ...(ca.clusterId === undefined ? {} : { clusterId: ca.clusterId }), ...(ca.notAfter === undefined ? {} : { notAfter: ca.notAfter }), ...(issued === undefined ? {} : { earliestIssuedNotAfter: issued }) };
      });
      const expiringWithin = [];
      for (const seconds of horizonsSeconds) expiringWithin.push({ seconds, count: await r.certificates.countActiveExpiringBetween(now, new Date(now.getTime() + seconds * 1000)) });
      return { authorities, expiringWithin };
    });
  }

  /** One certificate by id, or `not_found`. */
  async get(id: string): Promise<IssuedCertificate> {
    const certificate = UUID_PATTERN.test(id) ? await this.deps.uow.read((r) => r.certificates.findById(id as CertificateId)) : undefined;
    if (certificate === undefined) throw new DomainError("not_found", `certificate ${id} does not exist`);
    return certificate;
  }
}

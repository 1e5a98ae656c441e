import type { AuditReader, AuditRecord } from "../shared/audit.js";
import { invalidInput } from "../shared/domain-error.js";
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from "../shared/page.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";

/** Filters as a caller gives them. */
export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly target?: string;
  readonly since?: Date;
  readonly until?: Date;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Reading the audit trail (role auditor or admin): filtered, oldest first, keyset-paginated. */
export class AuditTrail {
  constructor(private readonly deps: { readonly uow: UnitOfWork<{ readonly auditReader: AuditReader }> }) {}

  async list(filter: AuditFilter): Promise<Page<AuditRecord>> {
    const limit = filter.limit ?? PAGE_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) throw invalidInput("limit", `must be 1–${PAGE_LIMIT_MAX}`);
    if (filter.cursor !== undefined && !/^\d{1,15}$/.test(filter.cursor)) throw invalidInput("cursor", "not a cursor returned by this API");
    if (filter.since !== undefined && filter.until !== undefined && filter.until < filter.since) throw invalidInput("until", "is before since");
    const page = await this.deps.uow.read((r) =>
      r.auditReader.list({
        ...(filter.actor === undefined ? {} : { actor: filter.actor }),
        ...(filter.action === undefined ? {} : { action: filter.action }),
        ...(filter.target === undefined ? {} : { target: filter.target }),
        ...(filter.since === undefined ? {} : { since: filter.since }),
        ...(filter.until === undefined ? {} : { until: filter.until }),
        limit,
        ...(filter.cursor === undefined ? {} : { afterSeq: Number(filter.cursor) }),
      }),
    );
    return page.nextSeq === undefined ? { items: page.items } : { items: page.items, nextCursor: String(page.nextSeq) };
  }
}

import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import { invalidInput } from "../../core/shared/domain-error.js";
import type { CaId, CertificateId } from "../../core/shared/ids.js";
import type { Page } from "../../core/shared/page.js";
import type { CertificateQuery, CertificateRepository, CertificateStatus, IssuedCertificate, RevokedEntry } from "../../core/pki/index.js";
import { Prisma, type Certificate as CertificateRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { chunks, MAX_ROWS_PER_INSERT } from "./raw-insert.js";
import { uniquely } from "./prisma-errors.js";

function toDomain(row: CertificateRow): IssuedCertificate {
  return {
    id: row.id as CertificateId,
    caId: row.caId as CaId,
    serialHex: row.serialHex,
    profile: row.profile,
    subject: row.subject,
    ...(row.commonName === null ? {} : { commonName: row.commonName }),
    subjectAltNames: JSON.parse(row.subjectAltNames) as string[],
    keyAlgorithm: row.keyAlgorithm as KeyAlgorithm,
    status: row.status as CertificateStatus,
    notBefore: row.notBefore,
    notAfter: row.notAfter,
    der: row.der,
    fingerprintSha256: row.fingerprintSha256,
    requestedBy: row.requestedBy,
    serverGeneratedKey: row.serverGeneratedKey,
    ...(row.idempotencyKey === null ? {} : { idempotencyKey: row.idempotencyKey }),
    ...(row.requestHash === null ? {} : { requestHash: row.requestHash }),
    createdAt: row.createdAt,
    ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt }),
    ...(row.revocationReason === null ? {} : { revocationReason: row.revocationReason }),
  };
}

/**
 * The certificate inventory in `certificates`. Listing is keyset-paginated by id (UUIDv7 = age),
 * except active listings: soonest expiry first, (notAfter, id), walked on the (status, notAfter, id)
 * index. In id order the active rows are the recent end of the history, so a filtered active
 * listing read (and dropped) most of the table before its first page.
 */
export class PrismaCertificateRepository implements CertificateRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  // Raw: a typed createMany of a group of rows spends milliseconds of CPU in Prisma's query
  // compiler (compiled anew for each row count); the same INSERT raw costs about a third. The
  // adapters encode the values as for a typed query (dates, bytes, booleans), and a unique
  // violation is recognised in its raw form (prisma-errors.ts).
  async create(certificates: readonly IssuedCertificate[]): Promise<void> {
    for (const chunk of chunks(certificates, MAX_ROWS_PER_INSERT)) {
      const rows = chunk.map(
        (c) =>
          Prisma.sql`(${c.id}, ${c.caId}, ${c.serialHex}, ${c.profile}, ${c.subject}, ${c.commonName ?? null}, ${JSON.stringify(c.subjectAltNames)}, ${c.keyAlgorithm}, ${c.status}, ${c.notBefore}, ${c.notAfter}, ${Buffer.from(c.der)}, ${c.fingerprintSha256}, ${c.requestedBy}, ${c.serverGeneratedKey}, ${c.idempotencyKey ?? null}, ${c.requestHash ?? null}, ${c.createdAt})`,
      );
      await uniquely(
        () =>
          this.db.$executeRaw`INSERT INTO "certificates" ("id", "caId", "serialHex", "profile", "subject", "commonName", "subjectAltNames", "keyAlgorithm", "status", "notBefore", "notAfter", "der", "fingerprintSha256", "requestedBy", "serverGeneratedKey", "idempotencyKey", "requestHash", "createdAt") VALUES ${Prisma.join(rows)}`,
        certificates.length === 1 ? `certificate serial ${certificates[0]?.serialHex ?? ""} or idempotency key already used` : "a certificate serial or idempotency key already used",
      );
    }
  }

  async findById(id: CertificateId): Promise<IssuedCertificate | undefined> {
    const row = await this.db.certificate.findUnique({ where: { id } });
    return row === null ? undefined : toDomain(row);
  }

  async findByIdempotencyKey(requestedBy: string, idempotencyKey: string): Promise<IssuedCertificate | undefined> {
    const row = await this.db.certificate.findUnique({ where: { requestedBy_idempotencyKey: { requestedBy, idempotencyKey } } });
    return row === null ? undefined : toDomain(row);
  }

  async findBySerial(caId: CaId, serialHex: string): Promise<IssuedCertificate | undefined> {
    const row = await this.db.certificate.findUnique({ where: { caId_serialHex: { caId, serialHex } } });
    return row === null ? undefined : toDomain(row);
  }

  async markRevoked(id: CertificateId, revokedAt: Date, reasonCode: number): Promise<boolean> {
    const { count } = await this.db.certificate.updateMany({ where: { id, status: "active" }, data: { status: "revoked", revokedAt, revocationReason: reasonCode } });
    return count === 1;
  }

  async markAllRevoked(caId: CaId, revokedAt: Date, reasonCode: number): Promise<number> {
    const { count } = await this.db.certificate.updateMany({ where: { caId, status: "active" }, data: { status: "revoked", revokedAt, revocationReason: reasonCode } });
    return count;
  }

  async countRevoked(caId: CaId): Promise<number> {
    return this.db.certificate.count({ where: { caId, status: "revoked" } });
  }

  // Both use the (status, notAfter) index: a range of it, not a scan of the inventory.
  async earliestActiveNotAfterByCa(now: Date): Promise<ReadonlyMap<CaId, Date>> {
    const groups = await this.db.certificate.groupBy({ by: ["caId"], where: { status: "active", notAfter: { gt: now } }, _min: { notAfter: true } });
    return new Map(groups.flatMap((group) => (group._min.notAfter === null ? [] : [[group.caId as CaId, group._min.notAfter] as const])));
  }

  async countActiveExpiringBetween(now: Date, before: Date): Promise<number> {
    return this.db.certificate.count({ where: { status: "active", notAfter: { gt: now, lte: before } } });
  }

  async listRevoked(caId: CaId, filter: { readonly notExpiredAt: Date }): Promise<readonly RevokedEntry[]> {
    const rows = await this.db.certificate.findMany({
      where: { caId, status: "revoked", notAfter: { gt: filter.notExpiredAt } },
      select: { serialHex: true, revokedAt: true, revocationReason: true },
      orderBy: { revokedAt: "asc" },
    });
    return rows.map((row) => ({ serialHex: row.serialHex, revokedAt: row.revokedAt ?? filter.notExpiredAt, reasonCode: row.revocationReason ?? 0 }));
  }

  async list(query: CertificateQuery): Promise<Page<IssuedCertificate>> {
    const bySoonestExpiry = query.status === "active";
    const and: Prisma.CertificateWhereInput[] = [];
    if (query.expiringBefore !== undefined) and.push({ notAfter: { lt: query.expiringBefore } });
    if (query.after !== undefined) and.push(bySoonestExpiry ? await this.afterInExpiryOrder(query.after) : { id: { gt: query.after } });
    const where: Prisma.CertificateWhereInput = {
      ...(query.caId === undefined ? {} : { caId: query.caId }),
      ...(query.profile === undefined ? {} : { profile: query.profile }),
      ...(query.commonName === undefined ? {} : { commonName: query.commonName }),
      ...statusFilter(query.status, query.now),
      ...(and.length === 0 ? {} : { AND: and }),
    };
    const orderBy: Prisma.CertificateOrderByWithRelationInput[] = bySoonestExpiry ? [{ notAfter: "asc" }, { id: "asc" }] : [{ id: "asc" }];
    const rows = await this.db.certificate.findMany({ where, orderBy, take: query.limit + 1 });
    const items = rows.slice(0, query.limit).map(toDomain);
    const last = items.at(-1);
    return rows.length > query.limit && last !== undefined ? { items, nextCursor: last.id } : { items };
  }

  /**
   * The rows after the cursor in (notAfter, id) order. `notAfter >= a` is a range of the (status,
   * notAfter, id) index, so the walk starts at the cursor; the OR, checked on the rows the walk
   * meets, only drops those of the cursor's own notAfter up to its id.
   */
  private async afterInExpiryOrder(after: CertificateId): Promise<Prisma.CertificateWhereInput> {
    const cursor = await this.db.certificate.findUnique({ where: { id: after }, select: { notAfter: true } });
    // Certificates are never deleted, so an id this API returned always exists.
    if (cursor === null) throw invalidInput("cursor", "not a cursor returned by this API");
    return { notAfter: { gte: cursor.notAfter }, OR: [{ notAfter: { gt: cursor.notAfter } }, { id: { gt: after } }] };
  }
}

/** `expired` is derived from notAfter; `active` means not revoked and not expired. */
function statusFilter(status: CertificateQuery["status"], now: Date): Prisma.CertificateWhereInput {
  switch (status) {
    case undefined:
      return {};
    case "revoked":
      return { status: "revoked" };
    case "expired":
      return { status: "active", notAfter: { lte: now } };
    case "active":
      return { status: "active", notAfter: { gt: now } };
  }
}

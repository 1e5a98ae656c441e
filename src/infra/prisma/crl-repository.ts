import type { CaId } from "../../core/shared/ids.js";
import type { CrlRecord, CrlRepository } from "../../core/pki/index.js";
import type { CrlRecord as CrlRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

function toDomain(row: CrlRow): CrlRecord {
  return {
    caId: row.caId as CaId,
    number: row.number,
    kind: row.kind === "delta" ? "delta" : "full",
    isBase: row.isBase,
    ...(row.baseNumber === null ? {} : { baseNumber: row.baseNumber }),
    thisUpdate: row.thisUpdate,
    nextUpdate: row.nextUpdate,
    revokedTotal: row.revokedTotal,
    der: row.der,
  };
}

/** Issued CRLs in `crls`; (caId, number) is the primary key, so a number is used once per CA. */
export class PrismaCrlRepository implements CrlRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async create(crl: CrlRecord, now: Date): Promise<void> {
    await uniquely(
      () =>
        this.db.crlRecord.create({
          data: {
            caId: crl.caId,
            number: crl.number,
            kind: crl.kind,
            isBase: crl.isBase,
            baseNumber: crl.baseNumber ?? null,
            thisUpdate: crl.thisUpdate,
            nextUpdate: crl.nextUpdate,
            revokedTotal: crl.revokedTotal,
            der: Buffer.from(crl.der),
            createdAt: now,
          },
        }),
      `CRL number ${crl.number} of CA ${crl.caId} was taken by another writer`,
    );
  }

  async latest(caId: CaId, kind: "full" | "delta"): Promise<CrlRecord | undefined> {
    const row = await this.db.crlRecord.findFirst({ where: { caId, kind }, orderBy: { number: "desc" } });
    return row === null ? undefined : toDomain(row);
  }

  async latestBase(caId: CaId): Promise<CrlRecord | undefined> {
    const row = await this.db.crlRecord.findFirst({ where: { caId, kind: "full", isBase: true }, orderBy: { number: "desc" } });
    return row === null ? undefined : toDomain(row);
  }

  async highestNumber(caId: CaId): Promise<bigint> {
    const row = await this.db.crlRecord.findFirst({ where: { caId }, orderBy: { number: "desc" }, select: { number: true } });
    return row?.number ?? 0n;
  }
}

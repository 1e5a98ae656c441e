import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import type { KeyHandle } from "../../core/crypto/key-handle.js";
import type { KeyMaterialRepository, StoredKey } from "../../core/crypto/ports.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { KeyMaterialId } from "../../core/shared/ids.js";
import { MASTER_KEY_CHECK_SETTING, masterKeyCheckId } from "../crypto/master-key-check.js";
import type { KeyMaterial } from "./generated/sqlite/client.js";
import type { DatabaseProvider, DatabaseTransaction } from "./prisma-client.js";

/** Row → handle; undefined once the key was destroyed (sealed bytes removed). */
export function handleFromRow(row: KeyMaterial): KeyHandle | undefined {
  if (row.sealedRef === null || row.masterKeyId === null) return undefined;
  return { backend: row.backend, algorithm: row.algorithm as KeyAlgorithm, ref: row.sealedRef, wrappingKeyId: row.masterKeyId };
}

/** Handle → the columns that store it. */
export function rowFromHandle(handle: KeyHandle) {
  return { backend: handle.backend, algorithm: handle.algorithm, sealedRef: Buffer.from(handle.ref), masterKeyId: handle.wrappingKeyId };
}

function storedKey(row: KeyMaterial): StoredKey | undefined {
  const handle = handleFromRow(row);
  return handle === undefined ? undefined : { id: row.id as KeyMaterialId, handle, publicKeySpki: row.publicKeySpki };
}

/**
 * Refuses to store a key sealed under anything but the master key the data is currently sealed
 * under (the check value in kpki_meta). A process that still runs with a key that `kpki master-key
 * rotate` retired would otherwise write keys that nobody can open after its restart. On PostgreSQL
 * the check row is read FOR SHARE: a rotation locks it first, so a concurrent store waits for the
 * rotation and then refuses; SQLite serializes writers anyway.
 */
export async function assertSealedUnderCurrentMasterKey(db: DatabaseTransaction, provider: DatabaseProvider, handle: KeyHandle): Promise<void> {
  const rows =
    provider === "postgresql"
      ? await db.$queryRaw<{ value: string }[]>`SELECT "value" FROM "kpki_meta" WHERE "key" = ${MASTER_KEY_CHECK_SETTING} FOR SHARE`
      : await db.$queryRaw<{ value: string }[]>`SELECT "value" FROM "kpki_meta" WHERE "key" = ${MASTER_KEY_CHECK_SETTING}`;
  const current = rows[0] === undefined ? undefined : masterKeyCheckId(rows[0].value);
  if (current !== undefined && current !== handle.wrappingKeyId) {
    throw new DomainError(
      "unavailable",
      `the master key was rotated to ${current} while this kpki process runs with ${handle.wrappingKeyId}; restart it with the new key (nothing was stored)`,
    );
  }
}

/** Sealed private keys in the `key_materials` table. */
export class PrismaKeyMaterialRepository implements KeyMaterialRepository {
  constructor(
    private readonly db: DatabaseTransaction,
    private readonly provider: DatabaseProvider,
  ) {}

  async create(key: StoredKey, at: Date): Promise<void> {
    await assertSealedUnderCurrentMasterKey(this.db, this.provider, key.handle);
    await this.db.keyMaterial.create({ data: { id: key.id, ...rowFromHandle(key.handle), publicKeySpki: Buffer.from(key.publicKeySpki), createdAt: at } });
  }

  async findById(id: KeyMaterialId): Promise<StoredKey | undefined> {
    const row = await this.db.keyMaterial.findUnique({ where: { id } });
    return row === null ? undefined : storedKey(row);
  }

  async listSealedWithOtherKey(wrappingKeyId: string, limit: number): Promise<readonly StoredKey[]> {
    const rows = await this.db.keyMaterial.findMany({
      where: { sealedRef: { not: null }, masterKeyId: { not: wrappingKeyId } },
      orderBy: { id: "asc" },
      take: limit,
    });
    return rows.flatMap((row) => storedKey(row) ?? []);
  }

  async replaceHandle(id: KeyMaterialId, handle: KeyHandle): Promise<void> {
    await this.db.keyMaterial.update({ where: { id }, data: rowFromHandle(handle) });
  }

  async countByWrappingKey(): Promise<ReadonlyMap<string, number>> {
    const groups = await this.db.keyMaterial.groupBy({ by: ["masterKeyId"], where: { sealedRef: { not: null } }, _count: { _all: true } });
    return new Map(groups.flatMap((g) => (g.masterKeyId === null ? [] : [[g.masterKeyId, g._count._all] as const])));
  }
}

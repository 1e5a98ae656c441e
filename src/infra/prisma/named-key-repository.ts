import type { NamedKey, NamedKeyAlgorithm } from "../../core/kms/named-key.js";
import type { NamedKeyRepository } from "../../core/kms/ports.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { NamedKey as NamedKeyRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

function toDomain(row: NamedKeyRow): NamedKey {
  return {
    name: row.name,
    algorithm: row.algorithm as NamedKeyAlgorithm,
    currentVersion: row.currentVersion,
    minDecryptionVersion: row.minDecryptionVersion,
    ...(row.rotatePeriodSeconds === null ? {} : { rotatePeriodSeconds: row.rotatePeriodSeconds }),
    lastRotatedAt: row.lastRotatedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The columns `update` replaces (name, algorithm and creation date never change). */
function mutableColumns(key: NamedKey) {
  return {
    currentVersion: key.currentVersion,
    minDecryptionVersion: key.minDecryptionVersion,
    rotatePeriodSeconds: key.rotatePeriodSeconds ?? null,
    lastRotatedAt: key.lastRotatedAt,
    updatedAt: key.updatedAt,
  };
}

/**
 * Named keys (encryption as a service) in `named_keys`; their versions are managed objects. Two
 * replicas rotating one key at once both write the next version's (keyName, keyVersion): the
 * unique index lets one win and the other get `already_exists`.
 */
export class PrismaNamedKeyRepository implements NamedKeyRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async create(key: NamedKey): Promise<void> {
    await uniquely(
      () => this.db.namedKey.create({ data: { name: key.name, algorithm: key.algorithm, createdAt: key.createdAt, ...mutableColumns(key) } }),
      `named key ${key.name} already exists`,
    );
  }

  async update(key: NamedKey): Promise<void> {
    const { count } = await this.db.namedKey.updateMany({ where: { name: key.name }, data: mutableColumns(key) });
    if (count === 0) throw new DomainError("not_found", `named key ${key.name} does not exist`);
  }

  async findByName(name: string): Promise<NamedKey | undefined> {
    const row = await this.db.namedKey.findUnique({ where: { name } });
    return row === null ? undefined : toDomain(row);
  }

  async list(): Promise<readonly NamedKey[]> {
    const rows = await this.db.namedKey.findMany({ orderBy: { name: "asc" } });
    return rows.map(toDomain);
  }
}

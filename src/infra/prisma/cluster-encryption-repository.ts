import type { ClusterEncryption, ClusterEncryptionRepository, EncryptionKey, ProviderEntry, Rotation, StaticProvider } from "../../core/kubernetes/index.js";
import type { KeyMaterialId } from "../../core/shared/ids.js";
import type { ClusterEncryption as SetupRow, ClusterEncryptionKey as KeyRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

/** A rotation as stored: dates as ISO strings. */
type StoredRotation = Omit<Rotation, "startedAt" | "updatedAt"> & { readonly startedAt: string; readonly updatedAt: string };

function rotationFromJson(json: string | null): Rotation | undefined {
  if (json === null) return undefined;
  const stored = JSON.parse(json) as StoredRotation;
  return { ...stored, startedAt: new Date(stored.startedAt), updatedAt: new Date(stored.updatedAt) };
}

function rotationToJson(rotation: Rotation | undefined): string | null {
  return rotation === undefined ? null : JSON.stringify({ ...rotation, startedAt: rotation.startedAt.toISOString(), updatedAt: rotation.updatedAt.toISOString() });
}

function setupToDomain(row: SetupRow): ClusterEncryption {
  const rotation = rotationFromJson(row.rotation);
  return {
    clusterId: row.clusterId,
    resources: JSON.parse(row.resources) as string[],
    provider: JSON.parse(row.provider) as ProviderEntry,
    ...(rotation === undefined ? {} : { rotation }),
    nextKeyNumber: row.nextKeyNumber,
    ...(row.keyRotationPeriodSeconds === null ? {} : { keyRotationPeriodSeconds: row.keyRotationPeriodSeconds }),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function keyToDomain(row: KeyRow): EncryptionKey {
  return {
    id: row.id,
    clusterId: row.clusterId,
    name: row.name,
    provider: row.provider as StaticProvider,
    keyMaterialId: row.keyMaterialId as KeyMaterialId,
    state: row.state === "retired" ? "retired" : "active",
    createdAt: row.createdAt,
    ...(row.retiredAt === null ? {} : { retiredAt: row.retiredAt }),
  };
}

/** Mutable columns: everything but the cluster, the resources and the creation time. */
function mutable(setup: ClusterEncryption) {
  return {
    provider: JSON.stringify(setup.provider),
    rotation: rotationToJson(setup.rotation),
    nextKeyNumber: setup.nextKeyNumber,
    keyRotationPeriodSeconds: setup.keyRotationPeriodSeconds ?? null,
    version: setup.version,
    updatedAt: setup.updatedAt,
  };
}

/**
 * Encryption at rest in `cluster_encryption` (one row per cluster; provider and rotation as JSON —
 * names and settings only, never a secret) and its static keys in `cluster_encryption_keys`, whose
 * secrets are sealed in `key_materials`, where master-key rotation re-seals them.
 */
export class PrismaClusterEncryptionRepository implements ClusterEncryptionRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async find(clusterId: string): Promise<ClusterEncryption | undefined> {
    const row = await this.db.clusterEncryption.findUnique({ where: { clusterId } });
    return row === null ? undefined : setupToDomain(row);
  }

  async listWithKeyRotationPeriod(): Promise<readonly ClusterEncryption[]> {
    const rows = await this.db.clusterEncryption.findMany({ where: { keyRotationPeriodSeconds: { not: null } }, orderBy: { clusterId: "asc" } });
    return rows.map(setupToDomain);
  }

  async create(setup: ClusterEncryption): Promise<void> {
    await uniquely(
      () => this.db.clusterEncryption.create({ data: { clusterId: setup.clusterId, resources: JSON.stringify(setup.resources), createdAt: setup.createdAt, ...mutable(setup) } }),
      `encryption at rest of cluster ${setup.clusterId} already exists`,
    );
  }

  async update(setup: ClusterEncryption, expectedVersion: number): Promise<boolean> {
    // Compare-and-set on the version: on PostgreSQL the row lock makes a concurrent second update
    // wait and then match nothing.
    const { count } = await this.db.clusterEncryption.updateMany({ where: { clusterId: setup.clusterId, version: expectedVersion }, data: mutable(setup) });
    return count === 1;
  }

  async createKey(key: EncryptionKey): Promise<void> {
    await uniquely(
      () =>
        this.db.clusterEncryptionKey.create({
          data: { id: key.id, clusterId: key.clusterId, name: key.name, provider: key.provider, keyMaterialId: key.keyMaterialId, state: key.state, createdAt: key.createdAt, retiredAt: key.retiredAt ?? null },
        }),
      `static key ${key.name} of cluster ${key.clusterId} already exists`,
    );
  }

  async retireKey(clusterId: string, name: string, at: Date): Promise<void> {
    await this.db.clusterEncryptionKey.updateMany({ where: { clusterId, name, state: "active" }, data: { state: "retired", retiredAt: at } });
  }

  async listKeys(clusterId: string): Promise<readonly EncryptionKey[]> {
    return (await this.db.clusterEncryptionKey.findMany({ where: { clusterId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] })).map(keyToDomain);
  }
}

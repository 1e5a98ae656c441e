import type { KubernetesKeyAlgorithm, ServiceAccountKeyChange, ServiceAccountKeyRepository, ServiceAccountKeyState, ServiceAccountKeyVersion } from "../../core/kubernetes/index.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { KeyMaterialId } from "../../core/shared/ids.js";
import type { KeyMaterial as KeyMaterialRow, ServiceAccountKey as ServiceAccountKeyRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { isUniqueViolation } from "./prisma-errors.js";

function toDomain(row: ServiceAccountKeyRow & { keyMaterial: Pick<KeyMaterialRow, "algorithm" | "publicKeySpki"> }): ServiceAccountKeyVersion {
  return {
    clusterId: row.clusterId,
    version: row.version,
    keyMaterialId: row.keyMaterialId as KeyMaterialId,
    algorithm: row.keyMaterial.algorithm as KubernetesKeyAlgorithm,
    publicKeySpki: new Uint8Array(row.keyMaterial.publicKeySpki),
    state: row.state as ServiceAccountKeyState,
    createdAt: row.createdAt,
    ...(row.signingFrom === null ? {} : { signingFrom: row.signingFrom }),
    ...(row.signingUntil === null ? {} : { signingUntil: row.signingUntil }),
    ...(row.retireAfter === null ? {} : { retireAfter: row.retireAfter }),
    ...(row.retiredAt === null ? {} : { retiredAt: row.retiredAt }),
  };
}

/**
 * The versions of each cluster's service-account key in `service_account_keys`; the keys
 * themselves are sealed in `key_materials`. Rotation steps are compare-and-set updates on `state`,
 * and (clusterId, version) is unique, so concurrent steps on several replicas cannot both apply.
 */
export class PrismaServiceAccountKeyRepository implements ServiceAccountKeyRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async listByCluster(clusterId: string): Promise<readonly ServiceAccountKeyVersion[]> {
    const rows = await this.db.serviceAccountKey.findMany({
      where: { clusterId },
      orderBy: { version: "asc" },
      include: { keyMaterial: { select: { algorithm: true, publicKeySpki: true } } },
    });
    return rows.map(toDomain);
  }

  async create(version: ServiceAccountKeyVersion): Promise<void> {
    try {
      await this.db.serviceAccountKey.create({
        data: {
          id: `sa:${version.clusterId}:${version.version}`,
          clusterId: version.clusterId,
          version: version.version,
          keyMaterialId: version.keyMaterialId,
          state: version.state,
          createdAt: version.createdAt,
          signingFrom: version.signingFrom ?? null,
          signingUntil: version.signingUntil ?? null,
          retireAfter: version.retireAfter ?? null,
          retiredAt: version.retiredAt ?? null,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError("conflict", `version ${version.version} of this cluster's service-account key was created concurrently; look at the keys again`, {}, { cause: error });
      throw error;
    }
  }

  async transition(clusterId: string, version: number, from: ServiceAccountKeyState, change: ServiceAccountKeyChange): Promise<boolean> {
    const { count } = await this.db.serviceAccountKey.updateMany({
      where: { clusterId, version, state: from },
      data: {
        state: change.state,
        ...(change.signingFrom === undefined ? {} : { signingFrom: change.signingFrom }),
        ...(change.signingUntil === undefined ? {} : { signingUntil: change.signingUntil }),
        ...(change.retireAfter === undefined ? {} : { retireAfter: change.retireAfter }),
        ...(change.retiredAt === undefined ? {} : { retiredAt: change.retiredAt }),
      },
    });
    return count === 1;
  }

  async destroyPrivateKey(keyMaterialId: KeyMaterialId, at: Date): Promise<void> {
    await this.db.keyMaterial.updateMany({ where: { id: keyMaterialId, sealedRef: { not: null } }, data: { sealedRef: null, masterKeyId: null, destroyedAt: at } });
  }

  async listRetirementDue(now: Date): Promise<readonly string[]> {
    const rows = await this.db.serviceAccountKey.findMany({
      where: { state: "verifying", retireAfter: { lte: now } },
      orderBy: { retireAfter: "asc" },
      select: { cluster: { select: { name: true } } },
    });
    return rows.map((row) => row.cluster.name);
  }
}

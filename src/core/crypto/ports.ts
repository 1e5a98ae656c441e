import type { AuditLog } from "../shared/audit.js";
import type { KeyMaterialId } from "../shared/ids.js";
import type { KeyHandle } from "./key-handle.js";

/** A stored private key: its sealed handle and public half. */
export interface StoredKey {
  readonly id: KeyMaterialId;
  readonly handle: KeyHandle;
  readonly publicKeySpki: Uint8Array;
}

/**
 * Every sealed private key, whoever owns it (CA keys, the service's TLS key, managed keys later):
 * one table, so master-key rotation has one place to re-seal.
 */
export interface KeyMaterialRepository {
  create(key: StoredKey, at: Date): Promise<void>;
  findById(id: KeyMaterialId): Promise<StoredKey | undefined>;
  /** Up to `limit` keys not sealed under `wrappingKeyId` (and not destroyed). */
  listSealedWithOtherKey(wrappingKeyId: string, limit: number): Promise<readonly StoredKey[]>;
  replaceHandle(id: KeyMaterialId, handle: KeyHandle): Promise<void>;
  /** How many live keys are sealed under each wrapping key id. */
  countByWrappingKey(): Promise<ReadonlyMap<string, number>>;
}

/** The repositories master-key rotation touches. */
export interface KeyMaterialRepositories {
  readonly keyMaterials: KeyMaterialRepository;
  readonly audit: AuditLog;
}

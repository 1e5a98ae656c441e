import type { KeyMaterialRepository } from "../crypto/ports.js";
import type { AuditLog } from "../shared/audit.js";
import type { Page } from "../shared/page.js";
import type { CryptographicAlgorithm, ObjectType, State } from "./kmip-vocabulary.js";
import type { ManagedObject } from "./managed-object.js";
import type { KeyVersionUsage, NamedKey } from "./named-key.js";

/** A date range filter; either end may be open. */
export interface DateRange {
  readonly from?: Date;
  readonly to?: Date;
}

/**
 * KMIP Locate filters, combined with AND; served by indexes. `state` is matched against the
 * effective state at `now` (activation/deactivation dates count).
 */
export interface LocateQuery {
  readonly name?: string;
  readonly objectType?: ObjectType;
  readonly algorithm?: CryptographicAlgorithm;
  readonly state?: State;
  readonly customAttribute?: { readonly name: string; readonly value: string };
  readonly initialDate?: DateRange;
  readonly activationDate?: DateRange;
  readonly deactivationDate?: DateRange;
  readonly now: Date;
  readonly limit: number;
  /** UID of the last item of the previous page (UIDs are UUIDv7: creation order). */
  readonly after?: string;
}

/** Storage of managed objects. Key material goes to the key material table (sealed). */
export interface ManagedObjectRepository {
  /** Inserts the object, its sealed key (if any), names, links and custom attributes. */
  create(object: ManagedObject): Promise<void>;
  /**
   * Replaces everything mutable (state, dates, names, links, custom attributes, usage mask, flags,
   * revocation reason); when `key` became undefined, the sealed material is erased (Destroy).
   * `stored`: the object as findForUpdate read it in this transaction, to write only the difference
   * without reading the object again; without it, the stored object is read after the row is locked.
   */
  update(object: ManagedObject, stored?: ManagedObject): Promise<void>;
  findByUid(uid: string): Promise<ManagedObject | undefined>;
  /**
   * findByUid for a read-change-write in one transaction: what it returns is what the transaction
   * overwrites (no other transaction can change the object before the commit, or the commit fails
   * and the unit of work reruns the transaction).
   */
  findForUpdate(uid: string): Promise<ManagedObject | undefined>;
  /** Objects whose stored state their activation or deactivation date has overtaken (served by the state+date indexes). */
  listLaggingState(now: Date, limit: number): Promise<readonly ManagedObject[]>;
  locate(query: LocateQuery): Promise<Page<ManagedObject>>;
  /** The object that is version `version` of named key `name`. */
  findVersion(name: string, version: number): Promise<ManagedObject | undefined>;
  /** Every version of a named key with its usage counters, oldest first. */
  listVersionUsage(name: string): Promise<readonly KeyVersionUsage[]>;
  /** Adds to a version's usage counters (flushed in batches, not per operation). */
  addUsage(uid: string, usage: { encrypts: number; decrypts: number; lastEncryptAt?: Date; lastDecryptAt?: Date }): Promise<void>;
}

/** Storage of named keys. */
export interface NamedKeyRepository {
  create(key: NamedKey): Promise<void>;
  update(key: NamedKey): Promise<void>;
  findByName(name: string): Promise<NamedKey | undefined>;
  list(): Promise<readonly NamedKey[]>;
}

/** The repositories key-service use cases touch in one transaction. */
export interface KmsRepositories {
  readonly managedObjects: ManagedObjectRepository;
  readonly namedKeys: NamedKeyRepository;
  readonly keyMaterials: KeyMaterialRepository;
  readonly audit: AuditLog;
}

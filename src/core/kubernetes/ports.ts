import type { NamedKeyRepository } from "../kms/index.js";
import type { PkiRepositories } from "../pki/index.js";
import type { Cluster, ClusterNode } from "./cluster.js";
import type { ServiceAccountKeyState, ServiceAccountKeyVersion } from "./service-account-key.js";
import type { ClusterEncryption, EncryptionKey } from "./encryption-at-rest.js";

/** Storage of the cluster inventory. */
export interface ClusterRepository {
  /** Inserts; fails with `already_exists` on a taken name. */
  create(cluster: Cluster): Promise<void>;
  /** Replaces the mutable settings (not name, CAs, key algorithm or nodes). */
  update(cluster: Cluster): Promise<void>;
  findByName(name: string): Promise<Cluster | undefined>;
  list(): Promise<readonly Cluster[]>;
  /** Inserts or replaces a node. */
  putNode(clusterId: string, node: ClusterNode): Promise<void>;
  /** False when there was no such node. */
  deleteNode(clusterId: string, nodeName: string): Promise<boolean>;
}

/** The dates a state change sets (absent ones stay as they are). */
export interface ServiceAccountKeyChange {
  readonly state: ServiceAccountKeyState;
  readonly signingFrom?: Date;
  readonly signingUntil?: Date;
  readonly retireAfter?: Date;
  readonly retiredAt?: Date;
}

/** Storage of the versions of each cluster's service-account key (the keys are key materials). */
export interface ServiceAccountKeyRepository {
  /** Every version of the cluster, oldest first, with its algorithm and public key. */
  listByCluster(clusterId: string): Promise<readonly ServiceAccountKeyVersion[]>;
  /** Inserts a version whose key material is stored; `conflict` when the cluster has that version number already. */
  create(version: ServiceAccountKeyVersion): Promise<void>;
  /**
   * Compare-and-set: moves the version from `from` to `change.state`. False when it was not in
   * `from` any more (a concurrent step moved it first).
   */
  transition(clusterId: string, version: number, from: ServiceAccountKeyState, change: ServiceAccountKeyChange): Promise<boolean>;
  /** Erases the sealed private key of a version (the public key stays on record). */
  destroyPrivateKey(keyMaterialId: ServiceAccountKeyVersion["keyMaterialId"], at: Date): Promise<void>;
  /** Names of the clusters with a verifying version whose overlap ended at or before `now`. */
  listRetirementDue(now: Date): Promise<readonly string[]>;
}

/** Storage of a cluster's encryption at rest and its static keys (the secrets stay in key_materials). */
export interface ClusterEncryptionRepository {
  find(clusterId: string): Promise<ClusterEncryption | undefined>;
  /** Setups with a static key rotation period (for the job that starts due rotations). */
  listWithKeyRotationPeriod(): Promise<readonly ClusterEncryption[]>;
  /** Inserts; fails with `already_exists` when the cluster has one. */
  create(setup: ClusterEncryption): Promise<void>;
  /** Replaces provider, rotation, next key number, key rotation period, version and updatedAt if the stored version is still `expectedVersion`; false otherwise. */
  update(setup: ClusterEncryption, expectedVersion: number): Promise<boolean>;
  /** Inserts a key; fails with `already_exists` on a name the cluster used before. */
  createKey(key: EncryptionKey): Promise<void>;
  /** Marks a key retired (it stays stored). */
  retireKey(clusterId: string, name: string, at: Date): Promise<void>;
  /** Every key of the cluster, oldest first. */
  listKeys(clusterId: string): Promise<readonly EncryptionKey[]>;
}

/** The repositories Kubernetes use cases touch in one transaction. */
export interface KubernetesRepositories extends PkiRepositories {
  readonly clusters: ClusterRepository;
  readonly serviceAccountKeys: ServiceAccountKeyRepository;
  readonly clusterEncryption: ClusterEncryptionRepository;
}

/** What encryption-at-rest use cases read besides: the named keys a KMS provider may use. */
export interface EncryptionRepositories extends KubernetesRepositories {
  readonly namedKeys: NamedKeyRepository;
}

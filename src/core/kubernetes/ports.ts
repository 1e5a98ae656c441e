import type { PkiRepositories } from "../pki/index.js";
import type { Cluster, ClusterNode } from "./cluster.js";

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

/** The repositories Kubernetes use cases touch in one transaction. */
export interface KubernetesRepositories extends PkiRepositories {
  readonly clusters: ClusterRepository;
}

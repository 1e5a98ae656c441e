import type { Cluster, ClusterNode, ClusterRepository, KubernetesKeyAlgorithm, NodeRole } from "../../core/kubernetes/index.js";
import type { CaId, KeyMaterialId } from "../../core/shared/ids.js";
import type { Cluster as ClusterRow, ClusterNode as NodeRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

const list = (json: string): string[] => JSON.parse(json) as string[];

function nodeToDomain(row: NodeRow): ClusterNode {
  return { name: row.name, role: row.role as NodeRole, addresses: list(row.addresses), createdAt: row.createdAt, updatedAt: row.updatedAt };
}

function toDomain(row: ClusterRow & { nodes: NodeRow[] }): Cluster {
  return {
    id: row.id,
    name: row.name,
    dnsDomain: row.dnsDomain,
    serviceSubnets: list(row.serviceSubnets),
    controlPlaneEndpoint: row.controlPlaneEndpoint,
    apiServerCertSans: list(row.apiServerCertSans),
    etcdServerCertSans: list(row.etcdServerCertSans),
    etcdPeerCertSans: list(row.etcdPeerCertSans),
    keyAlgorithm: row.keyAlgorithm as KubernetesKeyAlgorithm,
    certificateValiditySeconds: row.certificateValiditySeconds,
    authorities: { ca: row.kubernetesCaId as CaId, "etcd-ca": row.etcdCaId as CaId, "front-proxy-ca": row.frontProxyCaId as CaId },
    serviceAccountKeyId: row.serviceAccountKeyId as KeyMaterialId,
    serviceAccountKeyOverlapSeconds: row.serviceAccountKeyOverlapSeconds,
    serviceAccountKeyRotationPeriodSeconds: row.serviceAccountKeyRotationPeriodSeconds,
    nodes: [...row.nodes].sort((a, b) => a.name.localeCompare(b.name)).map(nodeToDomain),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The settings columns (everything that `update` may change). */
function settings(cluster: Cluster) {
  return {
    dnsDomain: cluster.dnsDomain,
    serviceSubnets: JSON.stringify(cluster.serviceSubnets),
    controlPlaneEndpoint: cluster.controlPlaneEndpoint,
    apiServerCertSans: JSON.stringify(cluster.apiServerCertSans),
    etcdServerCertSans: JSON.stringify(cluster.etcdServerCertSans),
    etcdPeerCertSans: JSON.stringify(cluster.etcdPeerCertSans),
    certificateValiditySeconds: cluster.certificateValiditySeconds,
    serviceAccountKeyOverlapSeconds: cluster.serviceAccountKeyOverlapSeconds,
    serviceAccountKeyRotationPeriodSeconds: cluster.serviceAccountKeyRotationPeriodSeconds,
    updatedAt: cluster.updatedAt,
  };
}

function nodeColumns(node: ClusterNode) {
  return { role: node.role, addresses: JSON.stringify(node.addresses), createdAt: node.createdAt, updatedAt: node.updatedAt };
}

/** Clusters in `clusters`, their nodes in `cluster_nodes`. */
export class PrismaClusterRepository implements ClusterRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async create(cluster: Cluster): Promise<void> {
    await uniquely(
      () =>
        this.db.cluster.create({
          data: {
            id: cluster.id,
            name: cluster.name,
            keyAlgorithm: cluster.keyAlgorithm,
            kubernetesCaId: cluster.authorities.ca,
            etcdCaId: cluster.authorities["etcd-ca"],
            frontProxyCaId: cluster.authorities["front-proxy-ca"],
            serviceAccountKeyId: cluster.serviceAccountKeyId,
            createdAt: cluster.createdAt,
            ...settings(cluster),
            nodes: { create: cluster.nodes.map((node) => ({ id: `${cluster.id}:${node.name}`, name: node.name, ...nodeColumns(node) })) },
          },
        }),
      `cluster ${cluster.name} already exists`,
    );
  }

  async update(cluster: Cluster): Promise<void> {
    await this.db.cluster.update({ where: { id: cluster.id }, data: settings(cluster) });
  }

  async findByName(name: string): Promise<Cluster | undefined> {
    const row = await this.db.cluster.findUnique({ where: { name }, include: { nodes: true } });
    return row === null ? undefined : toDomain(row);
  }

  async list(): Promise<readonly Cluster[]> {
    return (await this.db.cluster.findMany({ orderBy: { name: "asc" }, include: { nodes: true } })).map(toDomain);
  }

  async putNode(clusterId: string, node: ClusterNode): Promise<void> {
    await this.db.clusterNode.upsert({
      where: { clusterId_name: { clusterId, name: node.name } },
      create: { id: `${clusterId}:${node.name}`, clusterId, name: node.name, ...nodeColumns(node) },
      update: nodeColumns(node),
    });
  }

  async deleteNode(clusterId: string, nodeName: string): Promise<boolean> {
    return (await this.db.clusterNode.deleteMany({ where: { clusterId, name: nodeName } })).count > 0;
  }
}

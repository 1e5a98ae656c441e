import type { IssuanceService, IssueResult } from "../pki/index.js";
import { DomainError, invalidInput } from "../shared/domain-error.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { authorityName, type CaDomain, type Cluster, type ClusterNode } from "./cluster.js";
import type { ClusterService } from "./cluster-service.js";
import { kubeadmCertificate, materializeProfile, type KubeadmCertificateSpec } from "./kubeadm-profiles.js";
import type { KubernetesRepositories } from "./ports.js";
import type { ServiceAccountKeyFiles, ServiceAccountKeyService } from "./service-account-key-service.js";

/** What a node sends: its `generate-csr` CSRs by kubeadm name (DER). */
export interface KubeadmSignRequest {
  readonly cluster: string;
  readonly node: string;
  readonly csrs: ReadonlyMap<string, Uint8Array>;
  /**
   * The caller may take the cluster's sa.key (the transport asks the access policy: a `node` grant
   * may not); a control-plane node's answer carries the service-account key pair only then.
   */
  readonly includeServiceAccountKey: boolean;
}

/**
 * The service-account files as kubeadm writes them: sa.key (PKCS#1/SEC1 PEM) holds the signing
 * version for the current rotation step, sa.pub (PKIX PEM blocks) every version the API servers
 * must accept (reference §5).
 */
export type ServiceAccountKeyPair = ServiceAccountKeyFiles;

export interface KubeadmSignResult {
  readonly cluster: Cluster;
  readonly node: ClusterNode;
  readonly certificates: ReadonlyMap<string, IssueResult>;
  /** DER of each domain's issuing CA: exactly what goes into ca.crt, etcd/ca.crt, front-proxy-ca.crt. */
  readonly caCertificates: Readonly<Record<CaDomain, Uint8Array>>;
  /** For control-plane nodes only. */
  readonly serviceAccount?: ServiceAccountKeyPair;
}

/**
 * The kubeadm external-CA hook's server side: signs the CSRs `kubeadm certs generate-csr` made for
 * one node, each under its kubeadm profile materialized from the cluster inventory, all in one
 * transaction; returns the cluster's CA certificates and, for control-plane nodes, the
 * service-account key pair. A node gets only its own certificates and only those of its role.
 */
export class KubeadmSigningService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KubernetesRepositories>;
      readonly clusters: ClusterService;
      readonly issuance: IssuanceService;
      readonly serviceAccountKeys: ServiceAccountKeyService;
    },
  ) {}

  async sign(context: RequestContext, request: KubeadmSignRequest): Promise<KubeadmSignResult> {
    const cluster = await this.deps.clusters.get(request.cluster);
    const node = nodeOf(cluster, request.node);
    const problems: string[] = [];
    const items = [...request.csrs].flatMap(([name, csrDer]) => {
      try {
        const spec = this.specFor(name, node);
        return [{ name, ca: authorityName(cluster.name, spec.ca), profile: materializeProfile(spec, cluster, node), csrDer }];
      } catch (error) {
        if (!(error instanceof DomainError) || error.code === "internal") throw error;
        problems.push(error.message);
        return [];
      }
    });
    const certificates = await this.deps.issuance.issueBatch(context, { clusterId: cluster.id, items, problems });
    const serviceAccount = node.role === "control-plane" && request.includeServiceAccountKey ? await this.serviceAccountFiles(context, cluster) : undefined;
    return {
      cluster,
      node,
      certificates,
      caCertificates: await this.caCertificates(cluster),
      ...(serviceAccount === undefined ? {} : { serviceAccount }),
    };
  }

  /** A kubelet serving certificate (CN system:node:<node>, SANs from the node's registered addresses). */
  async signKubeletServing(context: RequestContext, request: { cluster: string; node: string; csrDer: Uint8Array }): Promise<IssueResult> {
    const cluster = await this.deps.clusters.get(request.cluster);
    const node = nodeOf(cluster, request.node);
    const spec = this.specFor("kubelet-serving", node);
    const results = await this.deps.issuance.issueBatch(context, {
      clusterId: cluster.id,
      items: [{ name: spec.name, ca: authorityName(cluster.name, spec.ca), profile: materializeProfile(spec, cluster, node), csrDer: request.csrDer }],
    });
    const result = results.get(spec.name);
    if (result === undefined) throw new DomainError("internal", "kubelet-serving result missing");
    return result;
  }

  /** Each domain's issuing CA certificate: only that one certificate, never the root above it. */
  async caCertificates(cluster: Cluster): Promise<Readonly<Record<CaDomain, Uint8Array>>> {
    return this.deps.uow.read(async (r) => {
      const der = async (domain: CaDomain) => {
        const ca = await r.authorities.findById(cluster.authorities[domain]);
        if (ca?.certificateDer === undefined) throw new DomainError("internal", `CA ${domain} of cluster ${cluster.name} has no certificate`);
        return ca.certificateDer;
      };
      return { ca: await der("ca"), "etcd-ca": await der("etcd-ca"), "front-proxy-ca": await der("front-proxy-ca") };
    });
  }

  private specFor(name: string, node: ClusterNode): KubeadmCertificateSpec {
    const spec = kubeadmCertificate(name);
    if (spec === undefined) {
      throw invalidInput(`csrs.${name}`, `${name}: not a kubeadm certificate name`);
    }
    if (!spec.roles.includes(node.role)) {
      throw new DomainError("policy_violation", `${name}: node ${node.name} is a ${node.role} node and may not obtain it (only ${spec.roles.join(" or ")} nodes may)`, { field: `csrs.${name}` });
    }
    return spec;
  }

  /** sa.key and sa.pub for the current rotation step (an audited export of the signing key). */
  private async serviceAccountFiles(context: RequestContext, cluster: Cluster): Promise<ServiceAccountKeyPair> {
    return this.deps.serviceAccountKeys.exportFiles(context, cluster.name);
  }
}

function nodeOf(cluster: Cluster, name: string): ClusterNode {
  const node = cluster.nodes.find((candidate) => candidate.name === name);
  if (node === undefined) throw new DomainError("not_found", `node ${name} is not registered in cluster ${cluster.name} (register it first)`, { field: "node" });
  return node;
}

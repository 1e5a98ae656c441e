import type { CryptoBackend } from "../crypto/crypto-backend.js";
import { storeAuthority, type HierarchyService } from "../pki/index.js";
import type { Clock } from "../shared/clock.js";
import { DomainError, invalidInput } from "../shared/domain-error.js";
import { newId, type KeyMaterialId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { authorityName, KUBERNETES_KEY_ALGORITHMS, type CaDomain, type Cluster, type ClusterNode, type KubernetesKeyAlgorithm, type NodeRole } from "./cluster.js";
import { assertEndpoint, assertNodeName, firstServiceIp, sanFromText } from "./network-names.js";
import type { KubernetesRepositories } from "./ports.js";
import { DEFAULT_OVERLAP_SECONDS, MAX_KEY_PERIOD_SECONDS, MIN_OVERLAP_SECONDS, MIN_ROTATION_PERIOD_SECONDS } from "./service-account-key.js";

const YEAR = 365 * 86_400;
/** Cluster names prefix CA names (`<cluster>.front-proxy-ca` must stay within 63 characters). */
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/;

/** A cluster name as clusters are created with (also what a cluster-scoped grant may name). */
export function assertClusterName(name: string, field = "name"): void {
  if (!CLUSTER_NAME.test(name)) throw invalidInput(field, "1–42 characters of a-z, 0-9 and '-', starting and ending with a letter or digit");
}
const MAX_SANS = 50;

/** What a cluster is created with; everything but name and endpoint has kubeadm's default. */
export interface CreateClusterRequest {
  readonly name: string;
  readonly controlPlaneEndpoint: string;
  readonly dnsDomain?: string;
  readonly serviceSubnets?: readonly string[];
  readonly apiServerCertSans?: readonly string[];
  readonly etcdServerCertSans?: readonly string[];
  readonly etcdPeerCertSans?: readonly string[];
  readonly keyAlgorithm?: KubernetesKeyAlgorithm;
  readonly certificateValiditySeconds?: number;
  /** Validity of the three cluster CAs (default 10 years, capped by the parent's). */
  readonly caValiditySeconds?: number;
  /** The CA that signs the cluster's CAs (default: the organisation root). */
  readonly parent?: string;
  readonly nodes?: readonly NodeSpec[];
  /** How long a replaced service-account signing key keeps verifying (default 7 days, at least 1 day). */
  readonly serviceAccountKeyOverlapSeconds?: number;
  /** Publish a new service-account key this often (default null: only on request). */
  readonly serviceAccountKeyRotationPeriodSeconds?: number | null;
}

/** The settings that may change after creation (the CAs and key algorithm may not). */
export type UpdateClusterRequest = Partial<
  Pick<
    CreateClusterRequest,
    | "controlPlaneEndpoint"
    | "dnsDomain"
    | "serviceSubnets"
    | "apiServerCertSans"
    | "etcdServerCertSans"
    | "etcdPeerCertSans"
    | "certificateValiditySeconds"
    | "serviceAccountKeyOverlapSeconds"
    | "serviceAccountKeyRotationPeriodSeconds"
  >
>;

export interface NodeSpec {
  readonly name: string;
  readonly role: NodeRole;
  readonly addresses: readonly string[];
}

/** kubeadm's CA subjects (reference §1.2): CN kubernetes / etcd-ca / front-proxy-ca, SAN DNS:<CN>. */
const CA_COMMON_NAMES: Readonly<Record<CaDomain, string>> = { ca: "kubernetes", "etcd-ca": "etcd-ca", "front-proxy-ca": "front-proxy-ca" };

/**
 * The cluster inventory. Creating a cluster makes its three issuing CAs (under the root or a named
 * parent) and its sealed service-account key (version 1, signing), and stores them with the cluster
 * in one transaction.
 */
export class ClusterService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KubernetesRepositories>;
      readonly hierarchy: HierarchyService;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly defaultParent: string;
    },
  ) {}

  async create(context: RequestContext, request: CreateClusterRequest): Promise<Cluster> {
    assertClusterName(request.name);
    const keyAlgorithm = request.keyAlgorithm ?? "RSA-2048";
    if (!(KUBERNETES_KEY_ALGORITHMS as readonly string[]).includes(keyAlgorithm)) throw invalidInput("keyAlgorithm", `must be one of ${KUBERNETES_KEY_ALGORITHMS.join(", ")}`);
    const now = this.deps.clock.now();
    const draft = validated({
      id: newId<string>(now, this.deps.random),
      name: request.name,
      dnsDomain: request.dnsDomain ?? "cluster.local",
      serviceSubnets: request.serviceSubnets ?? ["10.96.0.0/12"],
      controlPlaneEndpoint: request.controlPlaneEndpoint,
      apiServerCertSans: request.apiServerCertSans ?? [],
      etcdServerCertSans: request.etcdServerCertSans ?? [],
      etcdPeerCertSans: request.etcdPeerCertSans ?? [],
      keyAlgorithm,
      certificateValiditySeconds: request.certificateValiditySeconds ?? YEAR,
      serviceAccountKeyOverlapSeconds: request.serviceAccountKeyOverlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
      serviceAccountKeyRotationPeriodSeconds: request.serviceAccountKeyRotationPeriodSeconds ?? null,
      nodes: (request.nodes ?? []).map((node) => validatedNode(node, now)),
      createdAt: now,
      updatedAt: now,
    });
    if ((await this.deps.uow.read((r) => r.clusters.findByName(request.name))) !== undefined) {
      throw new DomainError("already_exists", `cluster ${request.name} already exists`, { field: "name" });
    }
    const authorities = await Promise.all(
      (["ca", "etcd-ca", "front-proxy-ca"] as const).map((domain) =>
        this.deps.hierarchy.prepare({
          name: authorityName(request.name, domain),
          type: "intermediate",
          parent: request.parent ?? this.deps.defaultParent,
          subject: { commonName: CA_COMMON_NAMES[domain] },
          subjectAltNames: [{ type: "dns", value: CA_COMMON_NAMES[domain] }],
          keyAlgorithm,
          pathLength: 0,
          ...(request.caValiditySeconds === undefined ? {} : { ttlSeconds: request.caValiditySeconds }),
          clusterId: draft.id,
        }),
      ),
    );
    const [kubernetesCa, etcdCa, frontProxyCa] = authorities;
    if (kubernetesCa === undefined || etcdCa === undefined || frontProxyCa === undefined) throw new DomainError("internal", "cluster CAs missing");
    const serviceAccountKey = await this.deps.crypto.generateKeyPair(keyAlgorithm);
    const cluster: Cluster = {
      ...draft,
      authorities: { ca: kubernetesCa.id, "etcd-ca": etcdCa.id, "front-proxy-ca": frontProxyCa.id },
      serviceAccountKeyId: `sa-key:${draft.id}` as KeyMaterialId,
    };
    await this.deps.uow.run(async (r) => {
      for (const ca of authorities) await storeAuthority(r, context, ca, "intermediate");
      await r.keyMaterials.create({ id: cluster.serviceAccountKeyId, handle: serviceAccountKey.handle, publicKeySpki: serviceAccountKey.publicKeySpki }, now);
      await r.clusters.create(cluster);
      // Version 1 signs from the start; rotations add versions (ServiceAccountKeyService).
      await r.serviceAccountKeys.create({
        clusterId: cluster.id,
        version: 1,
        keyMaterialId: cluster.serviceAccountKeyId,
        algorithm: keyAlgorithm,
        publicKeySpki: serviceAccountKey.publicKeySpki,
        state: "signing",
        createdAt: now,
        signingFrom: now,
      });
      await r.audit.record(
        { actor: context.principal.id, action: "cluster.create", target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { name: cluster.name, keyAlgorithm, nodes: cluster.nodes.length } },
        now,
      );
    });
    return cluster;
  }

  async list(): Promise<readonly Cluster[]> {
    return this.deps.uow.read((r) => r.clusters.list());
  }

  /** The named cluster, or `not_found`. */
  async get(name: string): Promise<Cluster> {
    const cluster = await this.deps.uow.read((r) => r.clusters.findByName(name));
    if (cluster === undefined) throw new DomainError("not_found", `cluster ${name} does not exist`, { field: "cluster" });
    return cluster;
  }

  async update(context: RequestContext, name: string, changes: UpdateClusterRequest): Promise<Cluster> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async (r) => {
      const current = await r.clusters.findByName(name);
      if (current === undefined) throw new DomainError("not_found", `cluster ${name} does not exist`, { field: "cluster" });
      const updated = validated({ ...current, ...definedOnly(changes), updatedAt: now });
      await r.clusters.update(updated);
      await r.audit.record(
        { actor: context.principal.id, action: "cluster.update", target: `cluster:${current.id}`, result: "success", requestId: context.requestId, details: { name, changed: Object.keys(definedOnly(changes)).join(",") } },
        now,
      );
      return updated;
    });
  }

  /** Registers or replaces a node. */
  async putNode(context: RequestContext, clusterName: string, spec: NodeSpec): Promise<ClusterNode> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async (r) => {
      const cluster = await r.clusters.findByName(clusterName);
      if (cluster === undefined) throw new DomainError("not_found", `cluster ${clusterName} does not exist`, { field: "cluster" });
      const existing = cluster.nodes.find((node) => node.name === spec.name);
      const node = { ...validatedNode(spec, now), createdAt: existing?.createdAt ?? now };
      await r.clusters.putNode(cluster.id, node);
      await r.audit.record(
        { actor: context.principal.id, action: "cluster.node.put", target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { node: node.name, role: node.role, addresses: node.addresses.join(",") } },
        now,
      );
      return node;
    });
  }

  async deleteNode(context: RequestContext, clusterName: string, nodeName: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.uow.run(async (r) => {
      const cluster = await r.clusters.findByName(clusterName);
      if (cluster === undefined) throw new DomainError("not_found", `cluster ${clusterName} does not exist`, { field: "cluster" });
      if (!(await r.clusters.deleteNode(cluster.id, nodeName))) throw new DomainError("not_found", `node ${nodeName} is not registered in cluster ${clusterName}`, { field: "node" });
      await r.audit.record({ actor: context.principal.id, action: "cluster.node.delete", target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { node: nodeName } }, now);
    });
  }
}

/** Validates every inventory setting; the cluster's certificates are derived from them. */
function validated<T extends Omit<Cluster, "authorities" | "serviceAccountKeyId">>(cluster: T): T {
  if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(cluster.dnsDomain)) throw invalidInput("dnsDomain", `"${cluster.dnsDomain}" is not a DNS domain`);
  if (cluster.serviceSubnets.length === 0 || cluster.serviceSubnets.length > 2) throw invalidInput("serviceSubnets", "one CIDR, or two for dual-stack");
  cluster.serviceSubnets.forEach((cidr) => firstServiceIp(cidr, "serviceSubnets"));
  assertEndpoint(cluster.controlPlaneEndpoint, "controlPlaneEndpoint");
  for (const field of ["apiServerCertSans", "etcdServerCertSans", "etcdPeerCertSans"] as const) {
    if (cluster[field].length > MAX_SANS) throw invalidInput(field, `at most ${MAX_SANS} names`);
    cluster[field].forEach((text) => sanFromText(text, field));
  }
  if (!Number.isInteger(cluster.certificateValiditySeconds) || cluster.certificateValiditySeconds < 3600 || cluster.certificateValiditySeconds > 5 * 365 * 86_400) {
    throw invalidInput("certificateValiditySeconds", "an integer from 3600 (1 hour) to 5 years");
  }
  const overlap = cluster.serviceAccountKeyOverlapSeconds;
  if (!Number.isInteger(overlap) || overlap < MIN_OVERLAP_SECONDS || overlap > MAX_KEY_PERIOD_SECONDS) {
    // Reference §5 step 4: the kubelet refreshes projected tokens within 24 h, so less breaks running pods.
    throw invalidInput("serviceAccountKeyOverlapSeconds", "an integer from 86400 (1 day: the kubelet refreshes projected tokens within 24 h) to 5 years");
  }
  const period = cluster.serviceAccountKeyRotationPeriodSeconds;
  if (period !== null && (!Number.isInteger(period) || period < MIN_ROTATION_PERIOD_SECONDS || period > MAX_KEY_PERIOD_SECONDS)) {
    throw invalidInput("serviceAccountKeyRotationPeriodSeconds", "null, or an integer from 86400 (1 day) to 5 years");
  }
  const names = new Set<string>();
  for (const node of cluster.nodes) {
    if (names.has(node.name)) throw invalidInput("nodes", `node ${node.name} is listed twice`);
    names.add(node.name);
  }
  return cluster;
}

function validatedNode(spec: NodeSpec, now: Date): ClusterNode {
  assertNodeName(spec.name, "name");
  if (spec.role !== "control-plane" && spec.role !== "worker") throw invalidInput("role", "control-plane or worker");
  if (spec.addresses.length > MAX_SANS) throw invalidInput("addresses", `at most ${MAX_SANS} addresses`);
  const addresses = spec.addresses.map((text) => {
    const san = sanFromText(text, "addresses");
    return san.value;
  });
  if (spec.role === "control-plane" && !addresses.some((address) => sanFromText(address, "addresses").type === "ip")) {
    throw invalidInput("addresses", `control-plane node ${spec.name} needs an IP address (kubeadm's advertiseAddress, an API server and etcd SAN)`);
  }
  return { name: spec.name, role: spec.role, addresses, createdAt: now, updatedAt: now };
}

function definedOnly<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}

import { Router, type Request } from "express";
import { isAllowed } from "../../../core/access/index.js";
import { authorityName, type Cluster, type ClusterNode, type ClusterService, type CreateClusterRequest, type KubeadmSigningService, type NodeRole, type UpdateClusterRequest } from "../../../core/kubernetes/index.js";
import type { Clock } from "../../../core/shared/clock.js";
import { derFromPem } from "../pem-input.js";
import { certificateJson, certificatesPem } from "../presenters.js";
import { requestContext, requestState } from "../request-state.js";

/** Dependencies of the cluster routes. */
export interface ClusterRouteDependencies {
  readonly clusters: ClusterService;
  readonly kubeadm: KubeadmSigningService;
  readonly clock: Clock;
}

const CSR_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

function nodeJson(node: ClusterNode) {
  return { name: node.name, role: node.role, addresses: node.addresses, createdAt: node.createdAt.toISOString(), updatedAt: node.updatedAt.toISOString() };
}

/** A cluster as the API shows it, with the names of its CAs in kpki. */
function clusterJson(cluster: Cluster) {
  return {
    id: cluster.id,
    name: cluster.name,
    dnsDomain: cluster.dnsDomain,
    serviceSubnets: cluster.serviceSubnets,
    controlPlaneEndpoint: cluster.controlPlaneEndpoint,
    apiServerCertSans: cluster.apiServerCertSans,
    etcdServerCertSans: cluster.etcdServerCertSans,
    etcdPeerCertSans: cluster.etcdPeerCertSans,
    keyAlgorithm: cluster.keyAlgorithm,
    certificateValiditySeconds: cluster.certificateValiditySeconds,
    serviceAccountKeyOverlapSeconds: cluster.serviceAccountKeyOverlapSeconds,
    ...(cluster.serviceAccountKeyRotationPeriodSeconds === null ? {} : { serviceAccountKeyRotationPeriodSeconds: cluster.serviceAccountKeyRotationPeriodSeconds }),
    authorities: { ca: authorityName(cluster.name, "ca"), "etcd-ca": authorityName(cluster.name, "etcd-ca"), "front-proxy-ca": authorityName(cluster.name, "front-proxy-ca") },
    nodes: cluster.nodes.map(nodeJson),
    createdAt: cluster.createdAt.toISOString(),
    updatedAt: cluster.updatedAt.toISOString(),
  };
}

/** The cluster inventory, its nodes, and kubeadm signing. */
export function clusterRoutes(deps: ClusterRouteDependencies): Router {
  const router = Router();
  const param = (req: Request, name: string) => String(req.params[name]);

  router.get("/v1/clusters", async (_req, res) => {
    res.json({ items: (await deps.clusters.list()).map(clusterJson) });
  });

  router.post("/v1/clusters", async (req, res) => {
    const cluster = await deps.clusters.create(requestContext(res), req.body as CreateClusterRequest);
    res.status(201).location(`/v1/clusters/${cluster.name}`).json(clusterJson(cluster));
  });

  router.get("/v1/clusters/:cluster", async (req, res) => {
    res.json(clusterJson(await deps.clusters.get(param(req, "cluster"))));
  });

  router.patch("/v1/clusters/:cluster", async (req, res) => {
    res.json(clusterJson(await deps.clusters.update(requestContext(res), param(req, "cluster"), req.body as UpdateClusterRequest)));
  });

  router.put("/v1/clusters/:cluster/nodes/:node", async (req, res) => {
    const body = req.body as { role: NodeRole; addresses?: string[] };
    const node = await deps.clusters.putNode(requestContext(res), param(req, "cluster"), { name: param(req, "node"), role: body.role, addresses: body.addresses ?? [] });
    res.json(nodeJson(node));
  });

  router.delete("/v1/clusters/:cluster/nodes/:node", async (req, res) => {
    await deps.clusters.deleteNode(requestContext(res), param(req, "cluster"), param(req, "node"));
    res.status(204).end();
  });

  router.post("/v1/clusters/:cluster/kubeadm/sign", async (req, res) => {
    const body = req.body as { node: string; csrs: Record<string, string> };
    const csrs = new Map(Object.entries(body.csrs).map(([name, pem]) => [name, derFromPem(pem, CSR_LABELS, `csrs.${name}`)]));
    const cluster = param(req, "cluster");
    const includeServiceAccountKey = isAllowed(requestState(res).principal, "exportServiceAccountKeyFiles", { cluster });
    const result = await deps.kubeadm.sign(requestContext(res), { cluster, node: body.node, csrs, includeServiceAccountKey });
    const now = deps.clock.now();
    res.json({
      cluster: result.cluster.name,
      node: result.node.name,
      certificates: Object.fromEntries([...result.certificates].map(([name, issued]) => [name, certificateJson(issued.certificate, issued.caName, now)])),
      caCertificates: {
        ca: certificatesPem([result.caCertificates.ca]),
        "etcd-ca": certificatesPem([result.caCertificates["etcd-ca"]]),
        "front-proxy-ca": certificatesPem([result.caCertificates["front-proxy-ca"]]),
      },
      ...(result.serviceAccount === undefined ? {} : { serviceAccount: result.serviceAccount }),
    });
  });

  router.post("/v1/clusters/:cluster/nodes/:node/kubelet-serving", async (req, res) => {
    const body = req.body as { csr: string };
    const issued = await deps.kubeadm.signKubeletServing(requestContext(res), { cluster: param(req, "cluster"), node: param(req, "node"), csrDer: derFromPem(body.csr, CSR_LABELS, "csr") });
    res.status(201).json({ ...certificateJson(issued.certificate, issued.caName, deps.clock.now()), chainPem: certificatesPem(issued.chainDer.slice(0, 1)) });
  });
  return router;
}

// Nodes other than the init node: a joining worker that keeps only kubelet.conf of the
// generate-csr output (reference §2.2: "workers optionally only for kubelet.conf"), and kubelet
// serving certificates (`POST /v1/clusters/{c}/nodes/{n}/kubelet-serving`, the rules of the
// kubernetes.io/kubelet-serving signer, reference §4), against a real `kpki serve`.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClusterWithCli,
  expectKubeadmLeaf,
  expectKubeconfig,
  expectSuccess,
  generateCsrTree,
  kubeadmSign,
  startKubeadmHarness,
  type ClusterSetup,
  type KubeadmHarness,
  type KubeadmTree,
} from "../helpers/kubeadm-checks.js";
import { makeCsr, splitPem } from "../helpers/openssl.js";
import { jsonBody, type RunResult } from "../helpers/process.js";

const CLUSTER: ClusterSetup = {
  name: "nodes-ec",
  controlPlaneEndpoint: "k8s.nodes-ec.internal:6443",
  keyAlgorithm: "ECDSA-P256",
  nodes: [
    { name: "cp-1", role: "control-plane", addresses: ["192.168.70.11"] },
    { name: "cp-2", role: "control-plane", addresses: ["192.168.70.12"] },
    { name: "worker-1", role: "worker", addresses: ["192.168.70.21", "worker-1.nodes-ec.internal"] },
  ],
};
const WORKER = { name: "worker-1", advertiseAddress: "192.168.70.21" };

let h: KubeadmHarness;
let worker: KubeadmTree;
let signed: RunResult;
let caPem: string;

beforeAll(async () => {
  h = await startKubeadmHarness("kubeadm-nodes");
  await createClusterWithCli(h, CLUSTER);
  worker = await generateCsrTree(h.workDir, "worker", CLUSTER, WORKER, { include: "worker" });
  signed = await kubeadmSign(h, worker, CLUSTER.name, WORKER.name);
  const ca = await h.api("GET", `/v1/authorities/${CLUSTER.name}.ca/certificate`);
  expect(ca.status).toBe(200);
  caPem = ca.text;
});

afterAll(async () => {
  await h?.close();
});

const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(path.join(dir, f)).isFile()).sort() : []);

describe("a worker with only kubelet.conf and its CSR", () => {
  it("gets kubelet.conf completed and ca.crt — nothing else: no sa.key, no etcd or front-proxy CA", () => {
    expectSuccess(signed, "kpki kubeadm sign --node worker-1");
    expect(signed.stderr).toMatch(/^signing 1 certificate for node worker-1 of cluster nodes-ec…\n/);
    expect(signed.stderr).toMatch(/^signed kubelet \(serial [0-9a-f]+, expires /m);
    expect(signed.stderr).not.toMatch(/warning/);
    expect(files(worker.certDir)).toEqual(["ca.crt"]);
    expect(files(worker.kubeconfigDir).filter((f) => !f.startsWith("pki/"))).toEqual(["kubelet.conf", "kubelet.conf.csr"]);
    expect(statSync(path.join(worker.kubeconfigDir, "kubelet.conf")).mode & 0o777).toBe(0o600);
  });

  it("ca.crt is the cluster's kubernetes CA, exactly one certificate", () => {
    const written = readFileSync(path.join(worker.certDir, "ca.crt"), "utf8");
    expect(splitPem(written)).toHaveLength(1);
    expect(written.trim()).toBe(caPem.trim());
  });

  it("kubelet.conf: kubectl reads it; CN system:node:worker-1, O system:nodes, client auth, chains to ca.crt, embeds ca.crt and the key", () => {
    expectKubeconfig({
      file: path.join(worker.kubeconfigDir, "kubelet.conf"),
      name: "kubelet",
      nodeName: WORKER.name,
      caFile: path.join(worker.certDir, "ca.crt"),
      server: `https://${CLUSTER.controlPlaneEndpoint}`,
      keyAlgorithm: "ECDSA-P256",
      scratch: path.join(h.workDir, "scratch"),
    });
  });
});

describe("POST /v1/clusters/{cluster}/nodes/{node}/kubelet-serving", () => {
  const url = `/v1/clusters/${CLUSTER.name}/nodes/${WORKER.name}/kubelet-serving`;

  function servingCsr(subject: string, sans: readonly string[]): { csrPem: string; keyPem: string } {
    return makeCsr({ subject, algorithm: "ECDSA-P256", extensions: sans.length === 0 ? [] : [`subjectAltName=${sans.join(",")}`] });
  }

  it("signs CN system:node:<node>, O system:nodes, serverAuth only, with SANs from the node's registered addresses", async () => {
    const count = await h.inventoryCount();
    const { csrPem, keyPem } = servingCsr("/O=system:nodes/CN=system:node:worker-1", ["DNS:worker-1", "DNS:worker-1.nodes-ec.internal", "IP:192.168.70.21"]);
    const response = await h.api("POST", url, { csr: csrPem });
    expect(response.status, response.text).toBe(201);
    const issued = jsonBody<{ ca: string; profile: string; certificatePem: string; chainPem: string; subject: string }>(response);
    expect(issued.ca).toBe(`${CLUSTER.name}.ca`);
    expect(issued.profile).toBe("kubeadm:kubelet-serving");
    // The chain offered is the issuing CA alone: what a kubelet's clients trust as ca.crt.
    expect(issued.chainPem.trim()).toBe(caPem.trim());
    const dir = path.join(h.workDir, "kubelet-serving");
    const crt = path.join(dir, "kubelet.crt");
    const key = path.join(dir, "kubelet.key");
    mkdirSync(dir, { recursive: true });
    writeFileSync(crt, issued.certificatePem);
    writeFileSync(key, keyPem, { mode: 0o600 });
    expectKubeadmLeaf({
      certificateFile: crt,
      keyFile: key,
      caFile: path.join(worker.certDir, "ca.crt"),
      issuerCommonName: "kubernetes",
      subject: "CN=system:node:worker-1,O=system:nodes",
      usage: "server",
      dnsNames: ["worker-1", "worker-1.nodes-ec.internal"],
      ipAddresses: ["192.168.70.21"],
      mustNotMatch: ["192.168.70.11", "cp-1", "127.0.0.1"],
      keyAlgorithm: "ECDSA-P256",
    });
    expect(await h.inventoryCount()).toBe(count + 1);
  });

  it("a subset of the node's addresses is fine (here: the IP alone)", async () => {
    const { csrPem } = servingCsr("/O=system:nodes/CN=system:node:worker-1", ["IP:192.168.70.21"]);
    const response = await h.api("POST", url, { csr: csrPem });
    expect(response.status, response.text).toBe(201);
    expect(jsonBody<{ subjectAltNames: string[] }>(response).subjectAltNames).toEqual(["IP:192.168.70.21"]);
  });

  describe("refuses, storing nothing", () => {
    async function expectRefusal(csr: string, nodePath: string, status: number, code: string, detail: RegExp): Promise<void> {
      const count = await h.inventoryCount();
      const response = await h.api("POST", nodePath, { csr });
      expect(response.status, response.text).toBe(status);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const problem = jsonBody<{ code: string; detail: string }>(response);
      expect(problem.code).toBe(code);
      expect(problem.detail).toMatch(detail);
      expect(await h.inventoryCount()).toBe(count);
    }

    it("a SAN that is not registered for the node (an IP and a DNS name)", async () => {
      const { csrPem } = servingCsr("/O=system:nodes/CN=system:node:worker-1", ["DNS:worker-1", "IP:192.168.70.99", "DNS:api.evil.example"]);
      await expectRefusal(csrPem, url, 422, "policy_violation", /IP:192\.168\.70\.99 is not allowed for kubeadm:kubelet-serving.*DNS:api\.evil\.example is not allowed|DNS:api\.evil\.example is not allowed.*IP:192\.168\.70\.99 is not allowed/);
    });

    it("another node's address (the control-plane node's IP)", async () => {
      const { csrPem } = servingCsr("/O=system:nodes/CN=system:node:worker-1", ["IP:192.168.70.11"]);
      await expectRefusal(csrPem, url, 422, "policy_violation", /IP:192\.168\.70\.11 is not allowed for kubeadm:kubelet-serving/);
    });

    it("another node's identity (CN system:node:cp-1 on worker-1's path)", async () => {
      const { csrPem } = servingCsr("/O=system:nodes/CN=system:node:cp-1", ["DNS:worker-1"]);
      await expectRefusal(csrPem, url, 422, "policy_violation", /requires CN=system:node:worker-1, the request has CN=system:node:cp-1/);
    });

    it("O other than system:nodes", async () => {
      const { csrPem } = servingCsr("/O=system:masters/CN=system:node:worker-1", ["DNS:worker-1"]);
      await expectRefusal(csrPem, url, 422, "policy_violation", /requires O=system:nodes, the request has O=system:masters/);
    });

    it("no DNS or IP SAN at all (the kubelet-serving signer requires one)", async () => {
      const { csrPem } = servingCsr("/O=system:nodes/CN=system:node:worker-1", []);
      await expectRefusal(csrPem, url, 422, "policy_violation", /requires at least one DNS or IP subject alternative name/);
    });

    it("a node that is not registered", async () => {
      const { csrPem } = servingCsr("/O=system:nodes/CN=system:node:worker-9", ["DNS:worker-9"]);
      await expectRefusal(csrPem, `/v1/clusters/${CLUSTER.name}/nodes/worker-9/kubelet-serving`, 404, "not_found", /node worker-9 is not registered in cluster nodes-ec/);
    });
  });
});

describe("two control-plane nodes", () => {
  let cp1: KubeadmTree;
  let cp2: KubeadmTree;

  beforeAll(async () => {
    [cp1, cp2] = await Promise.all([
      generateCsrTree(h.workDir, "cp-1", CLUSTER, { name: "cp-1", advertiseAddress: "192.168.70.11" }),
      generateCsrTree(h.workDir, "cp-2", CLUSTER, { name: "cp-2", advertiseAddress: "192.168.70.12" }),
    ]);
    expectSuccess(await kubeadmSign(h, cp1, CLUSTER.name, "cp-1"), "kpki kubeadm sign --node cp-1");
    expectSuccess(await kubeadmSign(h, cp2, CLUSTER.name, "cp-2"), "kpki kubeadm sign --node cp-2");
  });

  it("share sa.key/sa.pub and the three CA files (kubeadm's shared certificates, §1.4), and the worker's ca.crt is the same", () => {
    for (const file of ["sa.key", "sa.pub", "ca.crt", "etcd/ca.crt", "front-proxy-ca.crt"]) {
      expect(readFileSync(path.join(cp2.certDir, file), "utf8"), file).toBe(readFileSync(path.join(cp1.certDir, file), "utf8"));
    }
    expect(readFileSync(path.join(worker.certDir, "ca.crt"), "utf8")).toBe(readFileSync(path.join(cp1.certDir, "ca.crt"), "utf8"));
  });

  it("each gets its own apiserver and etcd certificates, for its own name and address only", () => {
    for (const [t, name, ip, other, otherIp] of [[cp1, "cp-1", "192.168.70.11", "cp-2", "192.168.70.12"], [cp2, "cp-2", "192.168.70.12", "cp-1", "192.168.70.11"]] as const) {
      expectKubeadmLeaf({
        certificateFile: path.join(t.certDir, "etcd/peer.crt"), keyFile: path.join(t.certDir, "etcd/peer.key"), caFile: path.join(t.certDir, "etcd/ca.crt"), issuerCommonName: "etcd-ca",
        subject: `CN=${name}`, usage: "server+client", dnsNames: [name, "localhost"], ipAddresses: [ip, "127.0.0.1", "::1"], mustNotMatch: [other, otherIp], keyAlgorithm: "ECDSA-P256",
      });
      expectKubeadmLeaf({
        certificateFile: path.join(t.certDir, "apiserver.crt"), keyFile: path.join(t.certDir, "apiserver.key"), caFile: path.join(t.certDir, "ca.crt"), issuerCommonName: "kubernetes",
        subject: "CN=kube-apiserver", usage: "server", dnsNames: [name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "k8s.nodes-ec.internal"],
        ipAddresses: ["10.96.0.1", ip], mustNotMatch: [other, otherIp, "127.0.0.1"], keyAlgorithm: "ECDSA-P256",
      });
    }
  });
});

describe("a node removed from the inventory", () => {
  it("can obtain no more certificates: kubeadm sign exits 3, kubelet-serving answers 404, nothing signed", async () => {
    const removed = await h.kpki(["cluster", "node", "remove", CLUSTER.name, "cp-2", ...h.remote()]);
    expectSuccess(removed, "kpki cluster node remove");
    const t = await generateCsrTree(h.workDir, "cp-2-again", CLUSTER, { name: "cp-2", advertiseAddress: "192.168.70.12" }, { include: "worker" });
    const count = await h.inventoryCount();
    const result = await kubeadmSign(h, t, CLUSTER.name, "cp-2");
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/node cp-2 is not registered in cluster nodes-ec/);
    const { csrPem } = makeCsr({ subject: "/O=system:nodes/CN=system:node:cp-2", extensions: ["subjectAltName=IP:192.168.70.12"] });
    const response = await h.api("POST", `/v1/clusters/${CLUSTER.name}/nodes/cp-2/kubelet-serving`, { csr: csrPem });
    expect(response.status, response.text).toBe(404);
    expect(await h.inventoryCount()).toBe(count);
  });
});

// What the kubeadm hook must refuse, end to end (a real `kpki serve`, the `kpki` binary, trees
// written like `kubeadm certs generate-csr` writes them). For each refusal: the exit code, the
// reason, the tree byte-identical afterwards, and the inventory unchanged (nothing signed, not even
// the CSRs of the batch that were fine: all or nothing).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotTree } from "../fixtures/kubeadm/tree-snapshot.js";
import { generateCsrTree, kubeadmSign, startKubeadmHarness, type ClusterSetup, type KubeadmHarness, type KubeadmTree } from "../helpers/kubeadm-checks.js";
import { generateKey, makeCsr } from "../helpers/openssl.js";
import { jsonBody, runKpki, type RunResult } from "../helpers/process.js";

const A: ClusterSetup = {
  name: "ref-a",
  controlPlaneEndpoint: "k8s.ref-a.internal:6443",
  keyAlgorithm: "ECDSA-P256",
  nodes: [
    { name: "cp-1", role: "control-plane", addresses: ["192.168.40.11"] },
    { name: "worker-a", role: "worker", addresses: ["192.168.40.21"] },
    { name: "worker-b", role: "worker", addresses: ["192.168.40.22"] },
  ],
};
/** Same node name as in A, other addresses and endpoint: its CSRs differ from A's only in SANs. */
const B: ClusterSetup = { name: "ref-b", controlPlaneEndpoint: "k8s.ref-b.internal:6443", keyAlgorithm: "ECDSA-P256", nodes: [{ name: "cp-1", role: "control-plane", addresses: ["192.168.50.11"] }] };
const RSA: ClusterSetup = { name: "ref-rsa", controlPlaneEndpoint: "k8s.ref-rsa.internal:6443", keyAlgorithm: "RSA-2048", nodes: [{ name: "cp-1", role: "control-plane", addresses: ["192.168.60.11"] }] };

let h: KubeadmHarness;
let trees = 0;

/** A generate-csr tree for `node` of `cluster` (addresses from the cluster's inventory unless given). */
function tree(cluster: ClusterSetup, nodeName: string, options: Parameters<typeof generateCsrTree>[4] & { advertiseAddress?: string } = {}): Promise<KubeadmTree> {
  const node = cluster.nodes.find((n) => n.name === nodeName);
  const advertiseAddress = options.advertiseAddress ?? node?.addresses[0] ?? "192.0.2.1";
  return generateCsrTree(h.workDir, `tree-${++trees}`, cluster, { name: nodeName, advertiseAddress }, options);
}

/**
 * Runs `kpki kubeadm sign` and asserts it was refused with `exitCode`, its one-line reason matching
 * every pattern, the tree untouched and nothing added to the inventory.
 */
async function expectRefused(t: KubeadmTree, cluster: string, node: string, exitCode: number, reasons: readonly RegExp[]): Promise<string> {
  const before = snapshotTree(t.root);
  const count = await h.inventoryCount();
  const result = await kubeadmSign(h, t, cluster, node);
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(exitCode);
  const reason = lastLine(result);
  expect(reason).toMatch(/^kpki: /);
  for (const pattern of reasons) expect(reason).toMatch(pattern);
  expect(result.stderr).not.toMatch(/^(signed|wrote) /m);
  expect(snapshotTree(t.root), "the tree is byte-identical").toEqual(before);
  expect(await h.inventoryCount(), "nothing was signed").toBe(count);
  return reason;
}

function lastLine(result: RunResult): string {
  return result.stderr.trimEnd().split("\n").at(-1) ?? "";
}

/** The client key of a kubeconfig written by the fixture. */
function kubeconfigKey(file: string): string {
  const data = /client-key-data: (\S+)/.exec(readFileSync(file, "utf8"))?.[1];
  if (data === undefined) throw new Error(`${file} has no client-key-data`);
  return Buffer.from(data, "base64").toString("utf8");
}

/** Replaces a CSR of the tree by one for the same key with another subject (what a tampered or older kubeadm would send). */
function rewriteCsr(csrFile: string, keyPem: string, subject: string): void {
  writeFileSync(csrFile, makeCsr({ subject, keyPem }).csrPem, { mode: 0o600 });
}

beforeAll(async () => {
  h = await startKubeadmHarness("kubeadm-refusals");
  for (const cluster of [A, B, RSA]) {
    const response = await h.api("POST", "/v1/clusters", { name: cluster.name, controlPlaneEndpoint: cluster.controlPlaneEndpoint, keyAlgorithm: cluster.keyAlgorithm, nodes: cluster.nodes });
    expect(response.status, response.text).toBe(201);
  }
});

afterAll(async () => {
  await h?.close();
});

describe("kpki kubeadm sign refuses, writes nothing and signs nothing", () => {
  it("node worker-a asking for node worker-b's kubelet certificate (a kubelet.conf CSR with CN system:node:worker-b)", async () => {
    const t = await tree(A, "worker-b", { include: "worker" });
    await expectRefused(t, A.name, "worker-a", 6, [
      /kubelet: subject\.commonName: kubeadm:kubelet requires CN=system:node:worker-a, the request has CN=system:node:worker-b/,
      /\(policy_violation\)$/,
    ]);
  });

  it("an apiserver CSR with SANs the inventory does not allow — and the eleven good CSRs of the batch are not signed either", async () => {
    const t = await tree(A, "cp-1", { apiServerCertSans: ["evil.example.com", "203.0.113.9"] });
    const reason = await expectRefused(t, A.name, "cp-1", 6, [/apiserver: subjectAltNames: DNS:evil\.example\.com is not allowed for kubeadm:apiserver/, /IP:203\.0\.113\.9 is not allowed for kubeadm:apiserver/, /^kpki: nothing was signed: /]);
    // Only the apiserver certificate is at fault.
    expect(reason).not.toMatch(/etcd-server:|admin:|kubelet:/);
  });

  it("system:masters outside the super-admin profile: an admin.conf CSR with O=system:masters, and a pre-1.29 apiserver-kubelet-client", async () => {
    const t = await tree(A, "cp-1");
    rewriteCsr(path.join(t.kubeconfigDir, "admin.conf.csr"), kubeconfigKey(path.join(t.kubeconfigDir, "admin.conf")), "/O=system:masters/CN=kubernetes-admin");
    rewriteCsr(path.join(t.certDir, "apiserver-kubelet-client.csr"), readFileSync(path.join(t.certDir, "apiserver-kubelet-client.key"), "utf8"), "/O=system:masters/CN=kube-apiserver-kubelet-client");
    await expectRefused(t, A.name, "cp-1", 6, [
      /admin: subject\.organization: kubeadm:admin requires O=kubeadm:cluster-admins, the request has O=system:masters/,
      /apiserver-kubelet-client: subject\.organization: kubeadm:apiserver-kubelet-client requires O=kubeadm:cluster-admins, the request has O=system:masters/,
    ]);
  });

  it("the wrong key algorithm: ECDSA-P256 CSRs sent to an RSA-2048 cluster", async () => {
    const t = await tree(RSA, "cp-1", { keyAlgorithm: "ECDSA-P256" });
    const reason = await expectRefused(t, RSA.name, "cp-1", 6, [/apiserver: publicKey: key algorithm ECDSA-P256 is not allowed by profile kubeadm:apiserver \(allowed: RSA-2048\)/]);
    // Every one of the twelve is named.
    for (const name of ["apiserver", "apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client", "etcd-server", "etcd-peer", "etcd-healthcheck-client", "admin", "super-admin", "kubelet", "controller-manager", "scheduler"]) {
      expect(reason).toMatch(new RegExp(`(^|; |: )${name}: publicKey: key algorithm ECDSA-P256`));
    }
  });

  it("another cluster's CSRs: cluster ref-b's apiserver and etcd CSRs (same node name, other SANs) sent to cluster ref-a", async () => {
    const t = await tree(B, "cp-1");
    await expectRefused(t, A.name, "cp-1", 6, [
      /apiserver: subjectAltNames: DNS:k8s\.ref-b\.internal is not allowed for kubeadm:apiserver/,
      /IP:192\.168\.50\.11 is not allowed for kubeadm:apiserver/,
      /etcd-server: subjectAltNames: IP:192\.168\.50\.11 is not allowed for kubeadm:etcd-server/,
      /etcd-peer: subjectAltNames: IP:192\.168\.50\.11 is not allowed for kubeadm:etcd-peer/,
    ]);
  });

  it("a worker asking for admin.conf", async () => {
    const t = await tree(A, "worker-a");
    // Keep admin.conf and kubelet.conf: the kubelet CSR is fine, admin.conf is not the worker's.
    for (const written of t.written) {
      if (written.name === "admin" || written.name === "kubelet") continue;
      rmSync(written.keyFile);
      rmSync(written.csrFile);
    }
    const reason = await expectRefused(t, A.name, "worker-a", 6, [/admin: node worker-a is a worker node and may not obtain it \(only control-plane nodes may\)/]);
    expect(reason).not.toMatch(/kubelet:/);
  });

  it("a node that is not in the cluster's inventory", async () => {
    const t = await tree(A, "worker-a", { include: "worker" });
    await expectRefused(t, A.name, "worker-z", 3, [/node worker-z is not registered in cluster ref-a/, /\(not_found\)$/]);
  });
});

describe("a tree that holds another cluster's CA certificate or service-account key", () => {
  // kpki kubeadm sign refuses to replace a ca.crt holding another CA (wrong cluster?) or an sa.key
  // holding another key (it would invalidate every service-account token): exit 5, nothing written.
  const runs = new Map<string, { result: RunResult; before: Record<string, string>; after: Record<string, string>; countBefore: number; countAfter: number }>();

  async function signInto(label: string, t: KubeadmTree): Promise<void> {
    const before = snapshotTree(t.root);
    const countBefore = await h.inventoryCount();
    const result = await kubeadmSign(h, t, A.name, "cp-1");
    runs.set(label, { result, before, after: snapshotTree(t.root), countBefore, countAfter: await h.inventoryCount() });
  }

  beforeAll(async () => {
    const foreignCa = await h.api("GET", `/v1/authorities/${B.name}.ca/certificate`);
    expect(foreignCa.status).toBe(200);
    const withForeignCa = await tree(A, "cp-1");
    writeFileSync(path.join(withForeignCa.certDir, "ca.crt"), foreignCa.text, { mode: 0o644 });
    await signInto("ca.crt", withForeignCa);
    const withForeignSaKey = await tree(A, "cp-1");
    writeFileSync(path.join(withForeignSaKey.certDir, "sa.key"), generateKey("ECDSA-P256"), { mode: 0o600 });
    await signInto("sa.key", withForeignSaKey);
  });

  it.each([
    ["ca.crt", /ca\.crt holds another certificate than ca of cluster ref-a; refusing before anything is signed/],
    ["sa.key", /sa\.key holds another key than the service-account key of cluster ref-a; refusing before anything is signed/],
  ])("a foreign %s: refused with exit 5, the tree byte-identical", (label, reason) => {
    const run = runs.get(label)!;
    expect(run.result.code, run.result.stderr).toBe(5);
    expect(lastLine(run.result)).toMatch(reason);
    expect(run.after).toEqual(run.before);
  });

  // Regression test: the CLI used to ask the server to sign before checking ca.crt and sa.key, so a
  // refusal came after 12 certificates were issued for a node that never received them.
  it.each(["ca.crt", "sa.key"])("a foreign %s: refused before anything is signed (inventory unchanged)", (label) => {
    const run = runs.get(label)!;
    expect(run.result.code).toBe(5);
    expect(run.countAfter, "certificates issued for a refused run").toBe(run.countBefore);
  });
});

describe("kpki kubeadm sign --dry-run", () => {
  it("reads the cluster and says what it would write — signing nothing, writing nothing", async () => {
    const t = await tree(A, "cp-1");
    const before = snapshotTree(t.root);
    const count = await h.inventoryCount();
    const result = await kubeadmSign(h, t, A.name, "cp-1", ["--dry-run"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^dry run: would sign 12 certificates for node cp-1 of cluster ref-a: apiserver, /);
    expect(result.stdout).toMatch(/dry run: nothing was sent for signing and nothing was written\n$/);
    expect(snapshotTree(t.root)).toEqual(before);
    expect(await h.inventoryCount()).toBe(count);
  });
});

describe("a malformed generate-csr tree is refused by the CLI before any request", () => {
  let listener: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    // A TCP listener that only counts: any request the CLI made would show up here.
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const address = listener.address();
    port = typeof address === "object" && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  async function expectRefusedLocally(t: KubeadmTree, pattern: RegExp): Promise<void> {
    const before = snapshotTree(t.root);
    const count = await h.inventoryCount();
    const result = await runKpki(
      ["kubeadm", "sign", "--cluster", A.name, "--node", "cp-1", "--cert-dir", t.certDir, "--kubeconfig-dir", t.kubeconfigDir, "--server", `https://127.0.0.1:${port}`, "--ca-cert", h.bundleFile, "--token-file", h.tokenFile],
      { cwd: h.workDir },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trimEnd().split("\n"), result.stderr).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
    expect(connections, "no connection to the server").toBe(0);
    expect(snapshotTree(t.root)).toEqual(before);
    expect(await h.inventoryCount()).toBe(count);
  }

  it("a CSR whose private key is missing", async () => {
    const t = await tree(A, "cp-1");
    rmSync(path.join(t.certDir, "apiserver.key"));
    await expectRefusedLocally(t, new RegExp(`^kpki: ${path.join(t.certDir, "apiserver.csr").replace(/[.]/g, "\\.")}: found the CSR but not its key ${path.join(t.certDir, "apiserver.key").replace(/[.]/g, "\\.")}\\n$`));
  });

  it("a CSR that does not match the key beside it", async () => {
    const t = await tree(A, "cp-1");
    // etcd/peer.csr is a perfectly good CSR (same subject and SANs) — for another key.
    writeFileSync(path.join(t.certDir, "etcd/server.csr"), readFileSync(path.join(t.certDir, "etcd/peer.csr")));
    await expectRefusedLocally(t, /^kpki: CSR \S+\/etcd\/server\.csr does not match \S+\/etcd\/server\.key\n$/);
  });
});

describe("a cluster's CAs sign nothing outside the cluster's kubeadm profiles", () => {
  it("POST /v1/certificates with a cluster CA is refused (CSR or server-generated key), nothing stored", async () => {
    const count = await h.inventoryCount();
    const csr = makeCsr({ subject: "/CN=kubernetes-admin/O=system:masters" }).csrPem;
    for (const body of [
      { ca: `${A.name}.ca`, profile: "client", csr },
      { ca: `${A.name}.ca`, profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "kubernetes-admin", organization: ["system:masters"] } },
      { ca: `${A.name}.etcd-ca`, profile: "client", csr },
      { ca: `${A.name}.front-proxy-ca`, profile: "client", csr },
    ]) {
      const response = await h.api("POST", "/v1/certificates", body);
      expect(response.status, response.text).toBe(422);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const problem = jsonBody<{ code: string; detail: string; field?: string }>(response);
      expect(problem.code).toBe("policy_violation");
      expect(problem.field).toBe("ca");
      expect(problem.detail).toBe(`CA ${body.ca} belongs to a Kubernetes cluster: it signs only that cluster's kubeadm profiles (use the cluster endpoints)`);
    }
    expect(await h.inventoryCount()).toBe(count);
  });

  it("`kpki cert issue --ca <cluster>.ca` is refused with exit 6", async () => {
    const count = await h.inventoryCount();
    const result = await h.kpki(["cert", "issue", "--ca", `${A.name}.ca`, "--profile", "client", "--key-algorithm", "ECDSA-P256", "--cn", "kubernetes-admin", "--out", path.join(h.workDir, "nope"), ...h.remote()]);
    expect(result.code, result.stderr).toBe(6);
    expect(result.stderr).toMatch(/belongs to a Kubernetes cluster: it signs only that cluster's kubeadm profiles/);
    expect(await h.inventoryCount()).toBe(count);
  });

  it("no intermediate CA can be created under a cluster CA (it would be trusted through ca.crt)", async () => {
    const before = jsonBody<{ items: unknown[] }>(await h.api("GET", "/v1/authorities")).items.length;
    const response = await h.api("POST", "/v1/authorities", { name: "sneaky", type: "intermediate", parent: `${A.name}.ca`, subject: { commonName: "sneaky" } });
    expect(response.status, response.text).toBe(422);
    const problem = jsonBody<{ code: string; detail: string }>(response);
    expect(problem.code).toBe("policy_violation");
    expect(problem.detail).toBe(`parent CA ${A.name}.ca has pathLength 0: it may sign end-entity certificates only`);
    expect(jsonBody<{ items: unknown[] }>(await h.api("GET", "/v1/authorities")).items.length).toBe(before);
  });
});

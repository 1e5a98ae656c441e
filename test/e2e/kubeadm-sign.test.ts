// The kubeadm external-CA hook end to end: a real `kpki serve`, clusters and nodes created with the
// `kpki` CLI, the files `kubeadm certs generate-csr` writes (fixture), `kpki kubeadm sign`, and then
// every file of the resulting tree checked with the real openssl and kubectl against the facts of
// reference/kubernetes.md §1.2–§1.5 and the per-file checks of §6 — for an RSA-2048 and an
// ECDSA-P256 cluster. The two clusters also prove trust separation: each certificate verifies only
// against its own domain's CA file of its own cluster.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  certificateFacts,
  createClusterWithCli,
  expectClusterCaFile,
  expectKeyAlgorithm,
  expectKubeadmLeaf,
  expectKubeconfig,
  expectSuccess,
  generateCsrTree,
  kubeadmSign,
  privateKeyPublicKeyPem,
  startKubeadmHarness,
  verifyAgainst,
  type ClusterKeyAlgorithm,
  type ClusterSetup,
  type KubeadmHarness,
  type KubeadmTree,
  type LeafExpectation,
} from "../helpers/kubeadm-checks.js";
import { opensslRun } from "../helpers/openssl.js";

const NODE = { name: "cp-1", advertiseAddress: "192.168.10.11" };

/** RSA-2048 with kubeadm's defaults and a DNS endpoint; ECDSA-P256 with an IP endpoint. */
const CLUSTERS: Record<ClusterKeyAlgorithm, ClusterSetup> = {
  "RSA-2048": {
    name: "rsa-prod",
    controlPlaneEndpoint: "k8s.rsa-prod.internal:6443",
    keyAlgorithm: "RSA-2048",
    nodes: [{ name: NODE.name, role: "control-plane", addresses: [NODE.advertiseAddress] }],
  },
  "ECDSA-P256": {
    name: "ec-prod",
    controlPlaneEndpoint: "192.168.20.100:6443",
    keyAlgorithm: "ECDSA-P256",
    nodes: [{ name: NODE.name, role: "control-plane", addresses: [NODE.advertiseAddress] }],
  },
};
const ALGORITHMS = Object.keys(CLUSTERS) as ClusterKeyAlgorithm[];

let h: KubeadmHarness;
const trees = new Map<ClusterKeyAlgorithm, KubeadmTree>();
const signOutput = new Map<ClusterKeyAlgorithm, string>();

const treeOf = (algorithm: ClusterKeyAlgorithm): KubeadmTree => {
  const tree = trees.get(algorithm);
  if (tree === undefined) throw new Error(`no tree for ${algorithm}`);
  return tree;
};
const pki = (tree: KubeadmTree, file: string) => path.join(tree.certDir, file);

/** The host of a controlPlaneEndpoint and whether it is an IP. */
function endpointHost(endpoint: string): { host: string; ip: boolean } {
  const host = endpoint.replace(/:\d+$/, "");
  return { host, ip: /^[0-9.]+$/.test(host) };
}

/**
 * Every leaf of the pki dir as reference §1.2/§1.3/§6 describe it — written out from the
 * reference, not from kpki's profile table.
 */
function pkiLeaves(tree: KubeadmTree, cluster: ClusterSetup): (LeafExpectation & { name: string })[] {
  const endpoint = endpointHost(cluster.controlPlaneEndpoint);
  const common = { keyAlgorithm: cluster.keyAlgorithm };
  const ca = { caFile: pki(tree, "ca.crt"), issuerCommonName: "kubernetes" };
  const etcdCa = { caFile: pki(tree, "etcd/ca.crt"), issuerCommonName: "etcd-ca" };
  const frontProxyCa = { caFile: pki(tree, "front-proxy-ca.crt"), issuerCommonName: "front-proxy-ca" };
  const files = (base: string) => ({ certificateFile: pki(tree, `${base}.crt`), keyFile: pki(tree, `${base}.key`) });
  const etcdNames = { dnsNames: [NODE.name, "localhost"], ipAddresses: [NODE.advertiseAddress, "127.0.0.1", "::1"] };
  return [
    {
      name: "apiserver", ...files("apiserver"), ...ca, ...common, subject: "CN=kube-apiserver", usage: "server",
      dnsNames: [NODE.name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", ...(endpoint.ip ? [] : [endpoint.host])],
      ipAddresses: ["10.96.0.1", NODE.advertiseAddress, ...(endpoint.ip ? [endpoint.host] : [])],
      mustNotMatch: ["127.0.0.1", "localhost", "::1", "kubernetes.default.svc.cluster"],
    },
    { name: "apiserver-kubelet-client", ...files("apiserver-kubelet-client"), ...ca, ...common, subject: "CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins", usage: "client" },
    { name: "front-proxy-client", ...files("front-proxy-client"), ...frontProxyCa, ...common, subject: "CN=front-proxy-client", usage: "client" },
    { name: "etcd-server", ...files("etcd/server"), ...etcdCa, ...common, subject: `CN=${NODE.name}`, usage: "server+client", ...etcdNames },
    { name: "etcd-peer", ...files("etcd/peer"), ...etcdCa, ...common, subject: `CN=${NODE.name}`, usage: "server+client", ...etcdNames },
    { name: "etcd-healthcheck-client", ...files("etcd/healthcheck-client"), ...etcdCa, ...common, subject: "CN=kube-etcd-healthcheck-client", usage: "client" },
    { name: "apiserver-etcd-client", ...files("apiserver-etcd-client"), ...etcdCa, ...common, subject: "CN=kube-apiserver-etcd-client", usage: "client" },
  ];
}

const KUBECONFIGS = ["admin", "super-admin", "kubelet", "controller-manager", "scheduler"] as const;
const CA_FILES = [
  { file: "ca.crt", cn: "kubernetes", kpkiName: "ca" },
  { file: "etcd/ca.crt", cn: "etcd-ca", kpkiName: "etcd-ca" },
  { file: "front-proxy-ca.crt", cn: "front-proxy-ca", kpkiName: "front-proxy-ca" },
] as const;

beforeAll(async () => {
  h = await startKubeadmHarness("kubeadm-sign");
  for (const algorithm of ALGORITHMS) await createClusterWithCli(h, CLUSTERS[algorithm]);
  const generated = await Promise.all(ALGORITHMS.map((algorithm) => generateCsrTree(h.workDir, `tree-${algorithm}`, CLUSTERS[algorithm], NODE)));
  for (const [i, algorithm] of ALGORITHMS.entries()) {
    const tree = generated[i]!;
    trees.set(algorithm, tree);
    const signed = await kubeadmSign(h, tree, CLUSTERS[algorithm].name, NODE.name);
    expectSuccess(signed, `kpki kubeadm sign (${algorithm})`);
    signOutput.set(algorithm, signed.stderr);
  }
  mkdirSync(path.join(h.workDir, "scratch"), { recursive: true });
});

afterAll(async () => {
  await h?.close();
});

describe.each(ALGORITHMS)("kpki kubeadm sign on a %s cluster", (algorithm) => {
  const cluster = CLUSTERS[algorithm];

  it("signs all 12 generate-csr certificates in one run and writes kubeadm's tree", () => {
    const tree = treeOf(algorithm);
    expect(signOutput.get(algorithm)).toMatch(new RegExp(`^signing 12 certificates for node ${NODE.name} of cluster ${cluster.name}…\\n`));
    expect(signOutput.get(algorithm)).toMatch(/done: 12 certificates for node cp-1 of cluster [a-z-]+; 17 files written, 0 unchanged\n/);
    const list = (dir: string) => readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(path.join(dir, f)).isFile()).sort();
    expect(list(tree.certDir)).toEqual(
      [
        "apiserver-etcd-client.crt", "apiserver-etcd-client.csr", "apiserver-etcd-client.key",
        "apiserver-kubelet-client.crt", "apiserver-kubelet-client.csr", "apiserver-kubelet-client.key",
        "apiserver.crt", "apiserver.csr", "apiserver.key",
        "ca.crt",
        "etcd/ca.crt",
        "etcd/healthcheck-client.crt", "etcd/healthcheck-client.csr", "etcd/healthcheck-client.key",
        "etcd/peer.crt", "etcd/peer.csr", "etcd/peer.key",
        "etcd/server.crt", "etcd/server.csr", "etcd/server.key",
        "front-proxy-ca.crt",
        "front-proxy-client.crt", "front-proxy-client.csr", "front-proxy-client.key",
        "sa.key", "sa.pub",
      ].sort(),
    );
    // External-CA mode: no CA key anywhere (kubeadm detects external CA by the key's absence, §2.1).
    for (const key of ["ca.key", "etcd/ca.key", "front-proxy-ca.key"]) expect(existsSync(pki(tree, key)), key).toBe(false);
    // Modes: certificates 0644, secrets (sa.key, kubeconfigs embedding keys) 0600.
    for (const file of ["ca.crt", "etcd/ca.crt", "front-proxy-ca.crt", "apiserver.crt", "etcd/server.crt"]) expect(statSync(pki(tree, file)).mode & 0o777, file).toBe(0o644);
    expect(statSync(pki(tree, "sa.key")).mode & 0o777).toBe(0o600);
    for (const name of KUBECONFIGS) expect(statSync(path.join(tree.kubeconfigDir, `${name}.conf`)).mode & 0o777, name).toBe(0o600);
  });

  it.each(CA_FILES)("$file holds exactly one certificate: the cluster's $cn CA, no root", ({ file, cn }) => {
    const tree = treeOf(algorithm);
    const facts = expectClusterCaFile(pki(tree, file), cn, algorithm);
    // An intermediate under kpki's root (ARCHITECTURE §3): the root is not in the file.
    expect(facts.issuer).not.toBe(`CN=${cn}`);
    expect(verifyAgainst(pki(tree, file), pki(tree, file)).ok, `${file} verifies as its own anchor (partial chain)`).toBe(true);
  });

  it("the CA files are exactly the cluster's CA certificates kpki publishes", async () => {
    const tree = treeOf(algorithm);
    for (const { file, kpkiName } of CA_FILES) {
      const response = await h.api("GET", `/v1/authorities/${cluster.name}.${kpkiName}/certificate`);
      expect(response.status).toBe(200);
      expect(readFileSync(pki(tree, file), "utf8").trim()).toBe(response.text.trim());
    }
  });

  it.each(["apiserver", "apiserver-kubelet-client", "front-proxy-client", "etcd-server", "etcd-peer", "etcd-healthcheck-client", "apiserver-etcd-client"])(
    "%s passes every per-file check (chain, purpose, subject, issuer, SANs, KU/EKU, CA:FALSE, key, validity)",
    (name) => {
      const leaf = pkiLeaves(treeOf(algorithm), cluster).find((l) => l.name === name)!;
      const facts = expectKubeadmLeaf(leaf);
      if (leaf.dnsNames === undefined) expect(facts.extensions.has("X509v3 Subject Alternative Name"), `${name} has no SAN`).toBe(false);
    },
  );

  it("sa.key and sa.pub are a pair of the cluster's algorithm in kubeadm's encodings", () => {
    const tree = treeOf(algorithm);
    const key = readFileSync(pki(tree, "sa.key"), "utf8");
    const pub = readFileSync(pki(tree, "sa.pub"), "utf8");
    expect(key).toMatch(algorithm === "RSA-2048" ? /^-----BEGIN RSA PRIVATE KEY-----\n/ : /^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    expect(pub.match(/BEGIN/g)).toHaveLength(1);
    // openssl pkey -in sa.key -pubout | cmp - sa.pub
    expect(privateKeyPublicKeyPem(pki(tree, "sa.key"))).toBe(pub);
    expectKeyAlgorithm(pki(tree, "sa.key"), algorithm);
  });

  it.each(KUBECONFIGS)("%s.conf: kubectl reads it; its client certificate has kubeadm's subject and chains to ca.crt; the CA is ca.crt", (name) => {
    const tree = treeOf(algorithm);
    const endpoint = cluster.controlPlaneEndpoint;
    const server = name === "controller-manager" || name === "scheduler" ? `https://${NODE.advertiseAddress}:6443` : `https://${endpoint}`;
    const view = expectKubeconfig({
      file: path.join(tree.kubeconfigDir, `${name}.conf`),
      name,
      nodeName: NODE.name,
      caFile: pki(tree, "ca.crt"),
      server,
      keyAlgorithm: algorithm,
      scratch: path.join(h.workDir, "scratch", algorithm),
    });
    expect(view.clusterName).toBe("kubernetes");
    expect(view.contextName).toBe(`${view.userName}@kubernetes`);
  });

  it("the inventory (kpki cert list --json) holds the 12 certificates under the cluster's three CAs", async () => {
    const listed = await h.kpki(["cert", "list", "--json", "--all", ...h.remote()]);
    expectSuccess(listed, "kpki cert list --json --all");
    const items = JSON.parse(listed.stdout) as { ca: string; subject: string; profile: string; status: string }[];
    const mine = items.filter((item) => item.ca.startsWith(`${cluster.name}.`));
    const byCa = (ca: string) => mine.filter((item) => item.ca === `${cluster.name}.${ca}`).map((item) => item.profile).sort();
    expect(byCa("ca")).toEqual(["kubeadm:admin", "kubeadm:apiserver", "kubeadm:apiserver-kubelet-client", "kubeadm:controller-manager", "kubeadm:kubelet", "kubeadm:scheduler", "kubeadm:super-admin"]);
    expect(byCa("etcd-ca")).toEqual(["kubeadm:apiserver-etcd-client", "kubeadm:etcd-healthcheck-client", "kubeadm:etcd-peer", "kubeadm:etcd-server"]);
    expect(byCa("front-proxy-ca")).toEqual(["kubeadm:front-proxy-client"]);
    expect(mine.every((item) => item.status === "active")).toBe(true);
  });
});

describe("trust separation", () => {
  /** Every leaf certificate of a tree (pki files and the kubeconfig client certificates extracted by the kubeconfig tests). */
  function leavesWithDomain(algorithm: ClusterKeyAlgorithm): { file: string; domain: "ca.crt" | "etcd/ca.crt" | "front-proxy-ca.crt" }[] {
    const tree = treeOf(algorithm);
    const domainOf = (caFile: string) => path.relative(tree.certDir, caFile) as "ca.crt" | "etcd/ca.crt" | "front-proxy-ca.crt";
    const scratch = path.join(h.workDir, "scratch", algorithm);
    return [
      ...pkiLeaves(tree, CLUSTERS[algorithm]).map((leaf) => ({ file: leaf.certificateFile, domain: domainOf(leaf.caFile) })),
      ...KUBECONFIGS.map((name) => ({ file: path.join(scratch, `${name}.conf.client.crt`), domain: "ca.crt" as const })).filter((leaf) => existsSync(leaf.file)),
    ];
  }

  it.each(ALGORITHMS)("%s: each certificate verifies only against its own domain's CA file (front-proxy and etcd certificates are not API clients)", (algorithm) => {
    const tree = treeOf(algorithm);
    const leaves = leavesWithDomain(algorithm);
    expect(leaves.length).toBeGreaterThanOrEqual(7);
    for (const leaf of leaves) {
      for (const { file } of CA_FILES) {
        const result = verifyAgainst(pki(tree, file), leaf.file);
        expect(result.ok, `${leaf.file} against ${file}: ${result.output}`).toBe(file === leaf.domain);
      }
    }
    // The two the issue names, with openssl's reason: no issuer in ca.crt.
    for (const file of ["front-proxy-client.crt", "etcd/server.crt", "etcd/peer.crt", "etcd/healthcheck-client.crt", "apiserver-etcd-client.crt"]) {
      const result = verifyAgainst(pki(tree, "ca.crt"), pki(tree, file), "sslclient");
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/unable to get local issuer certificate/);
    }
  });

  it("certificates of one cluster do not verify against the other cluster's CAs, even where the CA names are the same", () => {
    const [a, b] = ALGORITHMS as [ClusterKeyAlgorithm, ClusterKeyAlgorithm];
    for (const [mine, other] of [[a, b], [b, a]] as const) {
      const otherTree = treeOf(other);
      for (const leaf of leavesWithDomain(mine)) {
        for (const { file } of CA_FILES) {
          const result = verifyAgainst(pki(otherTree, file), leaf.file);
          expect(result.ok, `${leaf.file} (${mine}) against ${other}'s ${file}: ${result.output}`).toBe(false);
          // Same CN (kubernetes / etcd-ca / front-proxy-ca) in both clusters: openssl finds the
          // namesake and the signature does not verify.
          if (file === leaf.domain) expect(result.output, `${leaf.file} against ${other}'s ${file}`).toMatch(/signature failure|unable to get local issuer certificate/);
        }
      }
      // And the CAs themselves are different certificates with different keys.
      for (const { file } of CA_FILES) {
        expect(readFileSync(pki(treeOf(mine), file), "utf8")).not.toBe(readFileSync(pki(otherTree, file), "utf8"));
        expect(certificateFacts(pki(treeOf(mine), file)).subject).toBe(certificateFacts(pki(otherTree, file)).subject);
      }
    }
  });

  it("a certificate from another kpki CA under the same root, whose CA is even named CN=kubernetes, is trusted by no cluster CA file", async () => {
    const created = await h.kpki(["ca", "create", "outsider-ca", "--parent", "kpki-root", "--cn", "kubernetes", ...h.remote()]);
    expectSuccess(created, "kpki ca create outsider-ca");
    const out = path.join(h.workDir, "outsider");
    const issued = await h.kpki(["cert", "issue", "--ca", "outsider-ca", "--profile", "client", "--key-algorithm", "ECDSA-P256", "--cn", "kubernetes-admin", "--out", out, ...h.remote()]);
    expectSuccess(issued, "kpki cert issue --ca outsider-ca");
    // It is a good certificate under kpki's root…
    const run = opensslRun(["verify", "-CAfile", h.bundleFile, "-untrusted", `${out}-chain.crt`, "-purpose", "sslclient", `${out}.crt`]);
    expect(run.stdout.trim(), run.stderr).toBe(`${out}.crt: OK`);
    // …but the root is in no CA file of a cluster, so no cluster accepts it.
    for (const algorithm of ALGORITHMS) {
      for (const { file } of CA_FILES) {
        const result = verifyAgainst(pki(treeOf(algorithm), file), `${out}.crt`, "sslclient");
        expect(result.ok, `outsider against ${algorithm}'s ${file}: ${result.output}`).toBe(false);
      }
    }
  });
});

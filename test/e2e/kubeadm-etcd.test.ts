// The certificates `kpki kubeadm sign` writes, used by the real Go peers that use them in a
// kubeadm cluster (ARCHITECTURE §6: real peers, no mocks):
// - etcd 3.4 started with kubeadm's TLS flags on etcd/server, etcd/peer and etcd/ca.crt; etcdctl
//   (ETCDCTL_API=3) with the etcd client certificates succeeds, with a certificate of the cluster's
//   `ca` domain (or of another cluster) it is refused — the domains are isolated;
// - kube-apiserver's serving certificate and admin.conf in a Go TLS handshake: kubectl against
//   `openssl s_server` presenting apiserver.crt and requiring a client certificate under ca.crt.
// For an RSA-2048 and an ECDSA-P256 cluster.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, startEtcd, stopAllEtcd, type EtcdServer } from "../helpers/etcd.js";
import {
  createClusterWithCli,
  expectSuccess,
  generateCsrTree,
  kubeadmSign,
  startKubeadmHarness,
  startOpensslTlsServer,
  type ClusterKeyAlgorithm,
  type ClusterSetup,
  type KubeadmHarness,
  type KubeadmTree,
  type OpensslTlsServer,
} from "../helpers/kubeadm-checks.js";
import { opensslRun } from "../helpers/openssl.js";

const NODE = { name: "etcd-cp-1", advertiseAddress: "192.168.30.11" };
const CLUSTERS: Record<ClusterKeyAlgorithm, ClusterSetup> = {
  "ECDSA-P256": { name: "etcd-ec", controlPlaneEndpoint: "k8s.etcd-ec.internal:6443", keyAlgorithm: "ECDSA-P256", nodes: [{ name: NODE.name, role: "control-plane", addresses: [NODE.advertiseAddress] }] },
  "RSA-2048": { name: "etcd-rsa", controlPlaneEndpoint: "k8s.etcd-rsa.internal:6443", keyAlgorithm: "RSA-2048", nodes: [{ name: NODE.name, role: "control-plane", addresses: [NODE.advertiseAddress] }] },
};
const ALGORITHMS = Object.keys(CLUSTERS) as ClusterKeyAlgorithm[];
/** etcdctl's dial/command timeout where the TLS handshake is expected to fail (etcdctl retries until then). */
const REFUSED_TIMEOUT = "1s";

let h: KubeadmHarness;
const trees = new Map<ClusterKeyAlgorithm, KubeadmTree>();
const treeOf = (algorithm: ClusterKeyAlgorithm): KubeadmTree => {
  const tree = trees.get(algorithm);
  if (tree === undefined) throw new Error(`no tree for ${algorithm}`);
  return tree;
};
const otherThan = (algorithm: ClusterKeyAlgorithm): ClusterKeyAlgorithm => (algorithm === "RSA-2048" ? "ECDSA-P256" : "RSA-2048");

/** etcdctl credentials from a tree: `--cacert etcd/ca.crt --cert <base>.crt --key <base>.key`. */
function credentials(tree: KubeadmTree, base: string, endpoint: string, cacert = "etcd/ca.crt", commandTimeout?: string) {
  return { endpoint, ...(commandTimeout === undefined ? {} : { commandTimeout }), cacert: path.join(tree.certDir, cacert), cert: path.join(tree.certDir, `${base}.crt`), key: path.join(tree.certDir, `${base}.key`) };
}

beforeAll(async () => {
  h = await startKubeadmHarness("kubeadm-etcd");
  for (const algorithm of ALGORITHMS) await createClusterWithCli(h, CLUSTERS[algorithm]);
  const generated = await Promise.all(ALGORITHMS.map((algorithm) => generateCsrTree(h.workDir, `tree-${algorithm}`, CLUSTERS[algorithm], NODE)));
  for (const [i, algorithm] of ALGORITHMS.entries()) {
    const tree = generated[i]!;
    expectSuccess(await kubeadmSign(h, tree, CLUSTERS[algorithm].name, NODE.name), `kpki kubeadm sign (${algorithm})`);
    trees.set(algorithm, tree);
  }
});

afterAll(async () => {
  await stopAllEtcd();
  await h?.close();
});

describe.each(ALGORITHMS)("etcd 3.4 with the etcd certificates of a %s cluster", (algorithm) => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await startEtcd({ name: NODE.name, pki: { certDir: treeOf(algorithm).certDir } });
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it("starts with --cert-file etcd/server.crt, --peer-cert-file etcd/peer.crt, client and peer certificate auth against etcd/ca.crt", () => {
    const logs = etcd.logs();
    expect(logs).toMatch(/"msg":"serving client traffic securely","address":"127\.0\.0\.1:\d+"/);
    expect(logs).toMatch(/"msg":"serving peer traffic"/);
    // etcd's own account of its TLS set-up: kpki's files, and certificate auth on both listeners.
    const etcdDir = path.join(treeOf(algorithm).certDir, "etcd");
    for (const [listener, base] of [["peer", "peer"], ["client", "server"]] as const) {
      expect(logs).toContain(`"msg":"starting with ${listener} TLS","tls-info":"cert = ${etcdDir}/${base}.crt, key = ${etcdDir}/${base}.key, trusted-ca = ${etcdDir}/ca.crt, client-cert-auth = true`);
    }
    expect(logs).not.toMatch(/rejected connection/);
  });

  it("etcdctl endpoint health succeeds with etcd/healthcheck-client (the liveness probe's client)", async () => {
    const result = await etcdctl(credentials(treeOf(algorithm), "etcd/healthcheck-client", etcd.clientUrl), ["endpoint", "health"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(new RegExp(`${etcd.clientUrl.replace(/[.:/]/g, "\\$&")} is healthy: successfully committed proposal`));
  });

  it("etcdctl with apiserver-etcd-client (kube-apiserver's client) passes the health check, writes and reads", async () => {
    const creds = credentials(treeOf(algorithm), "apiserver-etcd-client", etcd.clientUrl);
    const health = await etcdctl(creds, ["endpoint", "health"]);
    expect(health.code, health.stderr).toBe(0);
    expect(health.stdout + health.stderr).toMatch(/is healthy: successfully committed proposal/);
    const put = await etcdctl(creds, ["put", "/registry/kpki-test", algorithm]);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout.trim()).toBe("OK");
    const get = await etcdctl(creds, ["get", "/registry/kpki-test", "--print-value-only"]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.trim()).toBe(algorithm);
  });

  it("etcdctl with a client certificate of the cluster's ca domain (apiserver-kubelet-client) FAILS: etcd rejects it as signed by an unknown authority", async () => {
    const before = etcd.logs().length;
    const result = await etcdctl(credentials(treeOf(algorithm), "apiserver-kubelet-client", etcd.clientUrl, "etcd/ca.crt", REFUSED_TIMEOUT), ["endpoint", "health"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/is unhealthy|unhealthy cluster/);
    const logged = etcd.logs().slice(before);
    expect(logged).toMatch(/"msg":"rejected connection".*"error":"tls: failed to verify client certificate: x509: certificate signed by unknown authority/);
  });

  it("front-proxy-client and the other cluster's etcd/healthcheck-client are refused too", async () => {
    for (const [tree, base] of [[treeOf(algorithm), "front-proxy-client"], [treeOf(otherThan(algorithm)), "etcd/healthcheck-client"]] as const) {
      const before = etcd.logs().length;
      const creds = { ...credentials(tree, base, etcd.clientUrl, "etcd/ca.crt", REFUSED_TIMEOUT), cacert: path.join(treeOf(algorithm).certDir, "etcd/ca.crt") };
      const result = await etcdctl(creds, ["endpoint", "health"]);
      expect(result.code, `${tree.certDir}/${base}`).not.toBe(0);
      expect(etcd.logs().slice(before), `${tree.certDir}/${base}`).toMatch(/"msg":"rejected connection".*certificate signed by unknown authority/);
    }
  });

  it("a client that trusts ca.crt instead of etcd/ca.crt does not accept etcd's serving certificate", async () => {
    const before = etcd.logs().length;
    const creds = credentials(treeOf(algorithm), "etcd/healthcheck-client", etcd.clientUrl, "ca.crt", REFUSED_TIMEOUT);
    const result = await etcdctl(creds, ["endpoint", "health"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/is unhealthy|unhealthy cluster/);
    // This time the client hung up: etcd hears "bad certificate" from etcdctl.
    expect(etcd.logs().slice(before)).toMatch(/"msg":"rejected connection".*"error":"remote error: tls: bad certificate"/);
  });

  it("the peer listener serves etcd/peer.crt (valid for 127.0.0.1 under etcd/ca.crt) and accepts etcd/peer.crt as a peer client", () => {
    const pki = treeOf(algorithm).certDir;
    const run = opensslRun(
      [
        "s_client", "-connect", `127.0.0.1:${etcd.peerPort}`, "-CAfile", path.join(pki, "etcd/ca.crt"), "-partial_chain", "-verify_return_error", "-verify_ip", "127.0.0.1",
        "-cert", path.join(pki, "etcd/peer.crt"), "-key", path.join(pki, "etcd/peer.key"), "-servername", "127.0.0.1",
      ],
      "",
    );
    const output = run.stdout + run.stderr;
    expect(output).toMatch(/Verify return code: 0 \(ok\)/);
    const served = /Server certificate\n(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n)/.exec(run.stdout)?.[1];
    expect(served, output).toBeDefined();
    expect(served?.trim()).toBe(readFileSync(path.join(pki, "etcd/peer.crt"), "utf8").trim());
  });
});

describe.each(ALGORITHMS)("kube-apiserver's serving certificate and admin.conf of a %s cluster in a Go TLS handshake (kubectl ↔ openssl s_server)", (algorithm) => {
  let tls: OpensslTlsServer;
  let wwwDir: string;
  let emptyKubeconfig: string;
  const body = `{"major":"1","minor":"32","gitVersion":"v1.32.0-kpki-${algorithm.toLowerCase()}"}`;

  /** kubectl get --raw /version against the s_server. */
  function kubectl(args: readonly string[]): { code: number; output: string } {
    const run = spawnSync("kubectl", ["get", "--raw", "/version", ...args], { encoding: "utf8", timeout: 30_000 });
    return { code: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
  }

  beforeAll(async () => {
    const tree = treeOf(algorithm);
    wwwDir = path.join(h.workDir, `www-${algorithm}`);
    mkdirSync(wwwDir, { recursive: true });
    writeFileSync(path.join(wwwDir, "version"), body);
    emptyKubeconfig = path.join(h.workDir, "empty.kubeconfig");
    writeFileSync(emptyKubeconfig, "apiVersion: v1\nkind: Config\n");
    tls = await startOpensslTlsServer({
      certificateFile: path.join(tree.certDir, "apiserver.crt"),
      keyFile: path.join(tree.certDir, "apiserver.key"),
      clientCaFile: path.join(tree.certDir, "ca.crt"),
      wwwDir,
    });
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it.each(["kubernetes", "kubernetes.default.svc.cluster.local", NODE.name])("kubectl --kubeconfig admin.conf trusts apiserver.crt for server name %s and the server accepts admin.conf's client certificate", (serverName) => {
    const result = kubectl(["--kubeconfig", path.join(treeOf(algorithm).kubeconfigDir, "admin.conf"), "--server", `https://127.0.0.1:${tls.port}`, "--tls-server-name", serverName]);
    expect(result.code, `${result.output}\ns_server: ${tls.output()}`).toBe(0);
    expect(result.output.trim()).toBe(body);
  });

  it("Go refuses apiserver.crt for 127.0.0.1: kubeadm puts no loopback address in it", () => {
    const result = kubectl(["--kubeconfig", path.join(treeOf(algorithm).kubeconfigDir, "admin.conf"), "--server", `https://127.0.0.1:${tls.port}`]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/x509: certificate is valid for .*10\.96\.0\.1.*192\.168\.30\.11, not 127\.0\.0\.1/);
  });

  it("a front-proxy-client certificate is not an API client: the server (trusting ca.crt) refuses it", () => {
    const pki = treeOf(algorithm).certDir;
    const result = kubectl([
      "--kubeconfig", emptyKubeconfig, "--server", `https://127.0.0.1:${tls.port}`, "--tls-server-name", "kubernetes", "--certificate-authority", path.join(pki, "ca.crt"),
      "--client-certificate", path.join(pki, "front-proxy-client.crt"), "--client-key", path.join(pki, "front-proxy-client.key"),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/tls: unknown certificate authority|bad certificate/);
  });

  it("a client trusting etcd/ca.crt or the other cluster's ca.crt does not accept apiserver.crt", () => {
    for (const caFile of [path.join(treeOf(algorithm).certDir, "etcd/ca.crt"), path.join(treeOf(otherThan(algorithm)).certDir, "ca.crt")]) {
      const pki = treeOf(algorithm).certDir;
      const result = kubectl([
        "--kubeconfig", emptyKubeconfig, "--server", `https://127.0.0.1:${tls.port}`, "--tls-server-name", "kubernetes", "--certificate-authority", caFile,
        "--client-certificate", path.join(pki, "apiserver-kubelet-client.crt"), "--client-key", path.join(pki, "apiserver-kubelet-client.key"),
      ]);
      expect(result.code, caFile).not.toBe(0);
      expect(result.output, caFile).toMatch(/x509: certificate signed by unknown authority/);
    }
  });
});

// `kpki kubeadm renew` and `kpki kubeadm check-expiration` on a tree signed by a real `kpki serve`
// (reference/kubernetes.md §2.3, §2.4): renewal replaces a certificate with a new serial (same key
// unless --new-keys), keeps the replaced files in a backup directory, and the new certificate
// passes the same per-file checks; check-expiration lists every certificate with its CA.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotTree } from "../fixtures/kubeadm/tree-snapshot.js";
import {
  certificatePublicKeyPem,
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
  type LeafExpectation,
} from "../helpers/kubeadm-checks.js";
import { opensslRun } from "../helpers/openssl.js";

const NODE = { name: "cp-1", advertiseAddress: "192.168.80.11" };
const CLUSTER: ClusterSetup = { name: "renew-ec", controlPlaneEndpoint: "k8s.renew-ec.internal:6443", keyAlgorithm: "ECDSA-P256", nodes: [{ name: NODE.name, role: "control-plane", addresses: [NODE.advertiseAddress] }] };

let h: KubeadmHarness;
let tree: KubeadmTree;

const pki = (file: string) => path.join(tree.certDir, file);
const serialOf = (file: string): string => {
  const run = opensslRun(["x509", "-in", file, "-noout", "-serial"]);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim();
};
const renew = (names: readonly string[], extra: readonly string[] = []) =>
  h.kpki(["kubeadm", "renew", ...names, "--cluster", CLUSTER.name, "--node", NODE.name, "--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir, ...extra, ...h.remote()]);
const backupDirs = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith("kpki-backup-")).sort();

function apiserverExpectation(): LeafExpectation {
  return {
    certificateFile: pki("apiserver.crt"),
    keyFile: pki("apiserver.key"),
    caFile: pki("ca.crt"),
    issuerCommonName: "kubernetes",
    subject: "CN=kube-apiserver",
    usage: "server",
    dnsNames: [NODE.name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "k8s.renew-ec.internal"],
    ipAddresses: ["10.96.0.1", NODE.advertiseAddress],
    mustNotMatch: ["127.0.0.1"],
    keyAlgorithm: "ECDSA-P256",
  };
}

/** Snapshot of the tree without backup directories. */
function liveFiles(): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshotTree(tree.root)).filter(([file]) => !file.includes("kpki-backup-")));
}

beforeAll(async () => {
  h = await startKubeadmHarness("kubeadm-renew");
  await createClusterWithCli(h, CLUSTER);
  tree = await generateCsrTree(h.workDir, "tree", CLUSTER, NODE);
  expectSuccess(await kubeadmSign(h, tree, CLUSTER.name, NODE.name), "kpki kubeadm sign");
});

afterAll(async () => {
  await h?.close();
});

describe("kpki kubeadm renew", () => {
  it("renew apiserver: new serial, same key, the old certificate kept in kpki-backup-<time>/, nothing else touched", async () => {
    const oldCrt = readFileSync(pki("apiserver.crt"));
    const oldKey = readFileSync(pki("apiserver.key"));
    const oldSerial = serialOf(pki("apiserver.crt"));
    const before = liveFiles();
    const count = await h.inventoryCount();

    const result = await renew(["apiserver"]);
    expectSuccess(result, "kpki kubeadm renew apiserver");
    expect(result.stderr).toMatch(/^renewing 1 certificate for node cp-1 of cluster renew-ec: apiserver…\n/);
    expect(result.stderr).toMatch(/restart kube-apiserver/);

    expect(serialOf(pki("apiserver.crt"))).not.toBe(oldSerial);
    expect(readFileSync(pki("apiserver.key")).equals(oldKey), "apiserver.key unchanged").toBe(true);
    expectKubeadmLeaf(apiserverExpectation());
    // Only apiserver.crt changed among the live files.
    const after = liveFiles();
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    const changed = Object.keys(after).filter((file) => after[file] !== before[file]);
    expect(changed).toEqual([path.relative(tree.root, pki("apiserver.crt"))]);
    // The backup holds the replaced file, byte for byte (and only it).
    const backups = backupDirs(tree.certDir);
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^kpki-backup-\d{8}T\d{6}Z$/);
    const backup = path.join(tree.certDir, backups[0]!);
    expect(readdirSync(backup, { recursive: true })).toEqual(["apiserver.crt"]);
    expect(readFileSync(path.join(backup, "apiserver.crt")).equals(oldCrt)).toBe(true);
    expect(result.stderr).toContain(`kept the replaced files in ${backup}`);
    expect(await h.inventoryCount()).toBe(count + 1);
  });

  it("renew apiserver --new-keys: a new key of the same algorithm; the backup keeps the old key and certificate", async () => {
    const oldCrt = readFileSync(pki("apiserver.crt"));
    const oldKey = readFileSync(pki("apiserver.key"));
    const oldPublic = certificatePublicKeyPem(pki("apiserver.crt"));
    const existing = backupDirs(tree.certDir);

    const result = await renew(["apiserver"], ["--new-keys"]);
    expectSuccess(result, "kpki kubeadm renew apiserver --new-keys");
    expect(certificatePublicKeyPem(pki("apiserver.crt"))).not.toBe(oldPublic);
    expect(readFileSync(pki("apiserver.key")).equals(oldKey)).toBe(false);
    expectKubeadmLeaf(apiserverExpectation());

    const added = backupDirs(tree.certDir).filter((dir) => !existing.includes(dir));
    expect(added).toHaveLength(1);
    const backup = path.join(tree.certDir, added[0]!);
    expect(readdirSync(backup, { recursive: true }).map(String).sort()).toEqual(["apiserver.crt", "apiserver.key"]);
    expect(readFileSync(path.join(backup, "apiserver.crt")).equals(oldCrt)).toBe(true);
    expect(readFileSync(path.join(backup, "apiserver.key")).equals(oldKey)).toBe(true);
  });

  it("renew all: every certificate kubeadm renews (not kubelet.conf) gets a new serial and still passes the checks", async () => {
    const leaves = ["apiserver.crt", "apiserver-kubelet-client.crt", "front-proxy-client.crt", "apiserver-etcd-client.crt", "etcd/server.crt", "etcd/peer.crt", "etcd/healthcheck-client.crt"];
    const serials = new Map(leaves.map((file) => [file, serialOf(pki(file))]));
    const kubelet = readFileSync(path.join(tree.kubeconfigDir, "kubelet.conf"));
    const admin = readFileSync(path.join(tree.kubeconfigDir, "admin.conf"), "utf8");
    const count = await h.inventoryCount();

    const result = await renew(["all"]);
    expectSuccess(result, "kpki kubeadm renew all");
    expect(result.stderr).toMatch(/^renewing 11 certificates /);
    for (const file of leaves) expect(serialOf(pki(file)), file).not.toBe(serials.get(file));
    expect(readFileSync(path.join(tree.kubeconfigDir, "kubelet.conf")).equals(kubelet), "kubelet.conf is the kubelet's to rotate").toBe(true);
    expect(readFileSync(path.join(tree.kubeconfigDir, "admin.conf"), "utf8")).not.toBe(admin);
    expect(await h.inventoryCount()).toBe(count + 11);

    expectKubeadmLeaf(apiserverExpectation());
    expectKubeadmLeaf({
      certificateFile: pki("etcd/server.crt"), keyFile: pki("etcd/server.key"), caFile: pki("etcd/ca.crt"), issuerCommonName: "etcd-ca", subject: `CN=${NODE.name}`, usage: "server+client",
      dnsNames: [NODE.name, "localhost"], ipAddresses: [NODE.advertiseAddress, "127.0.0.1", "::1"], keyAlgorithm: "ECDSA-P256",
    });
    expectKubeadmLeaf({ certificateFile: pki("front-proxy-client.crt"), keyFile: pki("front-proxy-client.key"), caFile: pki("front-proxy-ca.crt"), issuerCommonName: "front-proxy-ca", subject: "CN=front-proxy-client", usage: "client", keyAlgorithm: "ECDSA-P256" });
    expectKubeconfig({ file: path.join(tree.kubeconfigDir, "admin.conf"), name: "admin", nodeName: NODE.name, caFile: pki("ca.crt"), server: `https://${CLUSTER.controlPlaneEndpoint}`, keyAlgorithm: "ECDSA-P256", scratch: path.join(h.workDir, "scratch") });
    // The kubeconfig backups are in the kubeconfig dir's own backup directory.
    const kubeconfigBackups = backupDirs(tree.kubeconfigDir);
    expect(kubeconfigBackups).toHaveLength(1);
    expect(readdirSync(path.join(tree.kubeconfigDir, kubeconfigBackups[0]!)).sort()).toEqual(["admin.conf", "controller-manager.conf", "scheduler.conf", "super-admin.conf"]);
    expect(readFileSync(path.join(tree.kubeconfigDir, kubeconfigBackups[0]!, "admin.conf"), "utf8")).toBe(admin);
  });
});

describe("kpki kubeadm check-expiration", () => {
  interface Entry {
    name: string;
    expirationDate: string | null;
    residualTime: number;
    caName?: string;
    externallyManaged: boolean;
    missing: boolean;
  }

  it("-o json lists every certificate with kubeadm's CA names, and the three CAs as externally managed", async () => {
    const result = await h.kpki(["kubeadm", "check-expiration", "-o", "json", "--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir]);
    expectSuccess(result, "kpki kubeadm check-expiration -o json");
    const info = JSON.parse(result.stdout) as { kind: string; apiVersion: string; certificates: Entry[]; certificateAuthorities: Entry[] };
    expect(info.kind).toBe("CertificateExpirationInfo");
    expect(info.apiVersion).toBe("output.kubeadm.k8s.io/v1alpha3");
    expect(info.certificates.map((c) => [c.name, c.caName])).toEqual([
      ["admin.conf", "ca"],
      ["apiserver", "ca"],
      ["apiserver-etcd-client", "etcd-ca"],
      ["apiserver-kubelet-client", "ca"],
      ["controller-manager.conf", "ca"],
      ["etcd-healthcheck-client", "etcd-ca"],
      ["etcd-peer", "etcd-ca"],
      ["etcd-server", "etcd-ca"],
      ["front-proxy-client", "front-proxy-ca"],
      ["scheduler.conf", "ca"],
      ["super-admin.conf", "ca"],
    ]);
    for (const entry of info.certificates) {
      expect(entry.missing, entry.name).toBe(false);
      // No CA key on disk: external-CA mode, as kubeadm reports it.
      expect(entry.externallyManaged, entry.name).toBe(true);
      expect(entry.residualTime, entry.name).toBeGreaterThan(364 * 86_400);
      expect(entry.residualTime, entry.name).toBeLessThanOrEqual(365 * 86_400);
    }
    // The dates are the certificates' notAfter (openssl -enddate), to the second.
    const endDate = (file: string) => new Date(opensslRun(["x509", "-in", file, "-noout", "-enddate"]).stdout.replace(/^notAfter=/, "").trim()).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(info.certificates.find((c) => c.name === "apiserver")?.expirationDate).toBe(endDate(pki("apiserver.crt")));
    expect(info.certificates.find((c) => c.name === "etcd-peer")?.expirationDate).toBe(endDate(pki("etcd/peer.crt")));

    expect(info.certificateAuthorities.map((c) => c.name)).toEqual(["ca", "etcd-ca", "front-proxy-ca"]);
    for (const ca of info.certificateAuthorities) {
      expect(ca.caName, ca.name).toBeUndefined();
      expect(ca.externallyManaged, ca.name).toBe(true);
      expect(ca.missing, ca.name).toBe(false);
      expect(ca.residualTime, ca.name).toBeGreaterThan(9 * 365 * 86_400);
    }
    expect(info.certificateAuthorities.find((c) => c.name === "etcd-ca")?.expirationDate).toBe(endDate(pki("etcd/ca.crt")));
  });

  it("the text table names the same rows and CAs", async () => {
    const result = await h.kpki(["kubeadm", "check-expiration", "--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir]);
    expectSuccess(result, "kpki kubeadm check-expiration");
    const [certificates = "", authorities = ""] = result.stdout.split("\n\n");
    const rows = certificates.trim().split("\n");
    expect(rows[0]).toMatch(/^CERTIFICATE\s+EXPIRES\s+RESIDUAL TIME\s+CERTIFICATE AUTHORITY\s+EXTERNALLY MANAGED$/);
    expect(rows.slice(1).map((row) => row.split(/\s{2,}/).filter((cell) => cell !== ""))).toEqual(
      expect.arrayContaining([expect.arrayContaining(["front-proxy-client", "364d", "front-proxy-ca", "yes"]), expect.arrayContaining(["etcd-server", "364d", "etcd-ca", "yes"])]) as unknown,
    );
    expect(rows).toHaveLength(12);
    expect(authorities.trim().split("\n").map((row) => row.split(/\s{2,}/)[0])).toEqual(["CERTIFICATE AUTHORITY", "ca", "etcd-ca", "front-proxy-ca"]);
    expect(existsSync(pki("ca.key"))).toBe(false);
  });
});

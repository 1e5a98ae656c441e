// `kpki kubeadm renew` and `kpki kubeadm check-expiration` on trees signed through the real signer.
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeGenerateCsrOutput } from "../../../../test/fixtures/kubeadm/generate-csr.js";
import { OpensslKubeadmSigner, startSignServer, type SignServer } from "../../../../test/fixtures/kubeadm/openssl-kubeadm-signer.js";
import { runKubeadmCli } from "../../../../test/fixtures/kubeadm/run-kubeadm-cli.js";
import { snapshotTree } from "../../../../test/fixtures/kubeadm/tree-snapshot.js";
import { opensslRun, privateKeyPublicKey } from "../../../../test/helpers/openssl.js";
import { EXIT } from "../exit-codes.js";
import { parseKubeconfig } from "./kubeconfig-file.js";

let work: string;
let signer: OpensslKubeadmSigner;
let server: SignServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "kpki-kubeadm-renew-"));
  signer = new OpensslKubeadmSigner("prod", [{ name: "cp-1", role: "control-plane" }, { name: "worker-7", role: "worker" }]);
  server = await startSignServer(signer, work);
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  server.transform = (answer) => answer;
  signer.days = 30;
});

interface Tree {
  root: string;
  certDir: string;
  kubeconfigDir: string;
}
let trees = 0;
const remote = (): string[] => ["--server", server.url, "--ca-cert", server.caFile, "--token-file", server.tokenFile];
const dirArgs = (tree: Tree): string[] => ["--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir];

/** A generate-csr tree signed with 30-day certificates. */
async function signedTree(node: "cp-1" | "worker-7" = "cp-1", keyAlgorithm: "ECDSA-P256" | "RSA-2048" = "ECDSA-P256"): Promise<Tree> {
  const root = path.join(work, `tree-${++trees}`);
  const tree = { root, kubeconfigDir: root, certDir: path.join(root, "pki") };
  await writeGenerateCsrOutput({
    ...tree, node: { name: node, advertiseAddress: "192.168.10.11" }, keyAlgorithm, include: node === "cp-1" ? "control-plane" : "worker",
    cluster: { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "k8s.example.internal:6443", apiServerCertSans: ["api.example.internal"] },
  });
  const run = await runKubeadmCli(["sign", "--cluster", "prod", "--node", node, ...dirArgs(tree), ...remote()]);
  expect(run.code, run.stderr).toBe(0);
  return tree;
}

const renew = (tree: Tree, ...args: string[]) => runKubeadmCli(["renew", "--cluster", "prod", "--node", args.includes("--worker") ? "worker-7" : "cp-1", ...dirArgs(tree), ...remote(), ...args.filter((a) => a !== "--worker")]);
const text = (file: string): string => readFileSync(file, "utf8");
/** Subject, SANs and key of a certificate, as openssl prints them. */
const identity = (pem: string): string => opensslRun(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-ext", "subjectAltName", "-pubkey"], pem).stdout;
const kubeconfigCertificate = (file: string): string => parseKubeconfig(text(file), file).clientCertificatePem!;
const backupDir = (dir: string): string => {
  const found = readdirSync(dir).filter((name) => /^kpki-backup-\d{8}T\d{6}Z(-\d+)?$/.test(name));
  expect(found).toHaveLength(1);
  return path.join(dir, found[0]!);
};

describe("kpki kubeadm renew", () => {
  it("renews every certificate with the same keys, subjects and SANs, keeping the old files in kpki-backup-<time>/", async () => {
    const tree = await signedTree();
    const pki = (f: string) => path.join(tree.certDir, f);
    const old = { apiserver: text(pki("apiserver.crt")), peer: text(pki("etcd/peer.crt")), admin: text(path.join(tree.root, "admin.conf")), kubelet: text(path.join(tree.root, "kubelet.conf")), key: text(pki("apiserver.key")) };
    signer.days = 365;
    const run = await renew(tree, "all");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("renewing 11 certificates for node cp-1 of cluster prod: apiserver, apiserver-kubelet-client, front-proxy-client, apiserver-etcd-client, etcd-server, etcd-peer, etcd-healthcheck-client, admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf…\n");
    expect(run.stderr).toContain("done renewing; restart kube-apiserver, kube-controller-manager, kube-scheduler and etcd");

    expect(text(pki("apiserver.crt"))).not.toBe(old.apiserver);
    expect(identity(text(pki("apiserver.crt")))).toBe(identity(old.apiserver));
    expect(identity(text(pki("apiserver.crt")))).toContain("DNS:api.example.internal");
    expect(identity(text(pki("etcd/peer.crt")))).toBe(identity(old.peer));
    const oldAdmin = parseKubeconfig(old.admin, "old").clientCertificatePem!;
    const newAdmin = kubeconfigCertificate(path.join(tree.root, "admin.conf"));
    expect(newAdmin).not.toBe(oldAdmin);
    expect(identity(newAdmin)).toBe(identity(oldAdmin));
    expect(new Date(new X509Certificate(text(pki("apiserver.crt"))).validTo).getTime() - Date.now()).toBeGreaterThan(300 * 86_400_000);
    expect(text(pki("apiserver.key"))).toBe(old.key);
    // kubelet.conf is the kubelet's to rotate: `all` leaves it alone, as kubeadm does.
    expect(text(path.join(tree.root, "kubelet.conf"))).toBe(old.kubelet);

    const pkiBackup = backupDir(tree.certDir);
    expect(text(path.join(pkiBackup, "apiserver.crt"))).toBe(old.apiserver);
    expect(text(path.join(pkiBackup, "etcd/peer.crt"))).toBe(old.peer);
    expect(existsSync(path.join(pkiBackup, "ca.crt"))).toBe(false); // unchanged files are not copied
    expect(existsSync(path.join(pkiBackup, "apiserver.key"))).toBe(false);
    const confBackup = backupDir(tree.kubeconfigDir);
    expect(text(path.join(confBackup, "admin.conf"))).toBe(old.admin);
    expect((statSync(path.join(confBackup, "admin.conf")).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(confBackup).mode & 0o777).toString(8)).toBe("700");
    expect(run.stderr).toContain(`kept the replaced files in ${pkiBackup} and ${confBackup}\n`);

    // check-expiration now shows a year for the renewed ones.
    const check = await runKubeadmCli(["check-expiration", ...dirArgs(tree), "-o", "json"]);
    const info = JSON.parse(check.stdout) as { certificates: { name: string; residualTime: number }[] };
    for (const entry of info.certificates) expect(entry.residualTime, entry.name).toBeGreaterThan(360 * 86_400);
  });

  it("--new-keys makes new keys of the same algorithm and keeps the old keys in the backup", async () => {
    const tree = await signedTree("cp-1", "RSA-2048");
    const pki = (f: string) => path.join(tree.certDir, f);
    const oldKey = text(pki("apiserver.key"));
    const oldAdmin = text(path.join(tree.root, "admin.conf"));
    const run = await renew(tree, "--new-keys", "apiserver", "admin");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("renewing 2 certificates for node cp-1 of cluster prod with new keys: apiserver, admin.conf…");
    const newKey = text(pki("apiserver.key"));
    expect(newKey).not.toBe(oldKey);
    expect(newKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(opensslRun(["pkey", "-noout", "-text"], newKey).stdout).toMatch(/Private-Key: \(2048 bit, 2 primes\)/);
    expect(opensslRun(["x509", "-noout", "-pubkey"], text(pki("apiserver.crt"))).stdout).toBe(privateKeyPublicKey(newKey));
    expect((statSync(pki("apiserver.key")).mode & 0o777).toString(8)).toBe("600");
    const admin = parseKubeconfig(text(path.join(tree.root, "admin.conf")), "admin.conf");
    expect(admin.clientKeyPem).not.toBe(parseKubeconfig(oldAdmin, "old").clientKeyPem);
    expect(opensslRun(["x509", "-noout", "-pubkey"], admin.clientCertificatePem).stdout).toBe(privateKeyPublicKey(admin.clientKeyPem ?? ""));
    const backup = backupDir(tree.certDir);
    expect(text(path.join(backup, "apiserver.key"))).toBe(oldKey);
    expect((statSync(path.join(backup, "apiserver.key")).mode & 0o777).toString(8)).toBe("600");
    expect(text(path.join(backupDir(tree.kubeconfigDir), "admin.conf"))).toBe(oldAdmin);
    // Untouched certificates stay as they were.
    expect(existsSync(path.join(backup, "front-proxy-client.crt"))).toBe(false);
  });

  it("renews a worker's kubelet.conf when named; `all` finds nothing to renew there", async () => {
    const tree = await signedTree("worker-7");
    const all = await renew(tree, "--worker", "all");
    expect(all.code).toBe(EXIT.notFound);
    expect(all.stderr).toContain("MISSING! apiserver\n");
    expect(all.stderr).toContain("kpki: nothing to renew: none of the certificates exists\n");
    const before = kubeconfigCertificate(path.join(tree.root, "kubelet.conf"));
    const run = await renew(tree, "--worker", "kubelet.conf");
    expect(run.code, run.stderr).toBe(0);
    const after = kubeconfigCertificate(path.join(tree.root, "kubelet.conf"));
    expect(after).not.toBe(before);
    expect(new X509Certificate(after).subject).toBe("O=system:nodes\nCN=system:node:worker-7");
  });

  it.each([
    [["bogus"], /unknown certificate "bogus"; expected one of apiserver, .*, scheduler\.conf, all/],
    [[], /name the certificates to renew, or all/],
    [["all", "apiserver"], /give either all or certificate names, not both/],
  ])("refuses the names %j", async (names, message) => {
    const tree = { root: work, certDir: path.join(work, "none", "pki"), kubeconfigDir: path.join(work, "none") };
    const run = await renew(tree, ...names);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(message);
  });

  it("an unusable answer writes nothing and leaves no backup directory", async () => {
    const tree = await signedTree();
    server.transform = (answer) => ({ ...answer, caCertificates: { ...answer.caCertificates, ca: answer.caCertificates["etcd-ca"] } });
    const before = snapshotTree(tree.root);
    const run = await renew(tree, "all");
    expect(run.code).toBe(EXIT.failure);
    expect(run.stderr).toContain("kpki: the server's answer cannot be used, nothing was written");
    expect(snapshotTree(tree.root)).toEqual(before);
  });

  it("refuses a certificate that does not match its key", async () => {
    const tree = await signedTree();
    writeFileSync(path.join(tree.certDir, "apiserver.crt"), text(path.join(tree.certDir, "front-proxy-client.crt")));
    const run = await renew(tree, "apiserver");
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain(`kpki: the certificate in ${path.join(tree.certDir, "apiserver.crt")} does not match its key ${path.join(tree.certDir, "apiserver.key")}`);
  });
});

describe("kpki kubeadm check-expiration", () => {
  it("reports a signed external-CA tree from the files alone", async () => {
    const tree = await signedTree();
    const run = await runKubeadmCli(["check-expiration", ...dirArgs(tree)]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe("CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED");
    expect(lines.slice(1, 12).map((l) => l.split(/\s{2,}/)[0])).toEqual([
      "admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "controller-manager.conf", "etcd-healthcheck-client", "etcd-peer", "etcd-server", "front-proxy-client", "scheduler.conf", "super-admin.conf",
    ]);
    expect(lines[2]).toMatch(/^apiserver {18}\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC {3}29d {13}ca {22}yes {5}$/);
    expect(lines[12]).toBe("");
    expect(lines[13]).toBe("CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED");
    expect(lines[14]).toMatch(/^ca {22}\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC {3}9y {14}yes {5}$/);

    const json = await runKubeadmCli(["check-expiration", ...dirArgs(tree), "-o", "json"]);
    const info = JSON.parse(json.stdout) as { certificates: { name: string; expirationDate: string; caName: string; externallyManaged: boolean; missing: boolean }[] };
    const apiserver = info.certificates.find((c) => c.name === "apiserver")!;
    expect(new Date(apiserver.expirationDate).getTime()).toBe(new Date(new X509Certificate(text(path.join(tree.certDir, "apiserver.crt"))).validTo).getTime());
    const admin = info.certificates.find((c) => c.name === "admin.conf")!;
    expect(new Date(admin.expirationDate).getTime()).toBe(new Date(new X509Certificate(kubeconfigCertificate(path.join(tree.root, "admin.conf"))).validTo).getTime());
    expect(info.certificates.find((c) => c.name === "etcd-peer")).toMatchObject({ caName: "etcd-ca", externallyManaged: true, missing: false });
  });

  it("says no for a CA whose key is on disk, and !MISSING! for what is not there", async () => {
    const root = path.join(work, `tree-${++trees}`);
    const tree = { root, kubeconfigDir: root, certDir: path.join(root, "pki") };
    await writeGenerateCsrOutput({ ...tree, node: { name: "cp-1", advertiseAddress: "10.0.0.1" }, cluster: { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "" }, keyAlgorithm: "ECDSA-P256" });
    writeFileSync(path.join(tree.certDir, "ca.crt"), signer.cas.ca.certificatePem);
    writeFileSync(path.join(tree.certDir, "ca.key"), signer.cas.ca.keyPem);
    const run = await runKubeadmCli(["check-expiration", ...dirArgs(tree), "-o", "json"]);
    expect(run.code, run.stderr).toBe(0);
    const info = JSON.parse(run.stdout) as { certificates: { name: string; missing: boolean }[]; certificateAuthorities: { name: string; missing: boolean; externallyManaged: boolean }[] };
    // Unsigned generate-csr output: every certificate is missing (kubeconfigs embed no certificate yet).
    expect(info.certificates.every((c) => c.missing)).toBe(true);
    expect(info.certificateAuthorities).toEqual([
      expect.objectContaining({ name: "ca", missing: false, externallyManaged: false }),
      expect.objectContaining({ name: "etcd-ca", missing: true }),
      expect.objectContaining({ name: "front-proxy-ca", missing: true }),
    ]);
    const textRun = await runKubeadmCli(["check-expiration", ...dirArgs(tree)]);
    expect(textRun.stdout).toContain("!MISSING! admin.conf");
    expect(textRun.stdout).toContain("!MISSING! front-proxy-ca");
  });

  it("refuses an unknown output format and a malformed certificate", async () => {
    const tree = await signedTree();
    expect((await runKubeadmCli(["check-expiration", ...dirArgs(tree), "-o", "xml"])).stderr).toContain("kpki: --output must be text, json or yaml, not xml");
    writeFileSync(path.join(tree.certDir, "apiserver.crt"), "garbage\n");
    const run = await runKubeadmCli(["check-expiration", ...dirArgs(tree)]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`kpki: ${path.join(tree.certDir, "apiserver.crt")}: no PEM block found\n`);
  });
});

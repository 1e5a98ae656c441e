// `kpki kubeadm sign` end to end against a real signer (openssl CAs behind an HTTPS server that
// speaks the sign contract), on trees written like `kubeadm certs generate-csr` writes them.
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateKey, opensslRun, opensslVerify, privateKeyPublicKey, traditionalKeyPem } from "../../../../test/helpers/openssl.js";
import { writeGenerateCsrOutput, type GeneratedCsr, type KubeadmKeyAlgorithm } from "../../../../test/fixtures/kubeadm/generate-csr.js";
import { OpensslKubeadmSigner, startSignServer, type SignAnswer, type SignServer } from "../../../../test/fixtures/kubeadm/openssl-kubeadm-signer.js";
import { runKubeadmCli } from "../../../../test/fixtures/kubeadm/run-kubeadm-cli.js";
import { snapshotTree } from "../../../../test/fixtures/kubeadm/tree-snapshot.js";
import { EXIT } from "../exit-codes.js";
import { planBundleFiles } from "./bundle-plan.js";
import { readCsrTree } from "./csr-tree-reader.js";
import { applyChanges, planChanges } from "./file-transaction.js";
import { bundleItem } from "./kubeadm-sign.js";
import { validateSignResponse } from "./sign-response.js";

const CLUSTER = { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "k8s.example.internal:6443" };
const CP = { name: "cp-1", advertiseAddress: "192.168.10.11" };
const WORKER = { name: "worker-7", advertiseAddress: "192.168.10.27" };

let work: string;
let signer: OpensslKubeadmSigner;
let server: SignServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "kpki-kubeadm-sign-"));
  signer = new OpensslKubeadmSigner("prod", [{ name: "cp-1", role: "control-plane" }, { name: "worker-7", role: "worker" }]);
  server = await startSignServer(signer, work);
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  server.requests.length = 0;
  server.transform = (answer) => answer;
});

interface Tree {
  readonly root: string;
  readonly certDir: string;
  readonly kubeconfigDir: string;
  readonly written: GeneratedCsr[];
}

let trees = 0;
async function newTree(options: { worker?: boolean; keyAlgorithm?: KubeadmKeyAlgorithm } = {}): Promise<Tree> {
  const root = path.join(work, `tree-${++trees}`);
  const kubeconfigDir = path.join(root, "etc-kubernetes");
  const certDir = path.join(kubeconfigDir, "pki");
  const written = await writeGenerateCsrOutput({
    certDir, kubeconfigDir, node: options.worker ? WORKER : CP, cluster: CLUSTER, keyAlgorithm: options.keyAlgorithm ?? "ECDSA-P256", include: options.worker ? "worker" : "control-plane",
  });
  return { root, certDir, kubeconfigDir, written };
}

const remote = (): string[] => ["--server", server.url, "--ca-cert", server.caFile, "--token-file", server.tokenFile];
const sign = (tree: Tree, ...extra: string[]) =>
  runKubeadmCli(["sign", "--cluster", "prod", "--node", extra.includes("--worker") ? "worker-7" : "cp-1", "--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir, ...remote(), ...extra.filter((e) => e !== "--worker")]);
const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);
const posts = (): number => server.requests.filter((r) => r.method === "POST").length;

interface KubectlView {
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string; user: Record<string, string> }[];
  "current-context": string;
}
const kubectlView = (file: string): KubectlView => JSON.parse(execFileSync("kubectl", ["config", "view", "--raw", "-o", "json", "--kubeconfig", file], { encoding: "utf8" })) as KubectlView;

describe("kpki kubeadm sign", () => {
  it("signs a control-plane tree and writes what kubeadm's external-CA mode expects", async () => {
    const tree = await newTree({ keyAlgorithm: "RSA-2048" });
    const run = await sign(tree);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("signing 12 certificates for node cp-1 of cluster prod…\n");
    expect(run.stderr).toContain(`wrote ${path.join(tree.certDir, "apiserver.crt")} (new)\n`);
    expect(run.stderr).toMatch(/done: 12 certificates for node cp-1 of cluster prod; 17 files written, 0 unchanged\n/);
    expect(posts()).toBe(1);

    // The CA certificates: exactly the one CA each, never a CA key.
    const pki = (file: string) => path.join(tree.certDir, file);
    expect(readFileSync(pki("ca.crt"), "utf8")).toBe(signer.cas.ca.certificatePem);
    expect(readFileSync(pki("etcd/ca.crt"), "utf8")).toBe(signer.cas["etcd-ca"].certificatePem);
    expect(readFileSync(pki("front-proxy-ca.crt"), "utf8")).toBe(signer.cas["front-proxy-ca"].certificatePem);
    for (const file of ["ca.crt", "etcd/ca.crt", "front-proxy-ca.crt"]) expect(mode(pki(file))).toBe("644");
    for (const file of ["ca.key", "etcd/ca.key", "front-proxy-ca.key"]) expect(existsSync(pki(file))).toBe(false);
    // The service-account key pair, in kubeadm's encodings and modes.
    expect(privateKeyPublicKey(readFileSync(pki("sa.key"), "utf8"))).toBe(privateKeyPublicKey(signer.serviceAccount.privateKeyPem));
    expect(readFileSync(pki("sa.key"), "utf8")).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(readFileSync(pki("sa.pub"), "utf8")).toBe(privateKeyPublicKey(signer.serviceAccount.privateKeyPem));
    expect([mode(pki("sa.key")), mode(pki("sa.pub"))]).toEqual(["600", "600"]);

    const issuers: Record<string, string> = { apiserver: "ca.crt", "apiserver-kubelet-client": "ca.crt", "front-proxy-client": "front-proxy-ca.crt", "apiserver-etcd-client": "etcd/ca.crt", "etcd-server": "etcd/ca.crt", "etcd-peer": "etcd/ca.crt", "etcd-healthcheck-client": "etcd/ca.crt" };
    for (const entry of tree.written.filter((e) => e.kind === "certificate")) {
      const crt = entry.keyFile.replace(/\.key$/, ".crt");
      expect(mode(crt)).toBe("644");
      const pem = readFileSync(crt, "utf8");
      expect(opensslVerify({ trustedPem: readFileSync(pki(issuers[entry.name]!), "utf8"), leafPem: pem }).ok, entry.name).toBe(true);
      expect(opensslRun(["x509", "-noout", "-pubkey"], pem).stdout).toBe(privateKeyPublicKey(entry.keyPem));
      expect(opensslRun(["x509", "-noout", "-subject", "-nameopt", "RFC2253"], pem).stdout.trim()).toBe(`subject=${entry.subjectRfc2253}`);
      expect(readFileSync(entry.keyFile, "utf8")).toBe(entry.keyPem); // the key is never rewritten
      expect(existsSync(entry.csrFile)).toBe(true); // CSRs are kept by default
    }
    for (const entry of tree.written.filter((e) => e.kind === "kubeconfig")) {
      expect(mode(entry.keyFile)).toBe("600");
      const view = kubectlView(entry.keyFile);
      expect(view["current-context"]).toBe(entry.kubeconfig!.context);
      expect(view.clusters[0]!.cluster.server).toBe(entry.kubeconfig!.server);
      expect(Buffer.from(view.clusters[0]!.cluster["certificate-authority-data"]!, "base64").toString()).toBe(signer.cas.ca.certificatePem);
      const user = view.users[0]!.user;
      expect(Buffer.from(user["client-key-data"]!, "base64").toString()).toBe(entry.keyPem);
      const certificatePem = Buffer.from(user["client-certificate-data"]!, "base64").toString();
      expect(opensslVerify({ trustedPem: signer.cas.ca.certificatePem, leafPem: certificatePem, purpose: "sslclient" }).ok).toBe(true);
      expect(new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(entry.keyPem))).toBe(true);
    }
  });

  it("a rerun is safe: CA files and the SA key are unchanged, certificates replaced, and a dry run then says so", async () => {
    const tree = await newTree();
    expect((await sign(tree)).code).toBe(0);
    const again = await sign(tree);
    expect(again.code, again.stderr).toBe(0);
    for (const file of ["ca.crt", "etcd/ca.crt", "front-proxy-ca.crt", "sa.key", "sa.pub"]) expect(again.stderr).toContain(`unchanged ${path.join(tree.certDir, file)}\n`);
    expect(again.stderr).toContain(`wrote ${path.join(tree.certDir, "apiserver.crt")} (replaced)\n`);
    expect(again.stderr).toContain(`wrote ${path.join(tree.kubeconfigDir, "admin.conf")} (replaced)\n`);
    expect(again.stderr).toContain("12 files written, 5 unchanged");

    const before = snapshotTree(tree.root);
    server.requests.length = 0;
    const dry = await sign(tree, "--dry-run", "--remove-csrs");
    expect(dry.code, dry.stderr).toBe(0);
    expect(snapshotTree(tree.root)).toEqual(before);
    expect(posts()).toBe(0);
    expect(dry.stdout).toContain(`unchanged ${path.join(tree.certDir, "ca.crt")}\n`);
    expect(dry.stdout).toContain(`replace   ${path.join(tree.certDir, "etcd/server.crt")}\n`);
    expect(dry.stdout).toContain(`check     ${path.join(tree.certDir, "sa.key")} (kept if it holds the cluster's service-account key`);
    expect(dry.stdout).toContain(`remove    ${path.join(tree.certDir, "etcd/server.csr")}\n`);
  });

  it("--dry-run on a fresh tree lists what would be created and writes nothing", async () => {
    const tree = await newTree();
    const before = snapshotTree(tree.root);
    const run = await sign(tree, "--dry-run");
    expect(run.code, run.stderr).toBe(0);
    expect(snapshotTree(tree.root)).toEqual(before);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /v1/clusters/prod", "GET /v1/authorities/prod.ca/certificate", "GET /v1/authorities/prod.etcd-ca/certificate", "GET /v1/authorities/prod.front-proxy-ca/certificate",
    ]);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("dry run: would sign 12 certificates for node cp-1 of cluster prod: apiserver, apiserver-kubelet-client, front-proxy-client, apiserver-etcd-client, etcd-server, etcd-peer, etcd-healthcheck-client, admin, super-admin, kubelet, controller-manager, scheduler");
    expect(lines).toContain(`create    ${path.join(tree.certDir, "ca.crt")}`);
    expect(lines).toContain(`create    ${path.join(tree.certDir, "sa.key")}`);
    expect(lines).toContain(`create    ${path.join(tree.certDir, "apiserver.crt")}`);
    expect(lines).toContain(`replace   ${path.join(tree.kubeconfigDir, "admin.conf")}`);
    expect(lines.at(-1)).toBe("dry run: nothing was sent for signing and nothing was written");
    expect(lines).toHaveLength(1 + 3 + 2 + 12 + 1);
  });

  it("--remove-csrs deletes the CSRs once the certificates are written", async () => {
    const tree = await newTree();
    const run = await sign(tree, "--remove-csrs");
    expect(run.code, run.stderr).toBe(0);
    for (const entry of tree.written) expect(existsSync(entry.csrFile), entry.csrFile).toBe(false);
    expect(run.stderr).toContain(`removed ${path.join(tree.kubeconfigDir, "admin.conf.csr")}\n`);
    expect(run.stderr).toContain("12 CSRs removed");
    // Without CSRs the tree has nothing left to sign, and says where to look.
    const again = await sign(tree);
    expect(again.code).toBe(EXIT.usage);
    expect(again.stderr).toContain(`${path.join(tree.certDir, "apiserver.key")}: found the key but not its CSR`);
    expect(again.stderr).toContain("kpki kubeadm renew");
  });

  it("signs a worker's kubelet.conf and writes ca.crt only", async () => {
    const tree = await newTree({ worker: true });
    const run = await sign(tree, "--worker");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("signing 1 certificate for node worker-7 of cluster prod…");
    expect(snapshotTree(tree.root)).toEqual({
      "etc-kubernetes": expect.stringMatching(/^dir /),
      "etc-kubernetes/kubelet.conf": expect.stringMatching(/^file 600 /),
      "etc-kubernetes/kubelet.conf.csr": expect.stringMatching(/^file 600 /),
      "etc-kubernetes/pki": "dir 700",
      "etc-kubernetes/pki/ca.crt": expect.stringMatching(/^file 644 /),
    });
    const view = kubectlView(path.join(tree.kubeconfigDir, "kubelet.conf"));
    const certificatePem = Buffer.from(view.users[0]!.user["client-certificate-data"]!, "base64").toString();
    expect(new X509Certificate(certificatePem).subject).toBe("O=system:nodes\nCN=system:node:worker-7");
  });

  it("refuses a CSR that does not match its key before contacting the server", async () => {
    const tree = await newTree();
    const csr = path.join(tree.certDir, "apiserver.csr");
    renameSync(path.join(tree.certDir, "apiserver-kubelet-client.csr"), csr + ".other");
    renameSync(csr, path.join(tree.certDir, "apiserver-kubelet-client.csr"));
    renameSync(csr + ".other", csr);
    const before = snapshotTree(tree.root);
    const run = await sign(tree);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`kpki: CSR ${csr} does not match ${path.join(tree.certDir, "apiserver.key")}\n`);
    expect(server.requests).toEqual([]);
    expect(snapshotTree(tree.root)).toEqual(before);
  });

  it("refuses a target that is a directory before contacting the server", async () => {
    const tree = await newTree();
    mkdirSync(path.join(tree.certDir, "etcd", "peer.crt"));
    const before = snapshotTree(tree.root);
    const run = await sign(tree);
    expect(run.code).toBe(EXIT.conflict);
    expect(run.stderr).toContain(`${path.join(tree.certDir, "etcd", "peer.crt")} exists and is not a regular file`);
    expect(server.requests).toEqual([]);
    expect(snapshotTree(tree.root)).toEqual(before);
  });

  it("refuses to replace an sa.key holding another key unless --force", async () => {
    const tree = await newTree();
    const saKey = path.join(tree.certDir, "sa.key");
    const otherKey = traditionalKeyPem(generateKey("ECDSA-P256"), "ec");
    writeFileSync(saKey, otherKey, { mode: 0o600 });
    const before = snapshotTree(tree.root);
    const run = await sign(tree);
    expect(run.code).toBe(EXIT.conflict);
    expect(run.stderr).toContain(`kpki: ${saKey} holds another key than the service-account key of cluster prod; refusing before anything is signed`);
    expect(snapshotTree(tree.root)).toEqual(before);
    const forced = await sign(tree, "--force");
    expect(forced.code, forced.stderr).toBe(0);
    expect(privateKeyPublicKey(readFileSync(saKey, "utf8"))).toBe(privateKeyPublicKey(signer.serviceAccount.privateKeyPem));
  });

  it("keeps an existing identical sa.key as it is, whatever its encoding", async () => {
    const tree = await newTree();
    const saKey = path.join(tree.certDir, "sa.key");
    const pkcs8 = opensslRun(["pkey"], signer.serviceAccount.privateKeyPem).stdout; // same key, PKCS#8
    writeFileSync(saKey, pkcs8, { mode: 0o600 });
    const run = await sign(tree);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`unchanged ${saKey}\n`);
    expect(readFileSync(saKey, "utf8")).toBe(pkcs8);
  });

  describe("while the service-account key is rotated (reference §5: sa.pub lists old and new keys)", () => {
    const original = () => signer.serviceAccount;
    let saved: typeof signer.serviceAccount;
    beforeEach(() => {
      saved = original();
    });
    const restore = () => {
      signer.serviceAccount = saved;
    };
    /** The server in step "switched": sa.key is `next`, sa.pub lists the old key and `next`. */
    const switchTo = (next: string) => {
      signer.serviceAccount = { privateKeyPem: next, publicKeyPem: saved.publicKeyPem + privateKeyPublicKey(next) };
    };

    it("replaces an sa.key holding the old key (listed in sa.pub) with the new signing key, and writes sa.pub with both", async () => {
      try {
        const tree = await newTree();
        const saKey = path.join(tree.certDir, "sa.key");
        writeFileSync(saKey, saved.privateKeyPem, { mode: 0o600 });
        const next = traditionalKeyPem(generateKey("ECDSA-P256"), "ec");
        switchTo(next);
        const run = await sign(tree);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toContain(`wrote ${saKey} (replaced)\n`);
        expect(privateKeyPublicKey(readFileSync(saKey, "utf8"))).toBe(privateKeyPublicKey(next));
        expect(readFileSync(path.join(tree.certDir, "sa.pub"), "utf8")).toBe(privateKeyPublicKey(saved.privateKeyPem) + privateKeyPublicKey(next));
      } finally {
        restore();
      }
    });

    it("keeps an sa.pub listing the same keys in another order, and an sa.key that already is the signing key", async () => {
      try {
        const tree = await newTree();
        const next = traditionalKeyPem(generateKey("ECDSA-P256"), "ec");
        switchTo(next);
        const saKey = path.join(tree.certDir, "sa.key");
        const saPub = path.join(tree.certDir, "sa.pub");
        writeFileSync(saKey, next, { mode: 0o600 });
        const reversed = privateKeyPublicKey(next) + privateKeyPublicKey(saved.privateKeyPem);
        writeFileSync(saPub, reversed, { mode: 0o600 });
        const run = await sign(tree);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toContain(`unchanged ${saKey}\n`);
        expect(run.stderr).toContain(`unchanged ${saPub}\n`);
        expect(readFileSync(saPub, "utf8")).toBe(reversed);
      } finally {
        restore();
      }
    });

    it("still refuses an sa.key that is none of the keys sa.pub lists, before anything is signed", async () => {
      try {
        switchTo(traditionalKeyPem(generateKey("ECDSA-P256"), "ec"));
        const tree = await newTree();
        const saKey = path.join(tree.certDir, "sa.key");
        writeFileSync(saKey, traditionalKeyPem(generateKey("ECDSA-P256"), "ec"), { mode: 0o600 });
        const before = snapshotTree(tree.root);
        const run = await sign(tree);
        expect(run.code).toBe(EXIT.conflict);
        expect(run.stderr).toContain(`kpki: ${saKey} holds another key than the service-account key of cluster prod; refusing before anything is signed`);
        expect(posts()).toBe(0);
        expect(snapshotTree(tree.root)).toEqual(before);
      } finally {
        restore();
      }
    });

    it.each<[string, (a: SignAnswer) => unknown, RegExp]>([
      ["an sa.pub without sa.key's public key", (a) => ({ ...a, serviceAccount: { ...a.serviceAccount, publicKeyPem: privateKeyPublicKey(traditionalKeyPem(generateKey("ECDSA-P256"), "ec")) } }), /serviceAccount.publicKeyPem does not list the public half/],
      ["an sa.pub holding a certificate", (a) => ({ ...a, serviceAccount: { ...a.serviceAccount, publicKeyPem: `${a.serviceAccount?.publicKeyPem ?? ""}${signer.cas.ca.certificatePem}` } }), /serviceAccount.publicKeyPem/],
    ])("refuses an answer with %s and writes nothing", async (_what, transform, message) => {
      const tree = await newTree();
      server.transform = transform;
      const before = snapshotTree(tree.root);
      const run = await sign(tree);
      expect(run.code).toBe(EXIT.failure);
      expect(run.stderr).toMatch(message);
      expect(snapshotTree(tree.root)).toEqual(before);
    });
  });

  it("refuses to replace a ca.crt of another CA (wrong cluster?) unless --force", async () => {
    const tree = await newTree();
    const caFile = path.join(tree.certDir, "ca.crt");
    writeFileSync(caFile, signer.cas["front-proxy-ca"].certificatePem);
    const before = snapshotTree(tree.root);
    const run = await sign(tree);
    expect(run.code).toBe(EXIT.conflict);
    expect(run.stderr).toContain(`${caFile} holds another certificate than ca of cluster prod; refusing before anything is signed`);
    expect(snapshotTree(tree.root)).toEqual(before);
    const dry = await sign(tree, "--dry-run");
    expect(dry.code).toBe(EXIT.conflict);
    expect(dry.stdout).toContain(`refuse    ${caFile} (holds another certificate than ca of cluster prod; --force replaces it)`);
    expect((await sign(tree, "--force")).code).toBe(0);
    expect(readFileSync(caFile, "utf8")).toBe(signer.cas.ca.certificatePem);
  });

  it.each<[string, (a: SignAnswer) => unknown, RegExp]>([
    ["a certificate for another key", (a) => ({ ...a, certificates: { ...a.certificates, apiserver: a.certificates["apiserver-kubelet-client"] } }), /the apiserver certificate is for another key than its CSR/],
    ["a certificate of another CA", (a) => ({ ...a, caCertificates: { ...a.caCertificates, "etcd-ca": a.caCertificates["front-proxy-ca"] } }), /was not signed by the etcd-ca certificate of the answer/],
    ["a CA file with two certificates", (a) => ({ ...a, caCertificates: { ...a.caCertificates, ca: `${a.caCertificates.ca}${a.caCertificates["etcd-ca"]}` } }), /caCertificates.ca holds 2 certificates, expected exactly one/],
    ["a missing certificate", (a) => ({ ...a, certificates: Object.fromEntries(Object.entries(a.certificates).filter(([n]) => n !== "scheduler")) }), /no certificate for scheduler/],
    ["an extra certificate", (a) => ({ ...a, certificates: { ...a.certificates, bogus: a.certificates.apiserver } }), /a certificate for bogus, which was not requested/],
    ["another node", (a) => ({ ...a, node: "cp-2" }), /it is for node cp-2 of cluster prod, not node cp-1/],
    ["a malformed SA key", (a) => ({ ...a, serviceAccount: { privateKeyPem: "junk", publicKeyPem: "junk" } }), /serviceAccount.privateKeyPem: not a PEM private key/],
    ["a wrong shape", (a) => ({ ...a, certificates: [] }), /certificates: /],
  ])("refuses an answer with %s and writes nothing", async (_what, transform, message) => {
    const tree = await newTree();
    server.transform = transform;
    const before = snapshotTree(tree.root);
    const run = await sign(tree);
    expect(run.code).toBe(EXIT.failure);
    expect(run.stderr).toMatch(/^signing 12 certificates/);
    expect(run.stderr).toMatch(/kpki: the server's answer cannot be used, nothing was written: /);
    expect(run.stderr).toMatch(message);
    expect(snapshotTree(tree.root)).toEqual(before);
  });

  it("maps the server's refusal to its exit code and writes nothing", async () => {
    const tree = await newTree();
    const before = snapshotTree(tree.root);
    const run = await runKubeadmCli(["sign", "--cluster", "prod", "--node", "cp-9", "--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir, ...remote()]);
    expect(run.code).toBe(EXIT.notFound);
    expect(run.stderr).toContain("kpki: node cp-9 is not in cluster prod (not_found)");
    expect(snapshotTree(tree.root)).toEqual(before);
  });

  it("says so when the tree holds no CSR", async () => {
    const empty = path.join(work, "empty");
    mkdirSync(empty);
    const run = await runKubeadmCli(["sign", "--cluster", "prod", "--node", "cp-1", "--cert-dir", path.join(empty, "pki"), "--kubeconfig-dir", empty, ...remote()]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain("no CSR of `kubeadm certs generate-csr` in");
    expect(server.requests).toEqual([]);
  });
});

describe("all or nothing", () => {
  it("a failing rename in the middle leaves the tree byte-identical, replaced files included", async () => {
    const tree = await newTree();
    expect((await sign(tree)).code).toBe(0); // so that the second run replaces files
    const csrs = readCsrTree(tree);
    const items = csrs.map((csr) => ({ certificate: csr.certificate, csrPem: csr.csrPem, publicKeySpki: csr.privateKey.publicKeySpki }));
    const body = signer.sign({ node: "cp-1", csrs: Object.fromEntries(items.map((i) => [i.certificate.name, i.csrPem])) });
    const bundle = validateSignResponse(body, { cluster: "prod", node: "cp-1", items });
    const changes = planChanges(planBundleFiles({ dirs: tree, items: csrs.map(bundleItem), bundle, force: false }).files);
    const pending = changes.filter((c) => c.action !== "unchanged");
    expect(pending.length).toBeGreaterThan(10);
    // Sabotage the 9th file after planning: its rename fails after 8 others went through.
    const victim = pending[8]!.path;
    rmSync(victim);
    mkdirSync(victim);
    writeFileSync(path.join(victim, "keep"), "x");
    const before = snapshotTree(tree.root);
    expect(() => applyChanges(changes, { remove: csrs.map((c) => c.paths.csr) })).toThrow(/writing the files failed, nothing was changed/);
    expect(snapshotTree(tree.root)).toEqual(before);
  });
});

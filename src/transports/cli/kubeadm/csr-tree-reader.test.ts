// Reading a `kubeadm certs generate-csr` tree: what is read, and each way a tree is refused.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGenerateCsrOutput } from "../../../../test/fixtures/kubeadm/generate-csr.js";
import { generateKey, makeCsr } from "../../../../test/helpers/openssl.js";
import { CliError, EXIT } from "../exit-codes.js";
import { readCsrTree } from "./csr-tree-reader.js";

let work: string;
/** A pristine control-plane tree; each test works on a copy. */
let pristine: string;
let copies = 0;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "kpki-csr-tree-"));
  pristine = path.join(work, "pristine");
  await writeGenerateCsrOutput({
    certDir: path.join(pristine, "pki"), kubeconfigDir: pristine, node: { name: "cp-1", advertiseAddress: "10.0.0.11" },
    cluster: { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "cp.example.internal:6443" }, keyAlgorithm: "ECDSA-P256",
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copy(): { root: string; certDir: string; kubeconfigDir: string; file: (relative: string) => string } {
  const root = path.join(work, `copy-${++copies}`);
  cpSync(pristine, root, { recursive: true });
  return { root, certDir: path.join(root, "pki"), kubeconfigDir: root, file: (relative) => path.join(root, relative) };
}

/** The CliError `readCsrTree` throws for the tree. */
function refusal(dirs: { certDir: string; kubeconfigDir: string }): CliError {
  try {
    readCsrTree(dirs);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("the tree was accepted");
}

describe("readCsrTree", () => {
  it("reads all twelve pairs in kubeadm's order, each CSR verified against its key", () => {
    const tree = copy();
    const csrs = readCsrTree(tree);
    expect(csrs.map((c) => c.certificate.name)).toEqual([
      "apiserver", "apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client", "etcd-server", "etcd-peer", "etcd-healthcheck-client",
      "admin", "super-admin", "kubelet", "controller-manager", "scheduler",
    ]);
    const apiserver = csrs[0]!;
    expect(apiserver.paths).toEqual({ key: tree.file("pki/apiserver.key"), csr: tree.file("pki/apiserver.csr"), certificate: tree.file("pki/apiserver.crt") });
    expect(csrs.find((c) => c.certificate.name === "etcd-peer")!.paths.certificate).toBe(tree.file("pki/etcd/peer.crt"));
    const kubelet = csrs.find((c) => c.certificate.name === "kubelet")!;
    expect(kubelet.paths).toEqual({ key: tree.file("kubelet.conf"), csr: tree.file("kubelet.conf.csr"), certificate: tree.file("kubelet.conf") });
    expect(kubelet.kubeconfig?.userName).toBe("system:node:cp-1");
    expect(kubelet.csrPem).toBe(readFileSync(tree.file("kubelet.conf.csr"), "utf8"));
  });

  it("skips names whose files are absent (a worker keeps only kubelet.conf)", () => {
    const tree = copy();
    for (const name of ["admin", "super-admin", "controller-manager", "scheduler"]) {
      rmSync(tree.file(`${name}.conf`));
      rmSync(tree.file(`${name}.conf.csr`));
    }
    rmSync(tree.certDir, { recursive: true });
    expect(readCsrTree(tree).map((c) => c.certificate.name)).toEqual(["kubelet"]);
  });

  it("returns nothing for an empty tree", () => {
    const empty = path.join(work, "empty");
    mkdirSync(empty);
    expect(readCsrTree({ certDir: path.join(empty, "pki"), kubeconfigDir: empty })).toEqual([]);
  });

  it("refuses a CSR that does not match its key, naming both", () => {
    const tree = copy();
    renameSync(tree.file("pki/etcd/peer.csr"), tree.file("swap"));
    renameSync(tree.file("pki/etcd/server.csr"), tree.file("pki/etcd/peer.csr"));
    renameSync(tree.file("swap"), tree.file("pki/etcd/server.csr"));
    const error = refusal(tree);
    expect(error.message).toBe(`CSR ${tree.file("pki/etcd/server.csr")} does not match ${tree.file("pki/etcd/server.key")}`);
    expect(error.exitCode).toBe(EXIT.usage);
  });

  it("refuses a kubeconfig CSR that does not match the client key", () => {
    const tree = copy();
    writeFileSync(tree.file("scheduler.conf.csr"), readFileSync(tree.file("admin.conf.csr")));
    expect(refusal(tree).message).toBe(`CSR ${tree.file("scheduler.conf.csr")} does not match the client key in ${tree.file("scheduler.conf")}`);
  });

  it.each([
    ["a CSR without its key", "pki/front-proxy-client.key", "pki/front-proxy-client.csr: found the CSR but not its key", "pki/front-proxy-client.key"],
    ["a key without its CSR", "pki/front-proxy-client.csr", "pki/front-proxy-client.key: found the key but not its CSR", "pki/front-proxy-client.csr"],
    ["a kubeconfig without its CSR", "admin.conf.csr", "admin.conf: found the kubeconfig but not its CSR", "admin.conf.csr"],
    ["a CSR without its kubeconfig", "admin.conf", "admin.conf.csr: found the CSR but not its kubeconfig", "admin.conf"],
  ])("refuses %s, naming the file", (_what, removed, message, missing) => {
    const tree = copy();
    rmSync(tree.file(removed));
    const error = refusal(tree);
    expect(error.message.startsWith(path.join(tree.root, message))).toBe(true);
    expect(error.message).toContain(tree.file(missing));
  });

  const otherKey = (): string => generateKey("ECDSA-P256");
  it.each<[string, string, (tree: ReturnType<typeof copy>) => string | Buffer, RegExp]>([
    ["a CSR that is not PEM", "pki/apiserver.csr", () => "hello\n", /^.*pki\/apiserver\.csr: not a PEM CSR \(no PEM block found\)$/],
    ["a CSR holding a certificate", "pki/apiserver.csr", (t) => readFileSync(t.file("pki/apiserver.key")), /pki\/apiserver\.csr: not a PEM CSR \(PEM block 1 is "EC PRIVATE KEY", expected "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"\)$/],
    ["a CSR whose signature does not verify", "pki/apiserver.csr", (t) => tamper(readFileSync(t.file("pki/apiserver.csr"), "utf8")), /pki\/apiserver\.csr: CSR signature does not verify$/],
    ["a CSR with truncated DER", "pki/apiserver.csr", () => "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n", /pki\/apiserver\.csr: DER: /],
    ["a key that is not PEM", "pki/apiserver.key", () => "junk", /pki\/apiserver\.key: not a PEM private key \(no PEM block found\)$/],
    ["a key file holding a CSR", "pki/apiserver.key", (t) => readFileSync(t.file("pki/apiserver.csr")), /pki\/apiserver\.key: PEM block "CERTIFICATE REQUEST" is not a private key/],
    ["an encrypted key", "pki/apiserver.key", () => "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n", /pki\/apiserver\.key: the private key is encrypted/],
    ["an Ed25519 key", "pki/apiserver.key", () => generateKey("Ed25519"), /pki\/apiserver\.key: ed25519 keys cannot be used: kubeadm loads only RSA and ECDSA keys/],
    ["a kubeconfig without client-key-data", "kubelet.conf", (t) => readFileSync(t.file("kubelet.conf"), "utf8").replace(/client-key-data: .*/, "token: abc"), /kubelet\.conf: user "system:node:cp-1" has no client-key-data$/],
    ["a kubeconfig whose key is garbage", "kubelet.conf", (t) => readFileSync(t.file("kubelet.conf"), "utf8").replace(/client-key-data: .*/, `client-key-data: ${Buffer.from("nope").toString("base64")}`), /kubelet\.conf \(client-key-data\): not a PEM private key/],
    ["a CSR for another key", "pki/apiserver.csr", () => makeCsr({ subject: "/CN=kube-apiserver", keyPem: otherKey() }).csrPem, /^CSR .*pki\/apiserver\.csr does not match .*pki\/apiserver\.key$/],
  ])("refuses %s precisely", (_what, file, content, message) => {
    const tree = copy();
    writeFileSync(tree.file(file), content(tree));
    expect(refusal(tree).message).toMatch(message);
  });

  it("refuses a directory where a file should be", () => {
    const tree = copy();
    rmSync(tree.file("pki/apiserver.csr"));
    mkdirSync(tree.file("pki/apiserver.csr"));
    expect(refusal(tree).message).toBe(`${tree.file("pki/apiserver.csr")}: is a directory, expected a file`);
  });
});

/** The CSR with one bit of its signature flipped. */
function tamper(pem: string): string {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Buffer.from(body, "base64");
  const at = der.length - 5;
  der.writeUInt8((der[at] ?? 0) ^ 0x01, at);
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
}

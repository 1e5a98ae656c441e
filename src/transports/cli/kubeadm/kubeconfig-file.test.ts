// Reading and completing kubeadm's kubeconfigs; kubectl 1.32 reads the result.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGenerateCsrOutput, type GeneratedCsr } from "../../../../test/fixtures/kubeadm/generate-csr.js";
import { makeOpensslRoot } from "../../../../test/helpers/openssl.js";
import { completeKubeconfig, parseKubeconfig } from "./kubeconfig-file.js";

let dir: string;
let omitted: GeneratedCsr;
let emptyStrings: GeneratedCsr;
const ca = () => makeOpensslRoot({ subject: "/CN=kubernetes" }).certificatePem;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kpki-kubeconfig-"));
  const node = { name: "cp-1", advertiseAddress: "10.0.0.11" };
  const cluster = { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "cp.example.internal" };
  [omitted] = await writeGenerateCsrOutput({ certDir: path.join(dir, "a", "pki"), kubeconfigDir: path.join(dir, "a"), node, cluster, keyAlgorithm: "ECDSA-P256", include: "worker" }) as [GeneratedCsr];
  [emptyStrings] = await writeGenerateCsrOutput({ certDir: path.join(dir, "b", "pki"), kubeconfigDir: path.join(dir, "b"), node, cluster: { ...cluster, clusterName: "prod" }, keyAlgorithm: "ECDSA-P256", include: "worker", emptyKubeconfigFields: "empty-string" }) as [GeneratedCsr];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseKubeconfig", () => {
  it.each([["omitted", () => omitted], ["empty-string", () => emptyStrings]])("reads a partial kubeconfig with %s fields", (_shape, entry) => {
    const file = entry().keyFile;
    const config = parseKubeconfig(readFileSync(file, "utf8"), file);
    expect(config.userName).toBe("system:node:cp-1");
    expect(config.contextName).toBe(`system:node:cp-1@${config.clusterName}`);
    expect(config.server).toBe("https://cp.example.internal:6443");
    expect(config.clientKeyPem).toBe(entry().keyPem);
    expect(config.clientCertificatePem).toBeUndefined();
    expect(config.certificateAuthorityPem).toBeUndefined();
  });

  it.each([
    ["not YAML", "a: [1,\n", /^f: not a kubeconfig: YAML error at line \d+/],
    ["a list", "- 1\n", /^f: not a kubeconfig: document: /],
    ["without current-context", "clusters: []\ncontexts: []\nusers: []\n", /^f: not a kubeconfig: current-context: /],
    ["naming a missing context", "current-context: x\nclusters: []\ncontexts: []\nusers: []\n", /^f: current-context "x" is not among the contexts$/],
    ["naming a missing user", "current-context: x\nclusters: [{name: c, cluster: {server: s}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: []\n", /^f: context "x" names user "u", which is not defined$/],
    ["naming a missing cluster", "current-context: x\nclusters: []\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n", /^f: context "x" names cluster "c", which is not defined$/],
    ["with bad base64", "current-context: x\nclusters: [{name: c, cluster: {server: s}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {client-key-data: 'a*b'}}]\n", /^f: client-key-data is not valid base64$/],
  ])("refuses a file %s, naming it", (_what, text, message) => {
    expect(() => parseKubeconfig(text, "f")).toThrow(message);
  });
});

describe("completeKubeconfig", () => {
  it.each([["omitted", () => omitted], ["empty-string", () => emptyStrings]])("embeds CA and client certificate (%s fields), keeps the rest, and kubectl reads it", (_shape, entry) => {
    const file = entry().keyFile;
    const original = readFileSync(file, "utf8");
    const caPem = ca();
    const certificatePem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const completed = completeKubeconfig(parseKubeconfig(original, file), file, { certificateAuthorityPem: caPem, clientCertificatePem: certificatePem });
    const out = path.join(dir, `completed-${_shape}.conf`);
    writeFileSync(out, completed);
    const view = JSON.parse(execFileSync("kubectl", ["config", "view", "--raw", "-o", "json", "--kubeconfig", out], { encoding: "utf8" })) as {
      clusters: { cluster: Record<string, string> }[];
      users: { user: Record<string, string> }[];
    };
    expect(Buffer.from(view.clusters[0]!.cluster["certificate-authority-data"]!, "base64").toString()).toBe(caPem);
    expect(Buffer.from(view.users[0]!.user["client-certificate-data"]!, "base64").toString()).toBe(certificatePem);
    expect(Buffer.from(view.users[0]!.user["client-key-data"]!, "base64").toString()).toBe(entry().keyPem);
    // Only the two credentials changed: every other line of kubeadm's file is still there, in order.
    const untouched = (text: string) => text.split("\n").filter((l) => !/certificate-authority-data|client-certificate-data/.test(l));
    expect(untouched(completed)).toEqual(untouched(original));
    // Completing again with the same data changes nothing (a rerun reports "unchanged").
    expect(completeKubeconfig(parseKubeconfig(completed, out), out, { certificateAuthorityPem: caPem, clientCertificatePem: certificatePem })).toBe(completed);
  });

  it("replaces the key when given one and drops file references kubectl would refuse next to embedded data", () => {
    const text = [
      "apiVersion: v1", "clusters:", "- cluster:", "    certificate-authority: /etc/ca.crt", "    server: https://x:6443", "  name: k",
      "contexts:", "- context:", "    cluster: k", "    user: u", "  name: u@k", "current-context: u@k", "kind: Config",
      "users:", "- name: u", "  user:", "    client-certificate: /etc/u.crt", "    client-key: /etc/u.key", "",
    ].join("\n");
    const completed = completeKubeconfig(parseKubeconfig(text, "f"), "f", { certificateAuthorityPem: "CA", clientCertificatePem: "CERT", clientKeyPem: "KEY" });
    const config = parseKubeconfig(completed, "f");
    expect([config.certificateAuthorityPem, config.clientCertificatePem, config.clientKeyPem]).toEqual(["CA", "CERT", "KEY"]);
    expect(completed).not.toMatch(/certificate-authority:|client-certificate:|client-key:/);
  });
});

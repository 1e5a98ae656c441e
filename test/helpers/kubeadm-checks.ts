// Checks of a kubeadm pki tree with the real peers (reference/kubernetes.md §6): openssl for every
// certificate and key file, kubectl for kubeconfigs. Plus a small harness for the kubeadm
// end-to-end files: a spawned `kpki serve` (SQLite, or PostgreSQL under TEST_DATABASE_URL), the
// `kpki` CLI against it, and the inventory count that proves "nothing was signed".
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { writeGenerateCsrOutput, type GeneratedCsr, type KubeadmKeyAlgorithm } from "../fixtures/kubeadm/generate-csr.js";
import { opensslRun } from "./openssl.js";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type HttpsResponse, type RunResult, type ServingKpki } from "./process.js";
import { TEST_ADMIN_TOKEN } from "./runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "./test-database.js";

// ---------------------------------------------------------------------------------------------
// openssl on files

/** openssl's names of the extended key usages kubeadm uses. */
export const EKU = { serverAuth: "TLS Web Server Authentication", clientAuth: "TLS Web Client Authentication" } as const;

/** Runs openssl; throws with its output when it fails. */
function opensslOk(args: readonly string[], input?: string): string {
  const run = opensslRun(args, input);
  if (run.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${run.status}): ${run.stdout}${run.stderr}`);
  return run.stdout;
}

/** What openssl prints about a certificate file. */
export interface CertificateFacts {
  /** `-subject -nameopt RFC2253` without the `subject=` prefix. */
  readonly subject: string;
  readonly issuer: string;
  /** Extension name (as openssl titles it, e.g. "X509v3 Key Usage") → value lines joined by ", ". */
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean; readonly value: string }>;
  /** The SAN entries as openssl prints them: `DNS:x`, `IP Address:10.96.0.1`. */
  readonly subjectAltNames: readonly string[];
  /** Key usage names, e.g. ["Digital Signature", "Key Encipherment"]. */
  readonly keyUsage: readonly string[];
  readonly extendedKeyUsage: readonly string[];
  /** "CA:FALSE", "CA:TRUE, pathlen:0" … */
  readonly basicConstraints: string | undefined;
  /** `-text` output. */
  readonly text: string;
}

/** Subject, issuer and the extensions kubeadm cares about, read by openssl (one run). */
export function certificateFacts(file: string): CertificateFacts {
  const text = opensslOk(["x509", "-in", file, "-noout", "-subject", "-issuer", "-nameopt", "RFC2253", "-text"]);
  const subject = /^subject=(.*)$/m.exec(text)?.[1] ?? "";
  const issuer = /^issuer=(.*)$/m.exec(text)?.[1] ?? "";
  const extensions = new Map<string, { critical: boolean; value: string }>();
  const block = /X509v3 extensions:\n([\s\S]*?)\n {4}Signature Algorithm:/.exec(text)?.[1] ?? "";
  let current: { name: string; critical: boolean; lines: string[] } | undefined;
  const flush = () => {
    if (current !== undefined) extensions.set(current.name, { critical: current.critical, value: current.lines.join(", ") });
  };
  for (const line of block.split("\n")) {
    const header = /^ {12}(\S.*?):( critical)?\s*$/.exec(line);
    if (header !== null) {
      flush();
      current = { name: header[1] ?? "", critical: header[2] !== undefined, lines: [] };
    } else if (current !== undefined && line.trim() !== "") {
      current.lines.push(line.trim());
    }
  }
  flush();
  const list = (name: string): string[] => {
    const value = extensions.get(name)?.value;
    return value === undefined ? [] : value.split(", ").map((item) => item.trim()).filter((item) => item !== "");
  };
  return {
    subject,
    issuer,
    extensions,
    subjectAltNames: list("X509v3 Subject Alternative Name"),
    keyUsage: list("X509v3 Key Usage"),
    extendedKeyUsage: list("X509v3 Extended Key Usage"),
    basicConstraints: extensions.get("X509v3 Basic Constraints")?.value,
    text,
  };
}

/** `openssl verify -partial_chain -CAfile ca [-purpose p] leaf`: the CA file's certificates are the anchors, as in Go. */
export function verifyAgainst(caFile: string, leafFile: string, purpose?: "sslserver" | "sslclient"): { ok: boolean; output: string } {
  const run = opensslRun(["verify", "-partial_chain", "-CAfile", caFile, ...(purpose === undefined ? [] : ["-purpose", purpose]), leafFile]);
  return { ok: run.status === 0 && run.stdout.trim() === `${leafFile}: OK`, output: `${run.stdout}${run.stderr}` };
}

const isIpText = (name: string): boolean => /^[0-9.]+$/.test(name) || name.includes(":");

/**
 * openssl's `-checkhost` / `-checkip` for each name: whether it "does match certificate". openssl
 * 3.0 checks one host and one IP per run, so names are checked in host/IP pairs.
 */
export function namesMatching(file: string, names: readonly string[]): Map<string, boolean> {
  const hosts = names.filter((n) => !isIpText(n));
  const ips = names.filter(isIpText);
  const out = new Map<string, boolean>();
  for (let i = 0; i < Math.max(hosts.length, ips.length); i++) {
    const host = hosts[i];
    const ip = ips[i];
    const text = opensslOk(["x509", "-in", file, "-noout", ...(host === undefined ? [] : ["-checkhost", host]), ...(ip === undefined ? [] : ["-checkip", ip])]);
    for (const [name, label] of [[host, "Hostname"], [ip, "IP"]] as const) {
      if (name === undefined) continue;
      const line = text.split("\n").find((l) => l.startsWith(`${label} ${name} does`));
      if (line === undefined) throw new Error(`openssl said nothing about ${name}: ${text}`);
      out.set(name, !line.includes("does NOT match"));
    }
  }
  return out;
}

/** `-checkhost` / `-checkip` for one name. */
export function matchesName(file: string, name: string): boolean {
  return namesMatching(file, [name]).get(name) === true;
}

/** The SubjectPublicKeyInfo PEM of a certificate file and of a private key file, as openssl writes them. */
export function certificatePublicKeyPem(file: string): string {
  return opensslOk(["x509", "-in", file, "-noout", "-pubkey"]);
}
export function privateKeyPublicKeyPem(file: string): string {
  return opensslOk(["pkey", "-in", file, "-pubout"]);
}

/** `openssl x509 -checkend seconds`: true when the certificate is still valid `seconds` from now. */
export function validFor(file: string, seconds: number): boolean {
  const run = opensslRun(["x509", "-in", file, "-noout", "-checkend", String(seconds)]);
  if (run.status === 0 && /will not expire/.test(run.stdout)) return true;
  if (run.status === 1 && /will expire/.test(run.stdout)) return false;
  throw new Error(`unexpected -checkend answer: ${run.status} ${run.stdout}${run.stderr}`);
}

/** The DER of a PEM certificate file (openssl -outform der), to compare certificates byte for byte. */
export function certificateDer(file: string): Buffer {
  const run = spawnSync("openssl", ["x509", "-in", file, "-outform", "der"], { maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`openssl x509 -outform der ${file}: ${run.stderr.toString()}`);
  return run.stdout;
}

/** How many PEM CERTIFICATE blocks a file holds. */
export function certificateCount(file: string): number {
  return (readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
}

/** kubeadm's key algorithms as openssl describes keys and signatures. */
export type ClusterKeyAlgorithm = "RSA-2048" | "ECDSA-P256";

/** Asserts a private key file holds a key of `algorithm` (openssl pkey -text). */
export function expectKeyAlgorithm(keyFile: string, algorithm: ClusterKeyAlgorithm): void {
  const text = opensslOk(["pkey", "-in", keyFile, "-noout", "-text"]);
  const first = text.split("\n")[0] ?? "";
  if (algorithm === "RSA-2048") {
    expect(first, keyFile).toBe("Private-Key: (2048 bit, 2 primes)");
  } else {
    expect(first, keyFile).toBe("Private-Key: (256 bit)");
    expect(text, keyFile).toMatch(/ASN1 OID: prime256v1/);
  }
}

/** The signature algorithm a CA of `algorithm` signs with, as openssl names it. */
export function signatureAlgorithmOf(algorithm: ClusterKeyAlgorithm): string {
  return algorithm === "RSA-2048" ? "sha256WithRSAEncryption" : "ecdsa-with-SHA256";
}

/** openssl's spelling of an IP SAN (IPv6 fully expanded, no zero compression). */
export function opensslIp(ip: string): string {
  if (!ip.includes(":")) return `IP Address:${ip}`;
  const [head = "", tail = ""] = ip.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = ip.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `IP Address:${groups.map((g) => parseInt(g, 16).toString(16).toUpperCase()).join(":")}`;
}

/** What one kubeadm leaf certificate must look like (reference §6 "Per-file expectations"). */
export interface LeafExpectation {
  readonly certificateFile: string;
  readonly keyFile: string;
  /** The CA file it must verify against (ca.crt, etcd/ca.crt, front-proxy-ca.crt). */
  readonly caFile: string;
  /** CN of that CA. */
  readonly issuerCommonName: string;
  /** `-nameopt RFC2253` subject, e.g. `CN=kubernetes-admin,O=kubeadm:cluster-admins`. */
  readonly subject: string;
  readonly usage: "server" | "client" | "server+client";
  /** DNS names and IPs that must match (-checkhost/-checkip); the SAN set must be exactly these. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Names that must NOT match. */
  readonly mustNotMatch?: readonly string[];
  readonly keyAlgorithm: ClusterKeyAlgorithm;
  /** Leaf validity in days (default 365). */
  readonly validityDays?: number;
}

/** Asserts every per-file check of reference §6 on one leaf, with openssl. */
export function expectKubeadmLeaf(e: LeafExpectation): CertificateFacts {
  const what = e.certificateFile;
  const facts = certificateFacts(e.certificateFile);
  // Chain: verifies against exactly its domain's CA file, for the right purposes only.
  const purposes = e.usage === "server" ? ["sslserver"] : e.usage === "client" ? ["sslclient"] : ["sslserver", "sslclient"];
  for (const purpose of ["sslserver", "sslclient"] as const) {
    const result = verifyAgainst(e.caFile, e.certificateFile, purpose);
    expect(result.ok, `${what} -purpose ${purpose} against ${e.caFile}: ${result.output}`).toBe(purposes.includes(purpose));
  }
  // Names.
  expect(facts.subject, `${what} subject`).toBe(e.subject);
  expect(facts.issuer, `${what} issuer`).toBe(`CN=${e.issuerCommonName}`);
  // Usages.
  const eku = e.usage === "server" ? [EKU.serverAuth] : e.usage === "client" ? [EKU.clientAuth] : [EKU.serverAuth, EKU.clientAuth];
  expect([...facts.extendedKeyUsage].sort(), `${what} EKU`).toEqual([...eku].sort());
  expect(facts.keyUsage, `${what} KU`).toContain("Digital Signature");
  if (e.keyAlgorithm === "RSA-2048") {
    expect([...facts.keyUsage].sort(), `${what} KU (RSA)`).toEqual(["Digital Signature", "Key Encipherment"]);
  } else {
    // kubeadm sets Key Encipherment for ECDSA too; an upstream change drops it: tolerate either.
    expect(facts.keyUsage.filter((u) => u !== "Digital Signature" && u !== "Key Encipherment"), `${what} KU (ECDSA)`).toEqual([]);
  }
  expect(facts.extensions.get("X509v3 Key Usage")?.critical, `${what} KU critical`).toBe(true);
  expect(facts.basicConstraints, `${what} basicConstraints`).toBe("CA:FALSE");
  // SANs: exactly the expected set, each matched by openssl's own host/IP check.
  const dns = e.dnsNames ?? [];
  const ips = e.ipAddresses ?? [];
  expect([...facts.subjectAltNames].sort(), `${what} SANs`).toEqual([...dns.map((d) => `DNS:${d}`), ...ips.map(opensslIp)].sort());
  const checked = namesMatching(e.certificateFile, [...dns, ...ips, ...(e.mustNotMatch ?? [])]);
  for (const name of [...dns, ...ips]) expect(checked.get(name), `${what} should match ${name}`).toBe(true);
  for (const name of e.mustNotMatch ?? []) expect(checked.get(name), `${what} must not match ${name}`).toBe(false);
  // Key: the certificate carries the key beside it; algorithm and size; signature of the CA's algorithm.
  expect(certificatePublicKeyPem(e.certificateFile), `${what} vs ${e.keyFile}`).toBe(privateKeyPublicKeyPem(e.keyFile));
  expectKeyAlgorithm(e.keyFile, e.keyAlgorithm);
  expect(facts.text, `${what} public key`).toMatch(e.keyAlgorithm === "RSA-2048" ? /Public-Key: \(2048 bit\)/ : /ASN1 OID: prime256v1/);
  expect(/^ {4}Signature Algorithm: (\S+)$/m.exec(facts.text)?.[1], `${what} signature algorithm`).toBe(signatureAlgorithmOf(e.keyAlgorithm));
  // Validity: valid now, about the configured period (a day either way), not more.
  const days = e.validityDays ?? 365;
  expect(validFor(e.certificateFile, 0), `${what} valid now`).toBe(true);
  expect(validFor(e.certificateFile, (days - 1) * 86_400), `${what} valid for ${days - 1} days`).toBe(true);
  expect(validFor(e.certificateFile, (days + 1) * 86_400), `${what} expires within ${days + 1} days`).toBe(false);
  return facts;
}

/** Asserts a cluster CA file: exactly one certificate, CN, CA:TRUE, Certificate Sign, SAN DNS:<CN>, key algorithm, ~10 years. */
export function expectClusterCaFile(file: string, commonName: string, algorithm: ClusterKeyAlgorithm): CertificateFacts {
  expect(certificateCount(file), `${file} holds exactly one certificate`).toBe(1);
  const facts = certificateFacts(file);
  expect(facts.subject, `${file} subject`).toBe(`CN=${commonName}`);
  expect(facts.basicConstraints, `${file} basicConstraints`).toMatch(/^CA:TRUE(, pathlen:\d+)?$/);
  expect(facts.extensions.get("X509v3 Basic Constraints")?.critical, `${file} basicConstraints critical`).toBe(true);
  expect(facts.keyUsage, `${file} KU`).toContain("Certificate Sign");
  expect(facts.subjectAltNames, `${file} SAN`).toEqual([`DNS:${commonName}`]);
  expect(facts.text, `${file} key`).toMatch(algorithm === "RSA-2048" ? /Public-Key: \(2048 bit\)/ : /ASN1 OID: prime256v1/);
  expect(validFor(file, 9 * 365 * 86_400), `${file} valid for 9 more years`).toBe(true);
  return facts;
}

// ---------------------------------------------------------------------------------------------
// kubeconfigs through kubectl

/** A kubeconfig as `kubectl config view --raw` reads it: the current context's cluster and user. */
export interface KubeconfigView {
  readonly server: string;
  readonly clusterName: string;
  readonly userName: string;
  readonly contextName: string;
  readonly certificateAuthorityPem: string;
  readonly clientCertificatePem: string;
  readonly clientKeyPem: string;
}

interface KubectlConfig {
  "current-context": string;
  clusters: { name: string; cluster: { server: string; "certificate-authority-data"?: string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  users: { name: string; user: { "client-certificate-data"?: string; "client-key-data"?: string } }[];
}

/** Reads a kubeconfig with the real kubectl (it refuses files it cannot load). */
export function kubectlView(file: string): KubeconfigView {
  const run = spawnSync("kubectl", ["config", "view", "--raw", "--kubeconfig", file, "-o", "json"], { encoding: "utf8", timeout: 30_000 });
  if (run.status !== 0) throw new Error(`kubectl config view --raw --kubeconfig ${file} failed: ${run.stderr}`);
  const config = JSON.parse(run.stdout) as KubectlConfig;
  const context = config.contexts.find((c) => c.name === config["current-context"]);
  const cluster = config.clusters.find((c) => c.name === context?.context.cluster);
  const user = config.users.find((u) => u.name === context?.context.user);
  if (context === undefined || cluster === undefined || user === undefined) throw new Error(`${file}: current context incomplete: ${run.stdout}`);
  const decode = (value: string | undefined) => Buffer.from(value ?? "", "base64").toString("utf8");
  return {
    server: cluster.cluster.server,
    clusterName: cluster.name,
    userName: user.name,
    contextName: context.name,
    certificateAuthorityPem: decode(cluster.cluster["certificate-authority-data"]),
    clientCertificatePem: decode(user.user["client-certificate-data"]),
    clientKeyPem: decode(user.user["client-key-data"]),
  };
}

/** kubeadm's kubeconfig client subjects (reference §1.5, v1.29+). */
export function kubeconfigSubject(name: string, nodeName: string): string {
  switch (name) {
    case "admin":
      return "CN=kubernetes-admin,O=kubeadm:cluster-admins";
    case "super-admin":
      return "CN=kubernetes-super-admin,O=system:masters";
    case "kubelet":
      return `CN=system:node:${nodeName},O=system:nodes`;
    case "controller-manager":
      return "CN=system:kube-controller-manager";
    case "scheduler":
      return "CN=system:kube-scheduler";
    default:
      throw new Error(`not a kubeconfig: ${name}`);
  }
}

/**
 * Asserts a completed kubeconfig: kubectl reads it, the embedded CA is ca.crt, the embedded client
 * certificate has kubeadm's subject, chains to ca.crt as a client certificate and carries the
 * embedded key. `scratch` is a directory for the extracted files.
 */
export function expectKubeconfig(options: { file: string; name: string; nodeName: string; caFile: string; server: string; keyAlgorithm: ClusterKeyAlgorithm; scratch: string }): KubeconfigView {
  const view = kubectlView(options.file);
  mkdirSync(options.scratch, { recursive: true });
  const base = path.join(options.scratch, path.basename(options.file));
  const caCopy = `${base}.ca.crt`;
  const certificate = `${base}.client.crt`;
  const key = `${base}.client.key`;
  writeFileSync(caCopy, view.certificateAuthorityPem);
  writeFileSync(certificate, view.clientCertificatePem);
  writeFileSync(key, view.clientKeyPem, { mode: 0o600 });
  expect(view.certificateAuthorityPem.trim(), `${options.file} certificate-authority-data`).toBe(readFileSync(options.caFile, "utf8").trim());
  expect(certificateDer(caCopy).equals(certificateDer(options.caFile)), `${options.file} CA is ca.crt`).toBe(true);
  expect(view.server, `${options.file} server`).toBe(options.server);
  const subject = kubeconfigSubject(options.name, options.nodeName);
  expect(view.userName, `${options.file} user`).toBe(/^CN=([^,]+)/.exec(subject)?.[1]);
  expectKubeadmLeaf({ certificateFile: certificate, keyFile: key, caFile: options.caFile, issuerCommonName: "kubernetes", subject, usage: "client", keyAlgorithm: options.keyAlgorithm });
  return view;
}

// ---------------------------------------------------------------------------------------------
// A spawned server and the CLI against it

/** A `kpki serve` of one test file, with the CLI pointed at it. */
export interface KubeadmHarness {
  readonly server: ServingKpki;
  /** Scratch space of the test file (removed by close()). */
  readonly workDir: string;
  /** The server's CA bundle (data/ca-bundle.pem). */
  readonly bundleFile: string;
  readonly tokenFile: string;
  /** --server, --ca-cert, --token-file. */
  remote(): string[];
  /** `kpki …` (the built binary) run in workDir. */
  kpki(args: readonly string[]): Promise<RunResult>;
  /** A JSON request to the server as admin. */
  api(method: string, urlPath: string, body?: unknown): Promise<HttpsResponse>;
  /** How many certificates the inventory holds (GET /v1/certificates, every page). */
  inventoryCount(): Promise<number>;
  close(): Promise<void>;
}

/** Starts a server on a fresh database (PostgreSQL when TEST_DATABASE_URL is set) and data dir. */
export async function startKubeadmHarness(prefix: string): Promise<KubeadmHarness> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), `kpki-${prefix}-`));
  const dataDir = path.join(workDir, "server-data");
  let database: TestDatabase | undefined;
  try {
    database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
    const server = await startKpkiServer({
      env: { KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn", ...(database === undefined ? {} : { DATABASE_URL: database.url }) },
    });
    const bundleFile = path.join(dataDir, "ca-bundle.pem");
    const bundlePem = readFileSync(bundleFile, "utf8");
    const tokenFile = path.join(workDir, "admin.token");
    writeFileSync(tokenFile, `${TEST_ADMIN_TOKEN}\n`, { mode: 0o600 });
    const api = (method: string, urlPath: string, body?: unknown) =>
      httpsRequest(`${server.url}${urlPath}`, { method, ca: bundlePem, headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, ...(body === undefined ? {} : { body }) });
    return {
      server,
      workDir,
      bundleFile,
      tokenFile,
      remote: () => ["--server", server.url, "--ca-cert", bundleFile, "--token-file", tokenFile],
      kpki: (args) => runKpki(args, { cwd: workDir }),
      api,
      inventoryCount: async () => {
        let count = 0;
        let cursor: string | undefined;
        for (;;) {
          const response = await api("GET", `/v1/certificates?limit=500${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
          if (response.status !== 200) throw new Error(`GET /v1/certificates: ${response.status} ${response.text}`);
          const page = jsonBody<{ items: unknown[]; nextCursor?: string }>(response);
          count += page.items.length;
          if (page.nextCursor === undefined) return count;
          cursor = page.nextCursor;
        }
      },
      close: async () => {
        await stopAllKpki();
        await database?.drop();
        rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAllKpki();
    await database?.drop();
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** Asserts a CLI run succeeded, showing its output otherwise. */
export function expectSuccess(result: RunResult, what: string): void {
  expect(result.code, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
}

/** A node of a cluster created through the CLI. */
export interface NodeSetup {
  readonly name: string;
  readonly role: "control-plane" | "worker";
  readonly addresses: readonly string[];
}

/** A cluster as the tests create it: `kpki cluster create` + `kpki cluster node add` per node. */
export interface ClusterSetup {
  readonly name: string;
  readonly controlPlaneEndpoint: string;
  readonly keyAlgorithm: ClusterKeyAlgorithm;
  readonly dnsDomain?: string;
  readonly serviceSubnet?: string;
  readonly nodes: readonly NodeSetup[];
}

/** Creates the cluster and registers its nodes with the `kpki` CLI, asserting what it prints. */
export async function createClusterWithCli(h: KubeadmHarness, cluster: ClusterSetup): Promise<void> {
  const created = await h.kpki([
    "cluster", "create", cluster.name, "--control-plane-endpoint", cluster.controlPlaneEndpoint, "--key-algorithm", cluster.keyAlgorithm,
    ...(cluster.dnsDomain === undefined ? [] : ["--dns-domain", cluster.dnsDomain]),
    ...(cluster.serviceSubnet === undefined ? [] : ["--service-subnet", cluster.serviceSubnet]),
    ...h.remote(),
  ]);
  expectSuccess(created, `kpki cluster create ${cluster.name}`);
  expect(created.stdout).toBe(`created cluster ${cluster.name} (${cluster.keyAlgorithm}); CAs: ${cluster.name}.ca, ${cluster.name}.etcd-ca, ${cluster.name}.front-proxy-ca\n`);
  for (const node of cluster.nodes) {
    const added = await h.kpki(["cluster", "node", "add", cluster.name, node.name, "--role", node.role, ...node.addresses.flatMap((a) => ["--address", a]), ...h.remote()]);
    expectSuccess(added, `kpki cluster node add ${cluster.name} ${node.name}`);
    expect(added.stdout).toBe(`node ${node.name} (${node.role}) registered in cluster ${cluster.name}\n`);
  }
}

/** A kubeadm tree: /etc/kubernetes and /etc/kubernetes/pki equivalents under `root`. */
export interface KubeadmTree {
  readonly root: string;
  readonly kubeconfigDir: string;
  readonly certDir: string;
  readonly written: readonly GeneratedCsr[];
}

/**
 * Writes what `kubeadm certs generate-csr` writes for `node` of `cluster` into a new tree under
 * `parent` (the fixture; keys of `keyAlgorithm`, which defaults to the cluster's).
 */
export async function generateCsrTree(
  parent: string,
  label: string,
  cluster: ClusterSetup,
  node: { name: string; advertiseAddress: string },
  options: { include?: "control-plane" | "worker"; keyAlgorithm?: KubeadmKeyAlgorithm; apiServerCertSans?: readonly string[] } = {},
): Promise<KubeadmTree> {
  const root = path.join(parent, label);
  const kubeconfigDir = path.join(root, "etc-kubernetes");
  const certDir = path.join(kubeconfigDir, "pki");
  mkdirSync(root, { recursive: true });
  const written = await writeGenerateCsrOutput({
    certDir,
    kubeconfigDir,
    node,
    cluster: {
      dnsDomain: cluster.dnsDomain ?? "cluster.local",
      serviceSubnet: cluster.serviceSubnet ?? "10.96.0.0/12",
      controlPlaneEndpoint: cluster.controlPlaneEndpoint,
      ...(options.apiServerCertSans === undefined ? {} : { apiServerCertSans: options.apiServerCertSans }),
    },
    keyAlgorithm: options.keyAlgorithm ?? cluster.keyAlgorithm,
    include: options.include ?? "control-plane",
  });
  return { root, kubeconfigDir, certDir, written };
}

/** `kpki kubeadm sign` for a tree. */
export function kubeadmSign(h: KubeadmHarness, tree: KubeadmTree, cluster: string, node: string, extra: readonly string[] = []): Promise<RunResult> {
  return h.kpki(["kubeadm", "sign", "--cluster", cluster, "--node", node, "--cert-dir", tree.certDir, "--kubeconfig-dir", tree.kubeconfigDir, ...extra, ...h.remote()]);
}

// ---------------------------------------------------------------------------------------------
// Loopback ports and an openssl TLS server

/** A free TCP port on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** An `openssl s_server -WWW` serving files from a directory over TLS. */
export interface OpensslTlsServer {
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `openssl s_server` with a server certificate, requiring a client certificate that chains to
 * `clientCaFile` (`-partial_chain`: its certificates are anchors), serving `wwwDir` (-WWW).
 */
export async function startOpensslTlsServer(options: { certificateFile: string; keyFile: string; clientCaFile: string; wwwDir: string; timeoutMs?: number }): Promise<OpensslTlsServer> {
  const port = await freePort();
  // Output goes to a file, not a pipe: a test that blocks the event loop (spawnSync) must not
  // leave s_server stuck on a pipe nobody drains.
  const logFile = path.join(mkdtempSync(path.join(os.tmpdir(), "kpki-s_server-")), "s_server.log");
  const logFd = openSync(logFile, "w");
  const child: ChildProcess = spawn(
    "openssl",
    ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", options.certificateFile, "-key", options.keyFile, "-CAfile", options.clientCaFile, "-partial_chain", "-Verify", "1", "-verify_return_error", "-WWW"],
    { cwd: options.wwwDir, stdio: ["ignore", logFd, logFd] },
  );
  closeSync(logFd);
  const output = () => readFileSync(logFile, "utf8");
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(path.dirname(logFile), { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!/^ACCEPT$/m.test(output())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = output();
      await stop();
      throw new Error(`openssl s_server did not start: ${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { port, output, stop };
}

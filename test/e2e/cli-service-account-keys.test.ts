// A service-account key rotation end to end with the built `kpki` against a real `kpki serve`
// (reference/kubernetes.md §5): `kpki cluster sa-key rotate start / next`, and at each step the
// files `kpki kubeadm sign`, `kpki kubeadm renew` and `kpki cluster sa-key render` write on
// control-plane nodes: sa.key the signing key of the step, sa.pub every key to accept.
import { createPublicKey } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClusterWithCli, expectSuccess, generateCsrTree, kubeadmSign, startKubeadmHarness, type ClusterSetup, type KubeadmHarness, type KubeadmTree } from "../helpers/kubeadm-checks.js";
import { generateKey } from "../helpers/openssl.js";

const CLUSTER: ClusterSetup = {
  name: "sa-rot",
  controlPlaneEndpoint: "k8s.sa-rot.internal:6443",
  keyAlgorithm: "ECDSA-P256",
  nodes: [
    { name: "cp-1", role: "control-plane", addresses: ["192.168.80.11"] },
    { name: "cp-2", role: "control-plane", addresses: ["192.168.80.12"] },
  ],
};

interface Version {
  version: number;
  state: string;
  publicKeyPem: string;
}

let h: KubeadmHarness;
let cp1: KubeadmTree;

const spki = (pem: string): string => createPublicKey(pem).export({ type: "spki", format: "der" }).toString("hex");
/** Each PEM block of an sa.pub, parsed on its own. */
const publicKeys = (pem: string): string[] => (pem.match(/-----BEGIN PUBLIC KEY-----\n[\s\S]*?\n-----END PUBLIC KEY-----\n/g) ?? []).map(spki);
const versions = async (): Promise<Version[]> => {
  const res = await h.api("GET", `/v1/clusters/${CLUSTER.name}/service-account-keys`);
  expect(res.status, res.text).toBe(200);
  return (JSON.parse(res.text) as { versions: Version[] }).versions;
};
const keyOf = async (version: number): Promise<string> => {
  const found = (await versions()).find((v) => v.version === version);
  if (found === undefined) throw new Error(`no version ${version}`);
  return spki(found.publicKeyPem);
};
const saKey = (dir: string): string => spki(readFileSync(path.join(dir, "sa.key"), "utf8"));
const saPub = (dir: string): string[] => publicKeys(readFileSync(path.join(dir, "sa.pub"), "utf8"));
const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);
const saKeyCli = (...args: string[]) => h.kpki(["cluster", "sa-key", ...args, ...h.remote()]);

beforeAll(async () => {
  h = await startKubeadmHarness("sa-keys");
  await createClusterWithCli(h, CLUSTER);
  cp1 = await generateCsrTree(h.workDir, "cp-1", CLUSTER, { name: "cp-1", advertiseAddress: "192.168.80.11" });
  expectSuccess(await kubeadmSign(h, cp1, CLUSTER.name, "cp-1"), "kpki kubeadm sign cp-1");
});
afterAll(async () => {
  await h?.close();
});

describe("kpki cluster sa-key: a rotation through every step", () => {
  it("before: kubeadm sign wrote version 1 as sa.key and sa.pub; list shows it signing", async () => {
    expect(saKey(cp1.certDir)).toBe(await keyOf(1));
    expect(saPub(cp1.certDir)).toEqual([await keyOf(1)]);
    const list = await saKeyCli("list", CLUSTER.name);
    expectSuccess(list, "sa-key list");
    expect(list.stdout).toMatch(/^VERSION +STATE +ALGORITHM +KEY ID/);
    expect(list.stdout).toMatch(/\n1 +signing +ECDSA-P256 /);
    expect(list.stdout).toContain("rotation: none in progress; next step: publish; overlap 7d\n");
  });

  it("start (publish): the next kubeadm sign keeps sa.key (still version 1) and writes sa.pub with versions 1 and 2", async () => {
    const started = await saKeyCli("rotate", "start", CLUSTER.name);
    expectSuccess(started, "sa-key rotate start");
    expect(started.stdout).toContain("step 1 of 3 (publish) done: sa.pub lists versions 1 and 2; sa.key is still version 1.");
    expect(started.stdout).toContain(`kpki cluster sa-key rotate next ${CLUSTER.name}   (switch)`);
    const signed = await kubeadmSign(h, cp1, CLUSTER.name, "cp-1");
    expectSuccess(signed, "kubeadm sign after publish");
    expect(signed.stderr).toContain(`unchanged ${path.join(cp1.certDir, "sa.key")}\n`);
    expect(signed.stderr).toContain(`wrote ${path.join(cp1.certDir, "sa.pub")} (replaced)\n`);
    expect(signed.stderr).toContain("service-account key: sa.key holds version 1, sa.pub lists 1, 2 (rotation step published)");
    expect(saKey(cp1.certDir)).toBe(await keyOf(1));
    expect(saPub(cp1.certDir)).toEqual([await keyOf(1), await keyOf(2)]);
  });

  it("next (switch): kubeadm renew replaces the node's old sa.key with version 2 and keeps the old one in the backup", async () => {
    const switched = await saKeyCli("rotate", "next", CLUSTER.name, "--step", "switch");
    expectSuccess(switched, "sa-key rotate next (switch)");
    expect(switched.stdout).toContain("step 2 of 3 (switch) done: sa.key is version 2; sa.pub still lists versions 1 and 2");
    const oldKey = readFileSync(path.join(cp1.certDir, "sa.key"), "utf8");
    const renewed = await h.kpki(["kubeadm", "renew", "--cluster", CLUSTER.name, "--node", "cp-1", "--cert-dir", cp1.certDir, "--kubeconfig-dir", cp1.kubeconfigDir, "apiserver", ...h.remote()]);
    expectSuccess(renewed, "kubeadm renew after switch");
    expect(renewed.stderr).toContain(`wrote ${path.join(cp1.certDir, "sa.key")} (replaced)\n`);
    expect(saKey(cp1.certDir)).toBe(await keyOf(2));
    expect(saPub(cp1.certDir)).toEqual([await keyOf(1), await keyOf(2)]);
    expect(mode(path.join(cp1.certDir, "sa.key"))).toBe("600");
    const backup = readdirSync(cp1.certDir).find((name) => name.startsWith("kpki-backup-"));
    expect(backup).toBeDefined();
    expect(readFileSync(path.join(cp1.certDir, backup ?? "", "sa.key"), "utf8")).toBe(oldKey);
  });

  it("a control-plane node joining after the switch gets version 2 as sa.key and both keys in sa.pub", async () => {
    const cp2 = await generateCsrTree(h.workDir, "cp-2", CLUSTER, { name: "cp-2", advertiseAddress: "192.168.80.12" });
    expectSuccess(await kubeadmSign(h, cp2, CLUSTER.name, "cp-2"), "kubeadm sign cp-2");
    expect(saKey(cp2.certDir)).toBe(await keyOf(2));
    expect(saPub(cp2.certDir)).toEqual([await keyOf(1), await keyOf(2)]);
  });

  it("render --dir writes sa.key 0600 and sa.pub 0644 for the step, and refuses a foreign sa.key", async () => {
    const dir = path.join(h.workDir, "render");
    const rendered = await saKeyCli("render", CLUSTER.name, "--dir", dir);
    expectSuccess(rendered, "sa-key render");
    expect(rendered.stdout).toContain("sa.key: version 2; sa.pub: versions 1, 2 (rotation step switched)\n");
    expect(rendered.stdout).toContain("restart kube-apiserver and kube-controller-manager on this node");
    expect(saKey(dir)).toBe(await keyOf(2));
    expect(saPub(dir)).toEqual([await keyOf(1), await keyOf(2)]);
    expect([mode(path.join(dir, "sa.key")), mode(path.join(dir, "sa.pub"))]).toEqual(["600", "644"]);
    const again = await saKeyCli("render", CLUSTER.name, "--dir", dir);
    expectSuccess(again, "sa-key render again");
    expect(again.stderr).toContain(`unchanged ${path.join(dir, "sa.key")}\n`);

    const foreign = path.join(h.workDir, "render-foreign");
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, "sa.key"), generateKey("ECDSA-P256"), { mode: 0o600 });
    const refused = await saKeyCli("render", CLUSTER.name, "--dir", foreign);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("holds another key than the service-account key of cluster sa-rot");
    expect(readdirSync(foreign)).toEqual(["sa.key"]);
  });

  it("next (retire) before the overlap is refused with exit 5; --force retires; sign then writes sa.pub with version 2 only", async () => {
    const early = await saKeyCli("rotate", "next", CLUSTER.name);
    expect(early.code).toBe(5);
    expect(early.stderr).toMatch(/version 1 of cluster sa-rot's service-account key verifies until \d{4}-/);
    const start = await saKeyCli("rotate", "start", CLUSTER.name);
    expect(start.code).toBe(5);
    expect(start.stderr).toContain("in progress (step switched; next: retire)");
    const retired = await saKeyCli("rotate", "next", CLUSTER.name, "--step", "retire", "--force");
    expectSuccess(retired, "sa-key rotate next --force");
    expect(retired.stdout).toContain("step 3 of 3 (retire) done: sa.pub lists only version 2.");
    expect((await versions()).map((v) => `${v.version}:${v.state}`)).toEqual(["1:retired", "2:signing"]);
    const signed = await kubeadmSign(h, cp1, CLUSTER.name, "cp-1");
    expectSuccess(signed, "kubeadm sign after retire");
    expect(signed.stderr).toContain(`unchanged ${path.join(cp1.certDir, "sa.key")}\n`);
    expect(saPub(cp1.certDir)).toEqual([await keyOf(2)]);
  });

  it("next with no rotation in progress is exit 5; the policy is set with sa-key set", async () => {
    const idle = await saKeyCli("rotate", "next", CLUSTER.name);
    expect(idle.code).toBe(5);
    expect(idle.stderr).toContain("no rotation of cluster sa-rot's service-account key is in progress");
    expectSuccess(await saKeyCli("set", CLUSTER.name, "--overlap", "2d", "--rotation-period", "90d"), "sa-key set");
    expect((await saKeyCli("list", CLUSTER.name)).stdout).toContain("overlap 2d; a rotation starts every 90d\n");
    const tooShort = await saKeyCli("set", CLUSTER.name, "--overlap", "1h");
    expect(tooShort.code).toBe(2);
    expectSuccess(await saKeyCli("set", CLUSTER.name, "--rotation-period", "off"), "sa-key set off");
    expect((await saKeyCli("list", CLUSTER.name)).stdout).toContain("overlap 2d\n");
  });
});

import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATION_PERMISSIONS, SYSTEM, type OperationId } from "../../src/core/access/index.js";
import { makeCsr } from "../helpers/openssl.js";
import { documentedOperations, expectProblem, loadContract, sampleRequest, storedCounts } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

// Scoped grants over HTTP against a real database: tokens created with a role and a scope, every
// attempt outside the scope refused (403 problem+json) and recorded in the audit trail, what is
// inside it working for real.

interface CreatedTokenJson {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly scope?: Record<string, unknown>;
  readonly token: string;
}
interface AuditJson {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly result: string;
  readonly details?: Record<string, unknown>;
}

const system = { principal: SYSTEM };
let t: TestRuntime;
const bearer = (token: CreatedTokenJson) => ({ Authorization: `Bearer ${token.token}` });

async function createToken(name: string, role: string, scope?: object): Promise<CreatedTokenJson> {
  const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name, role, ...(scope === undefined ? {} : { scope }) });
  expect(res.status, res.text).toBe(201);
  return res.body as CreatedTokenJson;
}

/** The access.deny entries of a token, newest last. */
async function denials(token: CreatedTokenJson): Promise<AuditJson[]> {
  const res = await request(t.app).get(`/v1/audit?actor=${encodeURIComponent(`token:${token.id}`)}&action=access.deny&limit=500`).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  return (res.body as { items: AuditJson[] }).items;
}

/** Expects a 403 and exactly one new access.deny entry of the token for this operation and target. */
async function expectDeniedAndAudited(token: CreatedTokenJson, send: () => Promise<request.Response>, operation: string, target: string): Promise<void> {
  const before = (await denials(token)).length;
  const res = await send();
  expectProblem(res, { status: 403, code: "permission_denied" });
  const after = await denials(token);
  expect(after.length).toBe(before + 1);
  expect(after.at(-1)).toMatchObject({ actor: `token:${token.id}`, action: "access.deny", target, result: "failure", details: { operation } });
}

const kubeletCsr = (node: string) => makeCsr({ subject: `/O=system:nodes/CN=system:node:${node}`, algorithm: "ECDSA-P256" }).csrPem;
const servingCsr = (node: string) => makeCsr({ subject: `/O=system:nodes/CN=system:node:${node}`, algorithm: "ECDSA-P256", extensions: [`subjectAltName=DNS:${node}`] }).csrPem;
const b64 = (text: string) => Buffer.from(text).toString("base64");

let hookAlpha: CreatedTokenJson;
let nodeWorker: CreatedTokenJson;
let nodeControlPlane: CreatedTokenJson;
let plugin: CreatedTokenJson;
let appUser: CreatedTokenJson;

beforeAll(async () => {
  t = await startTestRuntime();
  const { clusters, namedKeys } = t.runtime.services;
  const nodes = [
    { name: "cp-1", role: "control-plane" as const, addresses: ["10.0.0.11"] },
    { name: "worker-1", role: "worker" as const, addresses: ["10.0.0.21"] },
    { name: "worker-2", role: "worker" as const, addresses: ["10.0.0.22"] },
  ];
  for (const name of ["alpha", "beta"]) await clusters.create(system, { name, controlPlaneEndpoint: `k8s.${name}.internal:6443`, keyAlgorithm: "ECDSA-P256", nodes });
  for (const name of ["etcd-kek", "other-key", "app-orders", "billing"]) await namedKeys.create(system, { name });
  hookAlpha = await createToken("hook alpha", "kubeadm-hook", { cluster: "alpha" });
  nodeWorker = await createToken("alpha worker-1", "node", { cluster: "alpha", node: "worker-1" });
  nodeControlPlane = await createToken("alpha cp-1", "node", { cluster: "alpha", node: "cp-1" });
  plugin = await createToken("etcd-kek plugin", "kms-plugin", { key: "etcd-kek" });
  appUser = await createToken("app encryptor", "key-user", { keyPrefix: "app-", operations: ["encrypt"] });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe("creating scoped tokens", () => {
  it("the token shows its role and scope once created, and in the listing", async () => {
    expect(hookAlpha).toMatchObject({ role: "kubeadm-hook", scope: { cluster: "alpha" } });
    const list = await request(t.app).get("/v1/tokens").set(ADMIN);
    const items = (list.body as { items: { id: string; role: string; scope?: object; token?: string }[] }).items;
    expect(items.find((item) => item.id === appUser.id)).toEqual(expect.objectContaining({ role: "key-user", scope: { keyPrefix: "app-", operations: ["encrypt"] } }));
    expect(items.find((item) => item.id === plugin.id)?.scope).toEqual({ key: "etcd-kek" });
    expect(items.every((item) => item.token === undefined)).toBe(true);
    // The database holds the scope as JSON next to the hash, never the secret.
    const row = await t.runtime.storage.db.apiToken.findUnique({ where: { id: plugin.id } });
    expect(JSON.parse(row?.scope ?? "")).toEqual({ key: "etcd-kek" });
  });

  it.each([
    ["a scoped role without its scope", { role: "kubeadm-hook" }, "scope"],
    ["an unscoped role with a scope", { role: "reader", scope: { cluster: "alpha" } }, "scope"],
    ["a field the role does not take", { role: "kms-plugin", scope: { key: "etcd-kek", cluster: "alpha" } }, "scope.cluster"],
    ["a node grant without its node", { role: "node", scope: { cluster: "alpha" } }, "scope.node"],
    ["a key user without keys or prefix", { role: "key-user", scope: { operations: ["encrypt"] } }, "scope.keys"],
  ])("refuses %s (400, nothing stored)", async (_what, body, field) => {
    const before = await storedCounts(t);
    const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "refused", ...body });
    const problem = expectProblem(res, { status: 400, code: "invalid_input" });
    expect(problem.field).toBe(field);
    expect(await storedCounts(t)).toEqual(before);
  });

  it.each([
    ["an unknown scope field", { role: "kubeadm-hook", scope: { cluster: "alpha", everything: true } }],
    ["an invalid cluster name", { role: "kubeadm-hook", scope: { cluster: "Alpha!" } }],
    ["an invalid node name", { role: "node", scope: { cluster: "alpha", node: "Worker_1" } }],
    ["an invalid key name", { role: "kms-plugin", scope: { key: "../etcd" } }],
    ["an unknown key operation", { role: "key-user", scope: { keys: ["billing"], operations: ["export"] } }],
    ["an unknown role", { role: "superuser" }],
  ])("refuses %s at the edge (400)", async (_what, body) => {
    const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "refused", ...body });
    expectProblem(res, { status: 400, code: "invalid_input" });
  });
});

describe("every protected operation, by every scoped token, on what the samples name (nothing in any scope)", () => {
  const operations = documentedOperations(loadContract()).filter((op) => OPERATION_PERMISSIONS[op.operationId as OperationId] !== "public");
  const tokens = () => [hookAlpha, nodeWorker, plugin, appUser];

  it.each(operations.map((op) => [op.operationId, op] as const))("%s is refused with 403 and audited", async (_id, operation) => {
    for (const token of tokens()) {
      const before = (await denials(token)).length;
      const res = await sampleRequest(t.app, operation).set(bearer(token));
      if (token === appUser && operation.operationId === "runBatch") {
        // The batch container is the key user's; its item (an object outside the scope) is refused.
        expect(res.status, res.text).toBe(200);
        expect((res.body as { items: { status: string; kmipResultReason?: string }[] }).items[0]).toMatchObject({ status: "Failed" });
      } else {
        expectProblem(res, { status: 403, code: "permission_denied" });
      }
      const after = await denials(token);
      expect(after.length, `${token.role} ${operation.operationId}`).toBe(before + 1);
      expect(after.at(-1)?.details?.operation).toBe(token === appUser && operation.operationId === "runBatch" ? "activateObject" : operation.operationId);
    }
  });
});

describe("kubeadm-hook scoped to cluster alpha", () => {
  it("reads cluster alpha and signs kubelet serving certificates there", async () => {
    expect((await request(t.app).get("/v1/clusters/alpha").set(bearer(hookAlpha))).status).toBe(200);
    const res = await request(t.app).post("/v1/clusters/alpha/nodes/worker-2/kubelet-serving").set(bearer(hookAlpha)).send({ csr: servingCsr("worker-2") });
    expect(res.status, res.text).toBe(201);
  });

  it("cluster beta: reading it, signing there, exporting its sa files are refused and audited", async () => {
    await expectDeniedAndAudited(hookAlpha, () => request(t.app).get("/v1/clusters/beta").set(bearer(hookAlpha)), "getCluster", "cluster-name:beta");
    await expectDeniedAndAudited(
      hookAlpha,
      () => request(t.app).post("/v1/clusters/beta/kubeadm/sign").set(bearer(hookAlpha)).send({ node: "worker-1", csrs: { kubelet: kubeletCsr("worker-1") } }),
      "signKubeadmCsrs",
      "cluster-name:beta/node:worker-1",
    );
    await expectDeniedAndAudited(hookAlpha, () => request(t.app).post("/v1/clusters/beta/nodes/worker-1/kubelet-serving").set(bearer(hookAlpha)).send({ csr: servingCsr("worker-1") }), "signKubeletServing", "cluster-name:beta/node:worker-1");
    await expectDeniedAndAudited(hookAlpha, () => request(t.app).get("/v1/clusters/beta/service-account-keys/files").set(bearer(hookAlpha)), "exportServiceAccountKeyFiles", "cluster-name:beta");
  });

  it("the cluster listing is refused too (it would show other clusters)", async () => {
    await expectDeniedAndAudited(hookAlpha, () => request(t.app).get("/v1/clusters").set(bearer(hookAlpha)), "listClusters", "-");
  });

  it("a control-plane node's kubeadm signing carries sa.key for the hook", async () => {
    const res = await request(t.app).post("/v1/clusters/alpha/kubeadm/sign").set(bearer(hookAlpha)).send({ node: "cp-1", csrs: { kubelet: kubeletCsr("cp-1") } });
    expect(res.status, res.text).toBe(200);
    expect((res.body as { serviceAccount?: unknown }).serviceAccount).toBeDefined();
  });
});

describe("node scoped to alpha/worker-1", () => {
  it("obtains its own kubelet serving certificate and kubelet.conf certificate", async () => {
    const serving = await request(t.app).post("/v1/clusters/alpha/nodes/worker-1/kubelet-serving").set(bearer(nodeWorker)).send({ csr: servingCsr("worker-1") });
    expect(serving.status, serving.text).toBe(201);
    const kubeadm = await request(t.app).post("/v1/clusters/alpha/kubeadm/sign").set(bearer(nodeWorker)).send({ node: "worker-1", csrs: { kubelet: kubeletCsr("worker-1") } });
    expect(kubeadm.status, kubeadm.text).toBe(200);
    expect(Object.keys((kubeadm.body as { certificates: object }).certificates)).toEqual(["kubelet"]);
  });

  it("another node's certificates, in its cluster or another, are refused and audited", async () => {
    await expectDeniedAndAudited(nodeWorker, () => request(t.app).post("/v1/clusters/alpha/nodes/worker-2/kubelet-serving").set(bearer(nodeWorker)).send({ csr: servingCsr("worker-2") }), "signKubeletServing", "cluster-name:alpha/node:worker-2");
    await expectDeniedAndAudited(
      nodeWorker,
      () => request(t.app).post("/v1/clusters/alpha/kubeadm/sign").set(bearer(nodeWorker)).send({ node: "worker-2", csrs: { kubelet: kubeletCsr("worker-2") } }),
      "signKubeadmCsrs",
      "cluster-name:alpha/node:worker-2",
    );
    await expectDeniedAndAudited(nodeWorker, () => request(t.app).post("/v1/clusters/beta/nodes/worker-1/kubelet-serving").set(bearer(nodeWorker)).send({ csr: servingCsr("worker-1") }), "signKubeletServing", "cluster-name:beta/node:worker-1");
  });

  it("a node grant on a control-plane node gets only what a worker gets: control-plane certificates refused, no sa.key", async () => {
    await expectDeniedAndAudited(
      nodeControlPlane,
      () => request(t.app).post("/v1/clusters/alpha/kubeadm/sign").set(bearer(nodeControlPlane)).send({ node: "cp-1", csrs: { kubelet: kubeletCsr("cp-1"), "controller-manager": makeCsr({ subject: "/CN=system:kube-controller-manager" }).csrPem } }),
      "signKubeadmCsrs",
      "cluster-name:alpha/node:cp-1",
    );
    const kubelet = await request(t.app).post("/v1/clusters/alpha/kubeadm/sign").set(bearer(nodeControlPlane)).send({ node: "cp-1", csrs: { kubelet: kubeletCsr("cp-1") } });
    expect(kubelet.status, kubelet.text).toBe(200);
    expect((kubelet.body as { serviceAccount?: unknown }).serviceAccount).toBeUndefined();
  });
});

describe("kms-plugin scoped to etcd-kek", () => {
  it("gets, encrypts and decrypts with its key", async () => {
    expect((await request(t.app).get("/v1/keys/etcd-kek").set(bearer(plugin))).status).toBe(200);
    const encrypted = await request(t.app).post("/v1/keys/etcd-kek/encrypt").set(bearer(plugin)).send({ plaintext: b64("seed") });
    expect(encrypted.status, encrypted.text).toBe(200);
    const decrypted = await request(t.app).post("/v1/keys/etcd-kek/decrypt").set(bearer(plugin)).send({ ciphertext: (encrypted.body as { ciphertext: string }).ciphertext });
    expect(decrypted.status, decrypted.text).toBe(200);
    expect((decrypted.body as { plaintext: string }).plaintext).toBe(b64("seed"));
  });

  it("another key, and anything but get/encrypt/decrypt on its own, are refused and audited", async () => {
    await expectDeniedAndAudited(plugin, () => request(t.app).get("/v1/keys/other-key").set(bearer(plugin)), "getNamedKey", "named-key:other-key");
    await expectDeniedAndAudited(plugin, () => request(t.app).post("/v1/keys/other-key/encrypt").set(bearer(plugin)).send({ plaintext: b64("x") }), "encryptWithNamedKey", "named-key:other-key");
    await expectDeniedAndAudited(plugin, () => request(t.app).post("/v1/keys/etcd-kek/rotate").set(bearer(plugin)), "rotateNamedKey", "named-key:etcd-kek");
    await expectDeniedAndAudited(plugin, () => request(t.app).post("/v1/keys/etcd-kek/rewrap").set(bearer(plugin)).send({ ciphertext: "kpki:v1:etcd-kek:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }), "rewrapWithNamedKey", "named-key:etcd-kek");
  });
});

describe("key-user scoped to prefix app- for encrypt only", () => {
  const versionUid = async (key: string) => (await t.runtime.services.namedKeys.get(key)).versions[0]?.uid ?? "";

  it("encrypts with a key under its prefix, by name and on the key's version by uid", async () => {
    const byName = await request(t.app).post("/v1/keys/app-orders/encrypt").set(bearer(appUser)).send({ plaintext: b64("order") });
    expect(byName.status, byName.text).toBe(200);
    const byUid = await request(t.app).post(`/v1/objects/${await versionUid("app-orders")}/encrypt`).set(bearer(appUser)).send({ plaintext: b64("order") });
    expect(byUid.status, byUid.text).toBe(200);
  });

  it("a key outside its prefix is refused and audited, by name, by uid and as a batch item", async () => {
    await expectDeniedAndAudited(appUser, () => request(t.app).post("/v1/keys/billing/encrypt").set(bearer(appUser)).send({ plaintext: b64("x") }), "encryptWithNamedKey", "named-key:billing");
    const billing = await versionUid("billing");
    await expectDeniedAndAudited(appUser, () => request(t.app).post(`/v1/objects/${billing}/encrypt`).set(bearer(appUser)).send({ plaintext: b64("x") }), "encryptData", "named-key:billing");
    await expectDeniedAndAudited(appUser, () => request(t.app).get(`/v1/objects/${billing}`).set(bearer(appUser)), "getObjectMetadata", "named-key:billing");
    const before = (await denials(appUser)).length;
    const batch = await request(t.app)
      .post("/v1/batch")
      .set(bearer(appUser))
      .send({ items: [{ operation: "Encrypt", uid: await versionUid("app-orders"), plaintext: b64("ok") }, { operation: "Encrypt", uid: billing, plaintext: b64("no") }] });
    expect(batch.status, batch.text).toBe(200);
    const items = (batch.body as { items: { status: string; error?: { code: string; kmipResultReason?: string } }[] }).items;
    expect(items.map((item) => item.status)).toEqual(["Success", "Failed"]);
    expect(items[1]?.error).toMatchObject({ code: "permission_denied", kmipResultReason: "Permission Denied" });
    const after = await denials(appUser);
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({ target: "named-key:billing", details: { operation: "encryptData" } });
  });

  it("an operation its scope does not list is refused and audited, on its own keys too", async () => {
    const encrypted = await request(t.app).post("/v1/keys/app-orders/encrypt").set(bearer(appUser)).send({ plaintext: b64("order") });
    const ciphertext = (encrypted.body as { ciphertext: string }).ciphertext;
    await expectDeniedAndAudited(appUser, () => request(t.app).post("/v1/keys/app-orders/decrypt").set(bearer(appUser)).send({ ciphertext }), "decryptWithNamedKey", "named-key:app-orders");
    await expectDeniedAndAudited(appUser, () => request(t.app).get("/v1/keys/app-orders").set(bearer(appUser)), "getNamedKey", "named-key:app-orders");
    await expectDeniedAndAudited(appUser, () => request(t.app).get("/v1/keys").set(bearer(appUser)), "listNamedKeys", "-");
  });
});

describe("what is not audited", () => {
  it("an unscoped role's refusal and an anonymous 401 add no access.deny entry", async () => {
    const reader = await createToken("plain reader", "reader");
    expect((await request(t.app).post("/v1/keys/etcd-kek/encrypt").set(bearer(reader)).send({ plaintext: b64("x") })).status).toBe(403);
    expect((await request(t.app).post("/v1/keys/etcd-kek/encrypt").send({ plaintext: b64("x") })).status).toBe(401);
    expect(await denials(reader)).toEqual([]);
    const anonymous = await request(t.app).get("/v1/audit?actor=anonymous&limit=500").set(ADMIN);
    expect((anonymous.body as { items: unknown[] }).items).toEqual([]);
  });
});

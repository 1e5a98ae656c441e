// Encryption at rest over REST: every file kpki renders passes the reference §3.4 checks
// (test/helpers/encryption-config-checks.ts, written independently of the renderer) at every step of
// first-time enablement and of static-key rotations for aescbc, aesgcm and secretbox, of a KMS v2
// setup and of a change of provider; and the sequence of files is safe to roll out (reference §3.5):
// while servers run the previous and the new file side by side, and after each step, every record
// written so far stays readable. Then the refusals, the export permission and the keys at rest.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmulatedApiserver } from "../fixtures/encryption/static-transformers.js";
import { encryptionConfigProblems, readableKeysOf, staticSecretsOf, writeKeyOf, type WriteKey } from "../helpers/encryption-config-checks.js";
import { expectNothingStored, expectProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";
import { rotateMasterKey } from "../../src/app.js";
import { createMasterKeyFile } from "../../src/infra/crypto/master-key.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";

/** The API's view of a cluster's encryption (the parts these tests read). */
interface EncryptionJson {
  cluster: string;
  mode: string;
  step: string;
  resources: string[];
  providers: { type: string; key?: string; name?: string; endpoint?: string; keyName?: string; timeoutSeconds?: number }[];
  rotation?: { kind: string; step: string };
  keys: { name: string; provider: string; state: string }[];
  nextAction: { summary: string; instructions: string[]; commands: string[] };
  warnings: string[];
}

/** One rendered file and the step it belongs to. */
interface RenderedStep {
  readonly step: string;
  readonly yaml: string;
}

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

const url = (cluster: string, rest = "") => `/v1/clusters/${cluster}/encryption${rest}`;

async function createCluster(name: string): Promise<void> {
  const res = await request(t.app).post("/v1/clusters").set(ADMIN).send({ name, controlPlaneEndpoint: `${name}.example.internal:6443`, keyAlgorithm: "ECDSA-P256" });
  expect(res.status, res.text).toBe(201);
}

async function configure(cluster: string, body: object, headers: Record<string, string> = ADMIN): Promise<EncryptionJson> {
  const res = await request(t.app).put(url(cluster)).set(headers).send(body);
  expect(res.status, res.text).toBe(200);
  return res.body as EncryptionJson;
}

async function state(cluster: string): Promise<EncryptionJson> {
  const res = await request(t.app).get(url(cluster)).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  return res.body as EncryptionJson;
}

async function next(cluster: string, completedStep?: string): Promise<EncryptionJson> {
  const res = await request(t.app).post(url(cluster, "/rotation/next")).set(ADMIN).send(completedStep === undefined ? {} : { completedStep });
  expect(res.status, res.text).toBe(200);
  return res.body as EncryptionJson;
}

async function startRotation(cluster: string): Promise<EncryptionJson> {
  const res = await request(t.app).post(url(cluster, "/rotation")).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  return res.body as EncryptionJson;
}

/** The rendered file, checked against every reference §3.4 rule. */
async function render(cluster: string): Promise<string> {
  const res = await request(t.app).get(url(cluster, "/config")).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/yaml/);
  expect(encryptionConfigProblems(res.text), res.text).toEqual([]);
  return res.text;
}

/** Renders the current step, then confirms steps until steady; returns each step's file. */
async function walkToSteady(cluster: string, first: EncryptionJson): Promise<RenderedStep[]> {
  const files: RenderedStep[] = [{ step: first.step, yaml: await render(cluster) }];
  let current = first;
  while (current.step !== "steady") {
    current = await next(cluster, current.step);
    files.push({ step: current.step, yaml: await render(cluster) });
  }
  return files;
}

/** A kube-apiserver without --encryption-provider-config: identity for everything. */
const NO_CONFIG = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers: [{ identity: {} }]\n";

/**
 * Reference §3.5 made checkable: during each roll-out the previous and the new file run side by side,
 * so each must read what the other writes; after it, every key data may still be encrypted with must
 * be readable; the rewrite step re-encrypts everything with the write key.
 */
function expectSafeRollout(files: readonly RenderedStep[], initial: { yaml: string; data: WriteKey[] }, resource = "secrets"): void {
  let previous = initial.yaml;
  const data = new Set<WriteKey>(initial.data);
  for (const { step, yaml } of files) {
    const readable = readableKeysOf(yaml, resource);
    const label = `step ${step}`;
    expect(readable.has(writeKeyOf(previous, resource)), `${label}: the new file reads what servers on the previous file write`).toBe(true);
    expect(readableKeysOf(previous, resource).has(writeKeyOf(yaml, resource)), `${label}: the previous file reads what servers on the new file write`).toBe(true);
    data.add(writeKeyOf(previous, resource)).add(writeKeyOf(yaml, resource));
    for (const key of data) expect(readable.has(key), `${label}: data written with ${key} stays readable`).toBe(true);
    if (step === "rewrite") {
      data.clear();
      data.add(writeKeyOf(yaml, resource));
    }
    previous = yaml;
  }
}

/**
 * The same with real encryption under the rendered keys: three emulated kube-apiservers
 * (test/fixtures/encryption/static-transformers.ts) start without a file, with plaintext records in
 * "etcd"; each step's file is rolled out one server at a time, and after every restart each server
 * writes a new record and overwrites an old one, then every server reads every record. The rewrite
 * step re-writes every record. Returns the records and what went wrong.
 */
function runFleet(files: readonly RenderedStep[]): { etcd: Map<string, Buffer>; failures: string[] } {
  const etcd = new Map<string, Buffer>();
  const plaintexts = new Map<string, string>();
  const failures: string[] = [];
  const fleet = [NO_CONFIG, NO_CONFIG, NO_CONFIG].map((yaml) => new EmulatedApiserver(yaml));
  let count = 0;
  const write = (server: EmulatedApiserver, key = `/registry/secrets/default/s-${count}`) => {
    const value = `value ${count++} of ${key}`;
    etcd.set(key, server.write(key, Buffer.from(value)));
    plaintexts.set(key, value);
  };
  for (let i = 0; i < 4; i++) write(fleet[0] ?? new EmulatedApiserver(NO_CONFIG));
  for (const { step, yaml } of files) {
    for (let restarted = 0; restarted < fleet.length; restarted++) {
      fleet[restarted] = new EmulatedApiserver(yaml);
      for (const server of fleet) {
        write(server);
        write(server, "/registry/secrets/default/s-0");
      }
      fleet.forEach((server, index) => {
        for (const [key, stored] of etcd) {
          try {
            if (server.read(key, stored).toString() !== plaintexts.get(key)) failures.push(`${step}: server ${index} read a wrong value for ${key}`);
          } catch (error) {
            failures.push(`${step}, ${restarted + 1} of 3 restarted: server ${index}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      });
    }
    const rewriter = fleet[0] ?? new EmulatedApiserver(yaml);
    if (step === "rewrite") for (const [key, stored] of etcd) etcd.set(key, rewriter.write(key, rewriter.read(key, stored)));
  }
  return { etcd, failures };
}

/** The file's providers in order, as "type" or "type:key1,key2". */
function shape(yaml: string): string[] {
  const document = yaml.split("\n");
  const providers: string[] = [];
  let current: { type: string; keys: string[] } | undefined;
  for (const line of document) {
    const provider = /^ {6}- (identity|aescbc|aesgcm|secretbox|kms):/.exec(line);
    if (provider !== null) {
      if (current !== undefined) providers.push(current.keys.length === 0 ? current.type : `${current.type}:${current.keys.join(",")}`);
      current = { type: provider[1] ?? "", keys: [] };
    }
    const key = /^ {12}- name: (\S+)$/.exec(line);
    if (key !== null) current?.keys.push(key[1] ?? "");
    const kmsName = /^ {10}name: (\S+)$/.exec(line);
    if (kmsName !== null) current?.keys.push(kmsName[1] ?? "");
  }
  if (current !== undefined) providers.push(current.keys.length === 0 ? current.type : `${current.type}:${current.keys.join(",")}`);
  return providers;
}

describe.each(["aescbc", "aesgcm", "secretbox"] as const)("static provider %s", (provider) => {
  const cluster = `enc-${provider}`;
  const files: RenderedStep[] = [];

  beforeAll(async () => {
    await createCluster(cluster);
  });

  it("first-time enablement walks added → promoted → rewrite → removed → steady, identity first, then last, then gone", async () => {
    const configured = await configure(cluster, { mode: "static", provider });
    expect(configured).toMatchObject({ mode: "static", step: "added", rotation: { kind: "enable", step: "added" }, resources: ["secrets"] });
    expect(configured.keys).toEqual([expect.objectContaining({ name: "key-1", provider, state: "active" })]);
    const enable = await walkToSteady(cluster, configured);
    expect(enable.map((file) => file.step)).toEqual(["added", "promoted", "rewrite", "removed", "steady"]);
    expect(enable.map((file) => shape(file.yaml))).toEqual([
      ["identity", `${provider}:key-1`],
      [`${provider}:key-1`, "identity"],
      [`${provider}:key-1`, "identity"],
      [`${provider}:key-1`],
      [`${provider}:key-1`],
    ]);
    expectSafeRollout(enable, { yaml: NO_CONFIG, data: ["identity"] });
    files.push(...enable);
  });

  it("a key rotation adds the new key second, promotes it, and removes the old one — each step a valid file", async () => {
    const started = await startRotation(cluster);
    expect(started).toMatchObject({ step: "added", rotation: { kind: "key", step: "added" } });
    const rotation = await walkToSteady(cluster, started);
    expect(rotation.map((file) => shape(file.yaml))).toEqual([[`${provider}:key-1,key-2`], [`${provider}:key-2,key-1`], [`${provider}:key-2,key-1`], [`${provider}:key-2`], [`${provider}:key-2`]]);
    const last = files.at(-1);
    expectSafeRollout(rotation, { yaml: last?.yaml ?? "", data: [`${provider}:key-1`] });
    // The check has teeth: promoting the new key without the "added" roll-out first is caught (servers
    // still on the old file could not read what the updated ones write).
    expect(() => expectSafeRollout(rotation.slice(1), { yaml: last?.yaml ?? "", data: [`${provider}:key-1`] })).toThrow(/previous file reads what servers on the new file write/);
    // …and so is removing the old key without the rewrite.
    expect(() => expectSafeRollout(rotation.filter((file) => file.step !== "rewrite"), { yaml: last?.yaml ?? "", data: [`${provider}:key-1`] })).toThrow(/stays readable/);
    // The rotation keeps key-2's secret from step to step, and key-1's while it is in the file.
    const secrets = rotation.map((file) => staticSecretsOf(file.yaml));
    expect(new Set(secrets.map((s) => s.get(`${provider}:key-2`)?.toString("base64"))).size).toBe(1);
    expect(secrets[0]?.get(`${provider}:key-1`)).toEqual(staticSecretsOf(last?.yaml ?? "").get(`${provider}:key-1`));
    for (const map of secrets) for (const secret of map.values()) expect(secret).toHaveLength(32);
    expect(secrets[0]?.get(`${provider}:key-1`)).not.toEqual(secrets[0]?.get(`${provider}:key-2`));
    const after = await state(cluster);
    expect(after.keys.map((key) => [key.name, key.state])).toEqual([
      ["key-1", "retired"],
      ["key-2", "active"],
    ]);
    files.push(...rotation);
  });

  it("an emulated fleet of three kube-apiservers, rolling each file out one server at a time, reads every record at every moment with the rendered keys", () => {
    expect(files.map((file) => file.step)).toEqual(["added", "promoted", "rewrite", "removed", "steady", "added", "promoted", "rewrite", "removed", "steady"]);
    const { etcd, failures } = runFleet(files);
    expect(failures).toEqual([]);
    // Everything ends encrypted with the last key: no plaintext left, no record under key-1.
    const prefixes = new Set([...etcd.values()].map((stored) => /^k8s:enc:[a-z]+:v1:key-\d+:/.exec(stored.toString("latin1"))?.[0] ?? "plaintext"));
    expect([...prefixes]).toEqual([`k8s:enc:${provider}:v1:key-2:`]);
    // And the steps are needed: without the rewrite, data is lost when the old key goes; without
    // "added", servers still on the previous file cannot read what the restarted ones write.
    expect(runFleet(files.filter((file) => file.step !== "rewrite")).failures.join("\n")).toMatch(/no provider could read it/);
    expect(runFleet(files.filter((file) => file.step !== "added")).failures.join("\n")).toMatch(/1 of 3 restarted: server [12]: .*no provider could read it/);
  });

  it("a second rotation names its key key-3: names are never reused", async () => {
    const started = await startRotation(cluster);
    expect(shape(await render(cluster))).toEqual([`${provider}:key-2,key-3`]);
    const rotation = await walkToSteady(cluster, started);
    expect(shape(rotation.at(-1)?.yaml ?? "")).toEqual([`${provider}:key-3`]);
    expectSafeRollout(rotation, { yaml: files.at(-1)?.yaml ?? "", data: [`${provider}:key-2`] });
  });

  it("each step's next action says what to do; the rewrite step gives the documented kubectl command", async () => {
    const started = await startRotation(cluster);
    expect(started.nextAction.summary).toMatch(/^Step 1 of 4 \(added\)/);
    expect(started.nextAction.instructions.join("\n")).toMatch(/Restart every kube-apiserver/);
    expect(started.nextAction.instructions.join("\n")).toMatch(/Back up the new key key-4/);
    const promoted = await next(cluster);
    expect(promoted.nextAction.summary).toMatch(/^Step 2 of 4 \(promoted\)/);
    const rewrite = await next(cluster);
    expect(rewrite.nextAction.summary).toMatch(/^Step 3 of 4 \(rewrite\)/);
    expect(rewrite.nextAction.commands).toEqual(["kubectl get secrets --all-namespaces -o json | kubectl replace -f -"]);
    const removed = await next(cluster);
    expect(removed.nextAction.summary).toMatch(/^Step 4 of 4 \(removed\)/);
    expect(removed.nextAction.instructions.join("\n")).toMatch(/retired key key-3 sealed/);
    const steady = await next(cluster);
    expect(steady.step).toBe("steady");
    expect(steady.nextAction.summary).toMatch(/^Steady/);
    expect(steady.warnings.some((w) => w.includes("200,000 writes"))).toBe(provider === "aesgcm");
  });
});

describe("KMS v2", () => {
  const cluster = "enc-kms";

  beforeAll(async () => {
    await createCluster(cluster);
    const key = await request(t.app).post("/v1/keys").set(ADMIN).send({ name: "enc-kms-kek" });
    expect(key.status, key.text).toBe(201);
  });

  it("renders apiVersion v2, name, unix endpoint and timeout, no cachesize and no secret, at every step of enablement", async () => {
    const configured = await configure(cluster, { mode: "kms", keyName: "enc-kms-kek", endpoint: "unix:///var/run/kpki/kms.sock", timeoutSeconds: 5 });
    expect(configured).toMatchObject({ mode: "kms", step: "added", providers: [{ type: "identity" }, { type: "kms", name: "kpki-enc-kms-kek", endpoint: "unix:///var/run/kpki/kms.sock", keyName: "enc-kms-kek", timeoutSeconds: 5 }] });
    expect(configured.keys).toEqual([]);
    expect(configured.nextAction.instructions.join("\n")).toContain("kpki kms-plugin --listen unix:///var/run/kpki/kms.sock --key enc-kms-kek");
    const files = await walkToSteady(cluster, configured);
    for (const file of files) {
      expect(file.yaml).not.toMatch(/secret:|cachesize/);
      expect(file.yaml).not.toContain("holds encryption keys");
    }
    expect(files.at(-1)?.yaml).toMatch(/- kms:\n {10}apiVersion: v2\n {10}name: kpki-enc-kms-kek\n {10}endpoint: unix:\/\/\/var\/run\/kpki\/kms.sock\n {10}timeout: 5s\n/);
    expectSafeRollout(files, { yaml: NO_CONFIG, data: ["identity"] });
  });

  it("refuses a static key rotation: the KEK rotates in the key service, without restarts", async () => {
    const res = await expectNothingStored(t, () => request(t.app).post(url(cluster, "/rotation")).set(ADMIN));
    expectProblem(res, { status: 409, code: "wrong_state", detail: "kpki key named rotate enc-kms-kek" });
  });

  it("changes endpoint and timeout in place; refuses another named key under the same provider name", async () => {
    const moved = await configure(cluster, { mode: "kms", keyName: "enc-kms-kek", endpoint: "unix:///run/kpki/kms2.sock" });
    expect(moved).toMatchObject({ step: "steady", providers: [{ type: "kms", endpoint: "unix:///run/kpki/kms2.sock", timeoutSeconds: 3 }] });
    expect(moved.warnings.join("\n")).toMatch(/restart every kube-apiserver/);
    await request(t.app).post("/v1/keys").set(ADMIN).send({ name: "enc-kms-other" });
    const res = await expectNothingStored(t, () => request(t.app).put(url(cluster)).set(ADMIN).send({ mode: "kms", keyName: "enc-kms-other", pluginName: "kpki-enc-kms-kek" }));
    expectProblem(res, { status: 409, code: "conflict", field: "keyName" });
  });
});

describe("a change of provider (static → KMS → secretbox)", () => {
  const cluster = "enc-switch";

  it("goes through the same four steps, with both providers in the file until the rewrite is done", async () => {
    await createCluster(cluster);
    const first = await configure(cluster, { mode: "static", provider: "aescbc", existingData: "none" });
    expect(first).toMatchObject({ step: "steady", providers: [{ type: "aescbc", key: "key-1" }] });
    const start = await render(cluster);
    await request(t.app).post("/v1/keys").set(ADMIN).send({ name: "enc-switch-kek" });
    const toKms = await configure(cluster, { mode: "kms", keyName: "enc-switch-kek" });
    expect(toKms).toMatchObject({ step: "added", rotation: { kind: "provider" } });
    const kmsFiles = await walkToSteady(cluster, toKms);
    expect(kmsFiles.map((file) => shape(file.yaml))).toEqual([["aescbc:key-1", "kms:kpki-enc-switch-kek"], ["kms:kpki-enc-switch-kek", "aescbc:key-1"], ["kms:kpki-enc-switch-kek", "aescbc:key-1"], ["kms:kpki-enc-switch-kek"], ["kms:kpki-enc-switch-kek"]]);
    expectSafeRollout(kmsFiles, { yaml: start, data: ["aescbc:key-1"] });
    const toSecretbox = await configure(cluster, { mode: "static", provider: "secretbox" });
    const boxFiles = await walkToSteady(cluster, toSecretbox);
    expect(shape(boxFiles[1]?.yaml ?? "")).toEqual(["secretbox:key-2", "kms:kpki-enc-switch-kek"]);
    expectSafeRollout(boxFiles, { yaml: kmsFiles.at(-1)?.yaml ?? "", data: ["kms:kpki-enc-switch-kek"] });
    expect((await state(cluster)).keys.map((key) => [key.name, key.provider, key.state])).toEqual([
      ["key-1", "aescbc", "retired"],
      ["key-2", "secretbox", "active"],
    ]);
  });

  it("a setup for several resources renders one entry for them and a rewrite command for each", async () => {
    await createCluster("enc-multi");
    const configured = await configure("enc-multi", { mode: "static", provider: "aescbc", resources: ["secrets", "configmaps", "*.apps"] });
    const yaml = await render("enc-multi");
    expect(yaml).toMatch(/resources:\n {6}- secrets\n {6}- configmaps\n {6}- "\*\.apps"\n/);
    await next("enc-multi", configured.step);
    const rewrite = await next("enc-multi", "promoted");
    expect(rewrite.nextAction.commands).toEqual([
      "kubectl get secrets --all-namespaces -o json | kubectl replace -f -",
      "kubectl get configmaps --all-namespaces -o json | kubectl replace -f -",
      "kubectl api-resources --api-group=apps --verbs=list,update -o name | xargs -I{} sh -c 'kubectl get {} --all-namespaces -o json | kubectl replace -f -'",
    ]);
  });
});

describe("automatic static key rotation", () => {
  it("a period set with the provider is shown with the time the job starts the next rotation; null turns it off", async () => {
    const cluster = "enc-periodic";
    await createCluster(cluster);
    const set = await configure(cluster, { mode: "static", provider: "aescbc", existingData: "none", keyRotationPeriodSeconds: 90 * 86_400 });
    expect(set).toMatchObject({ keyRotationPeriodSeconds: 90 * 86_400 });
    const dueAt = Date.parse((set as EncryptionJson & { keyRotationDueAt: string }).keyRotationDueAt);
    expect(Math.abs(dueAt - (Date.now() + 90 * 86_400_000))).toBeLessThan(60_000);
    const off = await configure(cluster, { mode: "static", provider: "aescbc", keyRotationPeriodSeconds: null });
    expect(off).not.toHaveProperty("keyRotationPeriodSeconds");
    expect(off).not.toHaveProperty("keyRotationDueAt");
  });
});

describe("refusals (nothing stored)", () => {
  const cluster = "enc-refusals";
  beforeAll(async () => {
    await createCluster(cluster);
  });

  it.each([
    ["an unknown cluster", "get", "/v1/clusters/no-such-cluster/encryption", undefined, 404, "not_found"],
    ["an unknown cluster (configure)", "put", "/v1/clusters/no-such-cluster/encryption", { mode: "static", provider: "aescbc" }, 404, "not_found"],
    ["an unknown cluster (render)", "get", "/v1/clusters/no-such-cluster/encryption/config", undefined, 404, "not_found"],
    ["an unknown cluster (rotate)", "post", "/v1/clusters/no-such-cluster/encryption/rotation", undefined, 404, "not_found"],
    ["a cluster without setup (state)", "get", "/v1/clusters/enc-refusals/encryption", undefined, 404, "not_found"],
    ["a cluster without setup (render)", "get", "/v1/clusters/enc-refusals/encryption/config", undefined, 404, "not_found"],
    ["a cluster without setup (rotate)", "post", "/v1/clusters/enc-refusals/encryption/rotation", undefined, 404, "not_found"],
    ["a cluster without setup (next)", "post", "/v1/clusters/enc-refusals/encryption/rotation/next", {}, 404, "not_found"],
    ["a provider that does not exist", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "rot13" }, 400, "invalid_input"],
    ["static without provider", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static" }, 400, "invalid_input"],
    ["static with KMS fields", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", keyName: "x" }, 400, "invalid_input"],
    ["kms without keyName", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms" }, 400, "invalid_input"],
    ["kms with a named key that does not exist", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms", keyName: "no-such-key" }, 400, "invalid_input"],
    ["a KMS name with ':'", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms", keyName: "no-such-key", pluginName: "a:b" }, 400, "invalid_input"],
    ["a tcp endpoint", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms", keyName: "no-such-key", endpoint: "tcp://127.0.0.1:1" }, 400, "invalid_input"],
    ["an abstract socket", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms", keyName: "no-such-key", endpoint: "unix:///@kms" }, 400, "invalid_input"],
    ["a zero timeout", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms", keyName: "no-such-key", timeoutSeconds: 0 }, 400, "invalid_input"],
    ["resources *", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", resources: ["*"] }, 400, "invalid_input"],
    ["overlapping resources", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", resources: ["secrets", "*."] }, 400, "invalid_input"],
    ["duplicate resources", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", resources: ["secrets", "secrets"] }, 400, "invalid_input"],
    ["events.k8s.io", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", resources: ["*.events.k8s.io"] }, 400, "invalid_input"],
    ["a bad completedStep", "post", "/v1/clusters/enc-refusals/encryption/rotation/next", { completedStep: "done" }, 400, "invalid_input"],
    ["a key rotation period under a day", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", keyRotationPeriodSeconds: 3600 }, 400, "invalid_input"],
    ["a key rotation period as text", "put", "/v1/clusters/enc-refusals/encryption", { mode: "static", provider: "aescbc", keyRotationPeriodSeconds: "90d" }, 400, "invalid_input"],
    ["a key rotation period for KMS", "put", "/v1/clusters/enc-refusals/encryption", { mode: "kms", keyName: "no-such-key", keyRotationPeriodSeconds: 86_400 }, 400, "invalid_input"],
  ] as const)("%s", async (_name, method, path, body, status, code) => {
    const call = () => {
      const agent = request(t.app)[method](path).set(ADMIN);
      return body === undefined ? agent : agent.send(body);
    };
    expectProblem(await expectNothingStored(t, call), { status, code });
  });

  it("advancing with no rotation in progress is wrong_state; starting twice and changing mid-rotation are conflicts", async () => {
    await configure(cluster, { mode: "static", provider: "aescbc", existingData: "none" });
    expectProblem(await expectNothingStored(t, () => request(t.app).post(url(cluster, "/rotation/next")).set(ADMIN).send({})), { status: 409, code: "wrong_state", detail: "no rotation is in progress" });
    await startRotation(cluster);
    expectProblem(await expectNothingStored(t, () => request(t.app).post(url(cluster, "/rotation")).set(ADMIN)), { status: 409, code: "conflict", detail: "already in progress" });
    expectProblem(await expectNothingStored(t, () => request(t.app).put(url(cluster)).set(ADMIN).send({ mode: "static", provider: "secretbox" })), { status: 409, code: "conflict", detail: "in progress" });
    // A confirmation of a step other than the current one (a retry, or a second operator) skips nothing.
    expectProblem(await expectNothingStored(t, () => request(t.app).post(url(cluster, "/rotation/next")).set(ADMIN).send({ completedStep: "promoted" })), { status: 409, code: "conflict", field: "completedStep" });
    expect((await state(cluster)).step).toBe("added");
  });

  it("resources are fixed once configured; existingData applies to the first configuration only", async () => {
    expectProblem(await expectNothingStored(t, () => request(t.app).put(url(cluster)).set(ADMIN).send({ mode: "static", provider: "aescbc", resources: ["secrets", "configmaps"] })), { status: 409, code: "conflict" });
    await walkToSteady(cluster, await state(cluster));
    expectProblem(await expectNothingStored(t, () => request(t.app).put(url(cluster)).set(ADMIN).send({ mode: "static", provider: "aescbc", resources: ["secrets", "configmaps"] })), { status: 422, code: "unsupported", field: "resources" });
    expectProblem(await expectNothingStored(t, () => request(t.app).put(url(cluster)).set(ADMIN).send({ mode: "static", provider: "aescbc", existingData: "none" })), { status: 400, code: "invalid_input", field: "existingData" });
    // The same provider again changes nothing (no new key, no audit entry).
    const unchanged = await expectNothingStored(t, () => request(t.app).put(url(cluster)).set(ADMIN).send({ mode: "static", provider: "aescbc", resources: ["secrets"] }));
    expect(unchanged.status).toBe(200);
  });
});

describe("concurrent requests (several operators, or replicas on one database)", () => {
  it("of five simultaneous starts one wins and one key is made; of five confirmations of the same step one advances", async () => {
    await createCluster("enc-race");
    await configure("enc-race", { mode: "static", provider: "aescbc", existingData: "none" });
    const starts = await Promise.all(Array.from({ length: 5 }, () => request(t.app).post(url("enc-race", "/rotation")).set(ADMIN)));
    expect(starts.map((res) => res.status).sort()).toEqual([200, 409, 409, 409, 409]);
    for (const res of starts.filter((r) => r.status === 409)) expectProblem(res, { status: 409, code: "conflict" });
    const confirmations = await Promise.all(Array.from({ length: 5 }, () => request(t.app).post(url("enc-race", "/rotation/next")).set(ADMIN).send({ completedStep: "added" })));
    expect(confirmations.map((res) => res.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const after = await state("enc-race");
    expect(after.step).toBe("promoted");
    expect(after.keys.map((key) => key.name)).toEqual(["key-1", "key-2"]);
    const cluster = await t.runtime.storage.db.cluster.findUniqueOrThrow({ where: { name: "enc-race" } });
    expect(await t.runtime.storage.db.keyMaterial.count({ where: { id: { in: (await t.runtime.storage.db.clusterEncryptionKey.findMany({ where: { clusterId: cluster.id } })).map((k) => k.keyMaterialId) } } })).toBe(2);
  });
});

describe("the export permission and keys at rest", () => {
  const cluster = "enc-secrets";
  let yaml: string;

  beforeAll(async () => {
    await createCluster(cluster);
    await configure(cluster, { mode: "static", provider: "secretbox", existingData: "none" });
    await startRotation(cluster);
    yaml = await render(cluster);
  });

  async function token(role: string): Promise<Record<string, string>> {
    const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: `enc-${role}`, role });
    expect(res.status, res.text).toBe(201);
    return { Authorization: `Bearer ${(res.body as { token: string }).token}` };
  }

  it("only a token with cluster.encryption.export (admin) reads the file; operators run the runbook without seeing keys", async () => {
    const operator = await token("operator");
    const reader = await token("reader");
    expectProblem(await request(t.app).get(url(cluster, "/config")).set(operator), { status: 403, code: "permission_denied", detail: "cluster.encryption.export" });
    expectProblem(await request(t.app).get(url(cluster, "/config")).set(reader), { status: 403, code: "permission_denied", detail: "cluster.encryption.export" });
    expect((await request(t.app).get(url(cluster)).set(reader)).status).toBe(200);
    expectProblem(await request(t.app).post(url(cluster, "/rotation/next")).set(reader).send({}), { status: 403, code: "permission_denied", detail: "cluster.manage" });
    const advanced = await request(t.app).post(url(cluster, "/rotation/next")).set(operator).send({ completedStep: "added" });
    expect(advanced.status, advanced.text).toBe(200);
    const shown = await request(t.app).get(url(cluster)).set(operator);
    for (const secret of staticSecretsOf(yaml).values()) expect(shown.text).not.toContain(secret.toString("base64"));
  });

  it("every render is audited as an export, without the keys", async () => {
    const before = await t.runtime.storage.db.auditEvent.count({ where: { action: "cluster.encryption-config.export" } });
    const again = await render(cluster);
    const events = await t.runtime.storage.db.auditEvent.findMany({ where: { action: "cluster.encryption-config.export" }, orderBy: { seq: "desc" } });
    expect(events).toHaveLength(before + 1);
    expect(JSON.parse(events[0]?.details ?? "{}")).toMatchObject({ name: cluster, step: "promoted", containsSecrets: true, keys: "key-2,key-1" });
    for (const secret of staticSecretsOf(again).values()) expect(JSON.stringify(events)).not.toContain(secret.toString("base64"));
  });

  it("the static keys are sealed at rest: no row (and no byte of the SQLite file) holds them in clear", async () => {
    const db = t.runtime.storage.db;
    const secrets = [...staticSecretsOf(yaml).values()];
    expect(secrets).toHaveLength(2);
    const keys = await db.clusterEncryptionKey.findMany();
    const materials = await db.keyMaterial.findMany({ where: { id: { in: keys.map((key) => key.keyMaterialId) } } });
    expect(materials).toHaveLength(keys.length);
    for (const row of materials) {
      // 0x01 ‖ IV(12) ‖ AES-256-GCM(32 bytes) ‖ tag(16), under the current master key.
      expect(row.sealedRef?.length).toBe(1 + 12 + 32 + 16);
      expect(row.masterKeyId).toBe(t.runtime.storage.keyRing.current.id);
    }
    const rows = [await db.clusterEncryption.findMany(), keys, materials, await db.auditEvent.findMany()];
    const dump = JSON.stringify(rows, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value));
    for (const secret of secrets) {
      expect(dump).not.toContain(secret.toString("hex"));
      expect(dump).not.toContain(secret.toString("base64"));
    }
    if (t.database.provider === "sqlite") {
      const dbFile = t.database.url.replace(/^file:/, "");
      for (const file of [dbFile, `${dbFile}-wal`].filter((name) => existsSync(name)).map((name) => readFileSync(name))) {
        for (const secret of secrets) expect(file.includes(secret)).toBe(false);
      }
    }
  });
});

describe("master-key rotation", () => {
  it("re-seals the static keys with every other key: after the rotation and a restart the file holds the same keys", async () => {
    const own = await startTestRuntime();
    let reopened: TestRuntime | undefined;
    try {
      const app = own.app;
      expect((await request(app).post("/v1/clusters").set(ADMIN).send({ name: "enc-reseal", controlPlaneEndpoint: "cp.reseal.example:6443", keyAlgorithm: "ECDSA-P256" })).status).toBe(201);
      expect((await request(app).put(url("enc-reseal")).set(ADMIN).send({ mode: "static", provider: "aescbc", existingData: "none" })).status).toBe(200);
      const before = staticSecretsOf((await request(app).get(url("enc-reseal", "/config")).set(ADMIN)).text);
      const keyFile = path.join(own.dataDir, "rotated.key");
      const newKey = await createMasterKeyFile(keyFile, new NodeRandomSource());
      expect(await rotateMasterKey(own.runtime, newKey, () => undefined)).toBeGreaterThan(0);
      await own.close({ keepData: true });
      reopened = await startTestRuntime({ reuse: { database: own.database, dataDir: own.dataDir }, env: { KPKI_MASTER_KEY_FILE: keyFile } });
      const rows = await reopened.runtime.storage.db.keyMaterial.findMany({ where: { id: { startsWith: "enc-key:" } } });
      expect(rows.map((row) => row.masterKeyId)).toEqual([newKey.id]);
      const after = await request(reopened.app).get(url("enc-reseal", "/config")).set(ADMIN);
      expect(after.status, after.text).toBe(200);
      expect(staticSecretsOf(after.text)).toEqual(before);
    } finally {
      if (reopened === undefined) await own.close();
      else await reopened.close();
    }
  });
});

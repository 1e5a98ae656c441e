// Service-account key rotation with overlap over HTTP, against a real database (reference/
// kubernetes.md §5): the rendered sa.key / sa.pub of every step, the overlap property with real
// JWTs signed and verified by node:crypto the way kube-apiserver does (any key of
// --service-account-key-file may verify a token), the refusals of the step machine, access and audit.
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNothingStored, expectProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

interface VersionJson {
  version: number;
  state: string;
  algorithm: string;
  keyId: string;
  publicKeyPem: string;
  createdAt: string;
  signingFrom?: string;
  signingUntil?: string;
  retireAfter?: string;
  retiredAt?: string;
}
interface KeysJson {
  cluster: string;
  step: string;
  nextStep: string;
  retireAfter?: string;
  signingVersion: number;
  verificationVersions: number[];
  overlapSeconds: number;
  versions: VersionJson[];
  taken?: string;
}
interface FilesJson {
  step: string;
  signingVersion: number;
  verificationVersions: number[];
  privateKeyPem: string;
  publicKeyPem: string;
}

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

let clusters = 0;
async function newCluster(keyAlgorithm: string, extra: object = {}): Promise<string> {
  const name = `sa-${++clusters}`;
  const res = await request(t.app)
    .post("/v1/clusters")
    .set(ADMIN)
    .send({ name, controlPlaneEndpoint: `k8s.${name}.internal:6443`, keyAlgorithm, nodes: [{ name: "cp-1", role: "control-plane", addresses: ["192.168.70.11"] }], ...extra });
  expect(res.status, res.text).toBe(201);
  return name;
}

const keys = async (cluster: string): Promise<KeysJson> => {
  const res = await request(t.app).get(`/v1/clusters/${cluster}/service-account-keys`).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  return res.body as KeysJson;
};
const files = async (cluster: string): Promise<FilesJson> => {
  const res = await request(t.app).get(`/v1/clusters/${cluster}/service-account-keys/files`).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  return res.body as FilesJson;
};
const start = (cluster: string, body: object = {}) => request(t.app).post(`/v1/clusters/${cluster}/service-account-keys/rotation`).set(ADMIN).send(body);
const next = (cluster: string, body: object = {}) => request(t.app).post(`/v1/clusters/${cluster}/service-account-keys/rotation/next`).set(ADMIN).send(body);
const publicPem = async (cluster: string, all: boolean): Promise<string> => {
  const res = await request(t.app).get(`/v1/clusters/${cluster}/service-account-key${all ? "?all=true" : ""}`).buffer(true);
  expect(res.status, res.text).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/x-pem-file/);
  return res.text;
};

/** DER SPKI (hex) of every PEM block of sa.pub, each parsed on its own with createPublicKey. */
function publicKeySet(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----\n[\s\S]*?\n-----END PUBLIC KEY-----\n/g) ?? [];
  expect(blocks.join("")).toBe(pem); // nothing but PUBLIC KEY blocks
  return blocks.map((block) => createPublicKey(block).export({ type: "spki", format: "der" }).toString("hex"));
}
const spkiHex = (pem: string): string => createPublicKey(pem).export({ type: "spki", format: "der" }).toString("hex");
/** The kid Kubernetes computes (pkg/serviceaccount/jwt.go keyIDFromPublicKey), written out here. */
const kubernetesKid = (key: KeyObject): string => createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("base64url");

/** JWS parameters for a key, as Kubernetes picks them (reference §5: RS256 for RSA, ES256/ES384 by curve). */
function jwsParameters(key: KeyObject): { alg: string; hash: string; dsaEncoding?: "ieee-p1363" } {
  if (key.asymmetricKeyType === "rsa") return { alg: "RS256", hash: "sha256" };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === "prime256v1") return { alg: "ES256", hash: "sha256", dsaEncoding: "ieee-p1363" };
  if (curve === "secp384r1") return { alg: "ES384", hash: "sha384", dsaEncoding: "ieee-p1363" };
  throw new Error(`no JWS algorithm for ${curve ?? "?"}`);
}

/** A service-account token signed with sa.key, with the kid of its public key. */
function signToken(saKeyPem: string, subject: string): string {
  const key = createPrivateKey(saKeyPem);
  const { alg, hash, dsaEncoding } = jwsParameters(key);
  const header = Buffer.from(JSON.stringify({ alg, kid: kubernetesKid(createPublicKey(key)), typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify({ iss: "https://kubernetes.default.svc.cluster.local", sub: subject, exp: 4102444800 })).toString("base64url");
  const signature = cryptoSign(hash, Buffer.from(`${header}.${payload}`), dsaEncoding === undefined ? key : { key, dsaEncoding });
  return `${header}.${payload}.${signature.toString("base64url")}`;
}

/** Whether any key of sa.pub verifies the token (kube-apiserver tries every key it was given). */
function verifiesWith(token: string, saPubPem: string): boolean {
  const [header = "", payload = "", signature = ""] = token.split(".");
  const { alg } = JSON.parse(Buffer.from(header, "base64url").toString()) as { alg: string };
  return publicKeySet(saPubPem).some((hex) => {
    const key = createPublicKey({ key: Buffer.from(hex, "hex"), format: "der", type: "spki" });
    const parameters = jwsParameters(key);
    if (parameters.alg !== alg) return false;
    const data = Buffer.from(`${header}.${payload}`);
    const sig = Buffer.from(signature, "base64url");
    return cryptoVerify(parameters.hash, data, parameters.dsaEncoding === undefined ? key : { key, dsaEncoding: parameters.dsaEncoding }, sig);
  });
}

const pemOf = (status: KeysJson, version: number): string => {
  const found = status.versions.find((v) => v.version === version);
  if (found === undefined) throw new Error(`no version ${version}`);
  return found.publicKeyPem;
};

describe.each(["RSA-2048", "ECDSA-P256"])("a %s cluster rotated step by step", (algorithm) => {
  let cluster: string;
  /** sa.key and sa.pub as rendered before the rotation and after each step. */
  const rendered: Record<"before" | "publish" | "switch" | "retire", FilesJson | undefined> = { before: undefined, publish: undefined, switch: undefined, retire: undefined };
  const statuses: Partial<Record<keyof typeof rendered, KeysJson>> = {};

  beforeAll(async () => {
    cluster = await newCluster(algorithm);
    rendered.before = await files(cluster);
    statuses.before = await keys(cluster);
    const published = await start(cluster);
    expect(published.status, published.text).toBe(201);
    rendered.publish = await files(cluster);
    statuses.publish = await keys(cluster);
    const switched = await next(cluster, { step: "switch" });
    expect(switched.status, switched.text).toBe(200);
    rendered.switch = await files(cluster);
    statuses.switch = await keys(cluster);
    const retired = await next(cluster, { step: "retire", force: true });
    expect(retired.status, retired.text).toBe(200);
    rendered.retire = await files(cluster);
    statuses.retire = await keys(cluster);
  });

  const at = (step: keyof typeof rendered): FilesJson => {
    const value = rendered[step];
    if (value === undefined) throw new Error(`nothing rendered for ${step}`);
    return value;
  };
  const statusAt = (step: keyof typeof rendered): KeysJson => {
    const value = statuses[step];
    if (value === undefined) throw new Error(`no status for ${step}`);
    return value;
  };

  it("a new cluster has one version, signing; sa.key and sa.pub are its pair", () => {
    const before = statusAt("before");
    expect(before).toMatchObject({ step: "idle", nextStep: "publish", signingVersion: 1, verificationVersions: [1], overlapSeconds: 604800 });
    expect(before.versions.map((v) => [v.version, v.state, v.algorithm])).toEqual([[1, "signing", algorithm]]);
    expect(spkiHex(at("before").privateKeyPem)).toBe(spkiHex(pemOf(before, 1)));
    expect(publicKeySet(at("before").publicKeyPem)).toEqual([spkiHex(pemOf(before, 1))]);
    // kubeadm's encodings: PKCS#1 for RSA, SEC1 for ECDSA (reference §1.1).
    expect(at("before").privateKeyPem).toMatch(algorithm.startsWith("RSA") ? /^-----BEGIN RSA PRIVATE KEY-----\n/ : /^-----BEGIN EC PRIVATE KEY-----\n/);
  });

  it("key ids are the kid Kubernetes computes", () => {
    for (const version of statusAt("switch").versions) expect(version.keyId).toBe(kubernetesKid(createPublicKey(version.publicKeyPem)));
    expect(statusAt("switch").versions[0]?.keyId).not.toBe(statusAt("switch").versions[1]?.keyId);
  });

  it("step 1, publish: sa.pub lists old and new, sa.key is still the old key", () => {
    const status = statusAt("publish");
    expect(status).toMatchObject({ step: "published", nextStep: "switch", signingVersion: 1, verificationVersions: [1, 2] });
    expect(status.versions.map((v) => [v.version, v.state])).toEqual([[1, "signing"], [2, "published"]]);
    expect(spkiHex(at("publish").privateKeyPem)).toBe(spkiHex(pemOf(status, 1)));
    expect(publicKeySet(at("publish").publicKeyPem)).toEqual([spkiHex(pemOf(status, 1)), spkiHex(pemOf(status, 2))]);
    expect(at("publish")).toMatchObject({ step: "published", signingVersion: 1, verificationVersions: [1, 2] });
  });

  it("step 2, switch: sa.key is the new key, sa.pub still lists both; the old key may retire after the overlap", () => {
    const status = statusAt("switch");
    expect(status).toMatchObject({ step: "switched", nextStep: "retire", signingVersion: 2, verificationVersions: [1, 2] });
    expect(status.versions.map((v) => [v.version, v.state])).toEqual([[1, "verifying"], [2, "signing"]]);
    expect(spkiHex(at("switch").privateKeyPem)).toBe(spkiHex(pemOf(status, 2)));
    expect(publicKeySet(at("switch").publicKeyPem)).toEqual([spkiHex(pemOf(status, 1)), spkiHex(pemOf(status, 2))]);
    const [old, current] = status.versions;
    expect(old?.signingUntil).toBe(current?.signingFrom);
    expect(Date.parse(old?.retireAfter ?? "") - Date.parse(old?.signingUntil ?? "")).toBe(604800 * 1000);
    expect(status.retireAfter).toBe(old?.retireAfter);
  });

  it("step 3, retire: sa.pub lists only the new key; the old one is retired and its private key destroyed", async () => {
    const status = statusAt("retire");
    expect(status).toMatchObject({ step: "idle", nextStep: "publish", signingVersion: 2, verificationVersions: [2] });
    expect(status.versions.map((v) => [v.version, v.state])).toEqual([[1, "retired"], [2, "signing"]]);
    expect(status.versions[0]?.retiredAt).toBeDefined();
    expect(spkiHex(at("retire").privateKeyPem)).toBe(spkiHex(pemOf(status, 2)));
    expect(publicKeySet(at("retire").publicKeyPem)).toEqual([spkiHex(pemOf(status, 2))]);
    const rows = await t.runtime.storage.db.keyMaterial.findMany({ where: { id: { startsWith: "sa-key:" } }, select: { publicKeySpki: true, sealedRef: true, destroyedAt: true } });
    const retiredRow = rows.find((row) => Buffer.from(row.publicKeySpki).toString("hex") === spkiHex(pemOf(status, 1)));
    expect(retiredRow).toMatchObject({ sealedRef: null });
    expect(retiredRow?.destroyedAt).not.toBeNull();
  });

  it("the overlap: a token of the old key verifies until retire; one of the new key from publish on", () => {
    const oldToken = signToken(at("before").privateKeyPem, "system:serviceaccount:default:old");
    const newToken = signToken(at("switch").privateKeyPem, "system:serviceaccount:default:new");
    const verdicts = (token: string) => (["before", "publish", "switch", "retire"] as const).map((step) => verifiesWith(token, at(step).publicKeyPem));
    expect(verdicts(oldToken)).toEqual([true, true, true, false]);
    expect(verdicts(newToken)).toEqual([false, true, true, true]);
    // The property is about the keys, not the test's verifier: a tampered token verifies nowhere.
    const tampered = newToken.replace(/\.[^.]+\./, `.${Buffer.from('{"sub":"system:admin"}').toString("base64url")}.`);
    expect(verdicts(tampered)).toEqual([false, false, false, false]);
  });

  it("the public endpoint answers the signing key, and with all=true exactly sa.pub", async () => {
    expect(spkiHex(await publicPem(cluster, false))).toBe(spkiHex(at("retire").privateKeyPem));
    expect(await publicPem(cluster, true)).toBe(at("retire").publicKeyPem);
  });
});

describe("the public endpoint during a rotation", () => {
  it("answers the signing key (still the old one after publish) and all=true lists both", async () => {
    const cluster = await newCluster("ECDSA-P256");
    expect((await start(cluster)).status).toBe(201);
    const status = await keys(cluster);
    expect(spkiHex(await publicPem(cluster, false))).toBe(spkiHex(pemOf(status, 1)));
    expect(publicKeySet(await publicPem(cluster, true))).toEqual([spkiHex(pemOf(status, 1)), spkiHex(pemOf(status, 2))]);
    expect(await publicPem(cluster, true)).toBe((await files(cluster)).publicKeyPem);
  });
});

describe("refused steps change nothing", () => {
  it("next with no rotation in progress is 409 wrong_state", async () => {
    const cluster = await newCluster("ECDSA-P256");
    const res = await expectNothingStored(t, () => next(cluster));
    expectProblem(res, { status: 409, code: "wrong_state", detail: "no rotation" });
  });

  it("a second start while a rotation is in progress (after publish, after switch) is 409 conflict", async () => {
    const cluster = await newCluster("ECDSA-P256");
    expect((await start(cluster)).status).toBe(201);
    expectProblem(await expectNothingStored(t, () => start(cluster)), { status: 409, code: "conflict", detail: "in progress (step published; next: switch)" });
    expect((await next(cluster)).status).toBe(200);
    expectProblem(await expectNothingStored(t, () => start(cluster)), { status: 409, code: "conflict", detail: "in progress (step switched; next: retire)" });
    expect((await keys(cluster)).versions).toHaveLength(2);
  });

  it("an out-of-order step is refused: retire right after publish, switch after the switch", async () => {
    const cluster = await newCluster("ECDSA-P256");
    expect((await start(cluster)).status).toBe(201);
    expectProblem(await expectNothingStored(t, () => next(cluster, { step: "retire", force: true })), { status: 409, code: "wrong_state", field: "step", detail: "the next step of cluster" });
    expect((await keys(cluster)).step).toBe("published");
    expect((await next(cluster, { step: "switch" })).status).toBe(200);
    expectProblem(await expectNothingStored(t, () => next(cluster, { step: "switch" })), { status: 409, code: "wrong_state", field: "step", detail: "is retire, not switch" });
  });

  it("retire before the overlap has passed needs force", async () => {
    const cluster = await newCluster("ECDSA-P256");
    expect((await start(cluster)).status).toBe(201);
    expect((await next(cluster)).status).toBe(200);
    const before = await keys(cluster);
    const res = await expectNothingStored(t, () => next(cluster));
    expectProblem(res, { status: 409, code: "wrong_state", detail: `verifies until ${before.retireAfter ?? "?"}` });
    expect(await keys(cluster)).toEqual(before);
    const forced = await next(cluster, { force: true });
    expect(forced.status, forced.text).toBe(200);
    expect((forced.body as KeysJson).taken).toBe("retire");
  });

  it.each([
    ["an algorithm kubeadm does not know", "/rotation", { keyAlgorithm: "Ed25519" }],
    ["an unknown property", "/rotation", { keyAlgorithm: "RSA-2048", extra: 1 }],
    ["force as a string", "/rotation/next", { force: "yes" }],
    ["an unknown step", "/rotation/next", { step: "publish" }],
  ])("a body with %s is 400", async (_what, suffix, body) => {
    const cluster = await newCluster("ECDSA-P256");
    const res = await expectNothingStored(t, () => request(t.app).post(`/v1/clusters/${cluster}/service-account-keys${suffix}`).set(ADMIN).send(body));
    expectProblem(res, { status: 400, code: "invalid_input" });
  });

  it("an unknown cluster is 404 everywhere", async () => {
    for (const res of [
      await request(t.app).get("/v1/clusters/no-such/service-account-keys").set(ADMIN),
      await request(t.app).get("/v1/clusters/no-such/service-account-keys/files").set(ADMIN),
      await request(t.app).get("/v1/clusters/no-such/service-account-key?all=true"),
      await start("no-such"),
      await next("no-such"),
    ]) {
      expectProblem(res, { status: 404, code: "not_found" });
    }
  });

  it("of two concurrent starts one publishes, the other is refused", async () => {
    const cluster = await newCluster("ECDSA-P256");
    const results = await Promise.all([start(cluster), start(cluster), start(cluster)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const status = await keys(cluster);
    expect(status.versions.map((v) => [v.version, v.state])).toEqual([[1, "signing"], [2, "published"]]);
    expect(await t.runtime.storage.db.keyMaterial.count({ where: { id: { startsWith: `sa-key:${(await request(t.app).get(`/v1/clusters/${cluster}`).set(ADMIN)).body.id as string}` } } })).toBe(2);
  });
});

describe("a rotation to another algorithm", () => {
  it("publishes an ECDSA key beside the RSA one; after the switch sa.key is SEC1 and both kinds verify", async () => {
    const cluster = await newCluster("RSA-2048");
    const before = await files(cluster);
    const res = await start(cluster, { keyAlgorithm: "ECDSA-P256" });
    expect(res.status, res.text).toBe(201);
    expect((res.body as KeysJson).versions.map((v) => v.algorithm)).toEqual(["RSA-2048", "ECDSA-P256"]);
    expect((await next(cluster)).status).toBe(200);
    const after = await files(cluster);
    expect(after.privateKeyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(verifiesWith(signToken(before.privateKeyPem, "a"), after.publicKeyPem)).toBe(true);
    expect(verifiesWith(signToken(after.privateKeyPem, "b"), after.publicKeyPem)).toBe(true);
  });
});

describe("the cluster's overlap setting", () => {
  it("is validated (at least a day) and decides retireAfter at the switch", async () => {
    const cluster = await newCluster("ECDSA-P256", { serviceAccountKeyOverlapSeconds: 2 * 86_400 });
    expectProblem(await request(t.app).patch(`/v1/clusters/${cluster}`).set(ADMIN).send({ serviceAccountKeyOverlapSeconds: 3600 }), { status: 400, code: "invalid_input" });
    const patched = await request(t.app).patch(`/v1/clusters/${cluster}`).set(ADMIN).send({ serviceAccountKeyOverlapSeconds: 3 * 86_400, serviceAccountKeyRotationPeriodSeconds: 90 * 86_400 });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ serviceAccountKeyOverlapSeconds: 3 * 86_400, serviceAccountKeyRotationPeriodSeconds: 90 * 86_400 });
    const cleared = await request(t.app).patch(`/v1/clusters/${cluster}`).set(ADMIN).send({ serviceAccountKeyRotationPeriodSeconds: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body).not.toHaveProperty("serviceAccountKeyRotationPeriodSeconds");
    expect((await start(cluster)).status).toBe(201);
    const switched = (await next(cluster)).body as KeysJson;
    const old = switched.versions[0];
    expect(Date.parse(old?.retireAfter ?? "") - Date.parse(old?.signingUntil ?? "")).toBe(3 * 86_400 * 1000);
  });
});

describe("access and audit", () => {
  let reader: string;
  let issuer: string;
  let cluster: string;
  beforeAll(async () => {
    cluster = await newCluster("ECDSA-P256");
    const token = async (role: string) => {
      const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: `sa-${role}`, role });
      expect(res.status).toBe(201);
      return (res.body as { token: string }).token;
    };
    reader = await token("reader");
    issuer = await token("issuer");
  });
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  it("a reader sees the versions but may not rotate or take sa.key", async () => {
    expect((await request(t.app).get(`/v1/clusters/${cluster}/service-account-keys`).set(as(reader))).status).toBe(200);
    expectProblem(await request(t.app).get(`/v1/clusters/${cluster}/service-account-keys/files`).set(as(reader)), { status: 403, code: "permission_denied", detail: "kubeadm.sign" });
    expectProblem(await expectNothingStored(t, () => request(t.app).post(`/v1/clusters/${cluster}/service-account-keys/rotation`).set(as(reader)).send({})), { status: 403, code: "permission_denied", detail: "cluster.manage" });
  });

  it("an issuer (kubeadm.sign) may take the files, as kubeadm sign hands them out, but not rotate", async () => {
    const res = await request(t.app).get(`/v1/clusters/${cluster}/service-account-keys/files`).set(as(issuer));
    expect(res.status).toBe(200);
    expectProblem(await request(t.app).post(`/v1/clusters/${cluster}/service-account-keys/rotation/next`).set(as(issuer)).send({}), { status: 403, code: "permission_denied" });
  });

  it("each step and each export is audited, without key material", async () => {
    expect((await start(cluster)).status).toBe(201);
    expect((await next(cluster)).status).toBe(200);
    await files(cluster);
    const id = ((await request(t.app).get(`/v1/clusters/${cluster}`).set(ADMIN)).body as { id: string }).id;
    const events = await t.runtime.storage.db.auditEvent.findMany({ where: { target: `cluster:${id}` }, orderBy: { seq: "asc" } });
    const actions = events.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["cluster.service-account-key.publish", "cluster.service-account-key.switch", "cluster.service-account-key.export"]));
    const exportEvent = events.filter((e) => e.action === "cluster.service-account-key.export").at(-1);
    expect(JSON.parse(exportEvent?.details ?? "{}")).toMatchObject({ version: 2 });
    for (const event of events) expect(event.details).not.toMatch(/PRIVATE KEY|BEGIN/);
  });
});

// The key service over REST, end to end against a real database: every KMIP operation's endpoint,
// named keys and batches, with results cross-checked against node:crypto where a value can be.
// (The state × operation table, openssl cross-checks and the bad-input table live elsewhere.)
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, verify as verifySignature, constants } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNothingStored, expectProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

/** A managed object as the API shows it (the fields these tests read). */
interface ObjectJson {
  uid: string;
  objectType: string;
  algorithm?: string;
  length?: number;
  curve?: string;
  usage: string[];
  usageMask: number;
  state: string;
  names: string[];
  initialDate: string;
  activationDate?: string;
  deactivationDate?: string;
  destroyDate?: string;
  compromiseDate?: string;
  revocationReason?: { code: string; message?: string };
  links: { type: string; uid: string }[];
  sensitive: boolean;
  extractable: boolean;
  customAttributes: Record<string, string>;
  namedKey?: { name: string; version: number };
  createdBy: string;
}
interface KeyPairJson {
  privateKey: ObjectJson;
  publicKey: ObjectJson;
}
interface NamedKeyJson {
  name: string;
  algorithm: string;
  currentVersion: number;
  minDecryptionVersion: number;
  rotatePeriodSeconds?: number;
  versions?: { version: number; uid: string; encryptCount: number; decryptCount: number; lastEncryptAt?: string }[];
}
interface BatchItemJson {
  operation: string;
  status: "Success" | "Failed" | "Skipped";
  result?: Record<string, unknown>;
  error?: { code: string; kmipResultReason: string; detail: string; field?: string };
}

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64");
const bytesOf = (text: string) => Buffer.from(text, "base64");

/** Sends a request as `auth` and expects `status`; returns the parsed body. */
async function call<T>(method: "get" | "post" | "put" | "patch" | "delete", path: string, body?: object, status = 200, auth: Record<string, string> = ADMIN): Promise<T> {
  const agent = request(t.app)[method](path).set(auth);
  const res = body === undefined ? await agent : await agent.send(body);
  expect(res.status, `${method.toUpperCase()} ${path} → ${res.status} ${res.text}`).toBe(status);
  return res.body as T;
}

async function createKey(body: object): Promise<ObjectJson> {
  return call<ObjectJson>("post", "/v1/objects", body, 201);
}
async function createPair(body: object): Promise<KeyPairJson> {
  return call<KeyPairJson>("post", "/v1/objects/key-pairs", body, 201);
}
async function getValue(uid: string, format?: string): Promise<{ uid: string; objectType: string; format: string; value: string }> {
  return call("get", `/v1/objects/${uid}/value${format === undefined ? "" : `?format=${format}`}`);
}

describe("Create and the object's metadata", () => {
  it("creates a Pre-Active, non-extractable AES-256 key by default, named in Location", async () => {
    const res = await request(t.app).post("/v1/objects").set(ADMIN).send({ objectType: "SymmetricKey", algorithm: "AES", names: ["create-default"] });
    expect(res.status, res.text).toBe(201);
    const object = res.body as ObjectJson;
    expect(res.headers.location).toBe(`/v1/objects/${object.uid}`);
    expect(object).toMatchObject({ objectType: "SymmetricKey", algorithm: "AES", length: 256, state: "Pre-Active", usage: ["Encrypt", "Decrypt"], usageMask: 12, extractable: false, sensitive: false, names: ["create-default"], links: [], customAttributes: {} });
    expect(object.createdBy).toMatch(/^token:/);
    const fetched = await call<ObjectJson>("get", `/v1/objects/${object.uid}`);
    expect(fetched).toEqual(object);
    for (const secretish of ["key", "value", "keyMaterial", "publicKeySpki", "material"]) expect(fetched).not.toHaveProperty(secretish);
  });

  it("takes usage as KMIP names or as the integer mask, and custom attributes and dates", async () => {
    const byNames = await createKey({ objectType: "SymmetricKey", algorithm: "AES", length: 128, usage: ["Encrypt", "Decrypt", "WrapKey"], activate: true });
    expect(byNames).toMatchObject({ length: 128, usageMask: 0x1c, usage: ["Encrypt", "Decrypt", "WrapKey"], state: "Active" });
    const activationDate = new Date(Date.now() + 3_600_000).toISOString();
    const byMask = await createKey({ objectType: "SymmetricKey", algorithm: "HMAC-SHA384", usageMask: 0x80, activationDate, customAttributes: { "x-team": "payments" } });
    expect(byMask).toMatchObject({ algorithm: "HMAC-SHA384", length: 384, usage: ["MACGenerate"], state: "Pre-Active", activationDate, customAttributes: { "x-team": "payments" } });
    const secret = await createKey({ objectType: "SecretData", length: 512 });
    expect(secret).toMatchObject({ objectType: "SecretData", length: 512, usage: [], usageMask: 0 });
    expect(secret.algorithm).toBeUndefined();
  });
});

describe("Encrypt and Decrypt", () => {
  it("AES-GCM with additional data round-trips, and node:crypto decrypts it with the exported key", async () => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES", activate: true, extractable: true });
    const plaintext = Buffer.from("attack at dawn");
    const aad = Buffer.from("context-1");
    const encrypted = await call<{ uid: string; mode: string; ciphertext: string; iv: string; tag: string }>("post", `/v1/objects/${key.uid}/encrypt`, { plaintext: b64(plaintext), aad: b64(aad) });
    expect(encrypted.mode).toBe("AES-GCM");
    expect(bytesOf(encrypted.iv)).toHaveLength(12);
    expect(bytesOf(encrypted.tag)).toHaveLength(16);
    const decrypted = await call<{ plaintext: string }>("post", `/v1/objects/${key.uid}/decrypt`, { ciphertext: encrypted.ciphertext, iv: encrypted.iv, tag: encrypted.tag, aad: b64(aad) });
    expect(bytesOf(decrypted.plaintext)).toEqual(plaintext);

    const raw = bytesOf((await getValue(key.uid, "raw")).value);
    const decipher = createDecipheriv("aes-256-gcm", raw, bytesOf(encrypted.iv));
    decipher.setAAD(aad);
    decipher.setAuthTag(bytesOf(encrypted.tag));
    expect(Buffer.concat([decipher.update(bytesOf(encrypted.ciphertext)), decipher.final()])).toEqual(plaintext);

    const wrongAad = await request(t.app).post(`/v1/objects/${key.uid}/decrypt`).set(ADMIN).send({ ciphertext: encrypted.ciphertext, iv: encrypted.iv, tag: encrypted.tag, aad: b64("context-2") });
    expect(expectProblem(wrongAad, { status: 400, code: "invalid_input" })).toMatchObject({ kmipResultReason: "Cryptographic Failure" });
  });

  it("AES-CBC pads with PKCS#7 and uses the given IV (node:crypto agrees)", async () => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES", length: 192, activate: true, extractable: true });
    const iv = randomBytes(16);
    const plaintext = Buffer.from("exactly sixteen!"); // one full block: PKCS#7 adds a whole block
    const encrypted = await call<{ ciphertext: string; iv: string; mode: string; tag?: string }>("post", `/v1/objects/${key.uid}/encrypt`, { plaintext: b64(plaintext), mode: "AES-CBC", iv: b64(iv) });
    expect(encrypted).toMatchObject({ mode: "AES-CBC", iv: b64(iv) });
    expect(encrypted.tag).toBeUndefined();
    expect(bytesOf(encrypted.ciphertext)).toHaveLength(32);
    const raw = bytesOf((await getValue(key.uid)).value);
    const cipher = createCipheriv("aes-192-cbc", raw, iv);
    expect(b64(Buffer.concat([cipher.update(plaintext), cipher.final()]))).toBe(encrypted.ciphertext);
    const decrypted = await call<{ plaintext: string }>("post", `/v1/objects/${key.uid}/decrypt`, { ciphertext: encrypted.ciphertext, mode: "AES-CBC", iv: encrypted.iv });
    expect(bytesOf(decrypted.plaintext)).toEqual(plaintext);
  });

  it("RSA-OAEP-SHA256 encrypts with the public key and decrypts with the private key", async () => {
    const pair = await createPair({ algorithm: "RSA", activate: true });
    expect(pair.publicKey.usage).toEqual(["Verify", "Encrypt"]);
    expect(pair.privateKey.usage).toEqual(["Sign", "Decrypt"]);
    const encrypted = await call<{ mode: string; ciphertext: string; iv?: string }>("post", `/v1/objects/${pair.publicKey.uid}/encrypt`, { plaintext: b64("wrapped secret") });
    expect(encrypted.mode).toBe("RSA-OAEP-SHA256");
    expect(encrypted.iv).toBeUndefined();
    expect(bytesOf(encrypted.ciphertext)).toHaveLength(256);
    const decrypted = await call<{ plaintext: string }>("post", `/v1/objects/${pair.privateKey.uid}/decrypt`, { ciphertext: encrypted.ciphertext });
    expect(bytesOf(decrypted.plaintext).toString()).toBe("wrapped secret");
    // Encrypted by node:crypto with the public key from Get (OAEP, SHA-256, MGF1-SHA-256).
    const spki = bytesOf((await getValue(pair.publicKey.uid)).value);
    const local = publicEncrypt({ key: createPublicKey({ key: spki, format: "der", type: "spki" }), oaepHash: "sha256", padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from("from node"));
    const fromNode = await call<{ plaintext: string }>("post", `/v1/objects/${pair.privateKey.uid}/decrypt`, { ciphertext: b64(local), mode: "RSA-OAEP-SHA256" });
    expect(bytesOf(fromNode.plaintext).toString()).toBe("from node");
  });
});

describe("MAC and MAC Verify", () => {
  it.each([
    ["HMAC-SHA256", "sha256", 32],
    ["HMAC-SHA512", "sha512", 64],
  ] as const)("%s matches node:crypto, verifies, and rejects a changed MAC", async (algorithm, hash, bytes) => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm, activate: true, extractable: true });
    const data = Buffer.from("message to authenticate");
    const { mac } = await call<{ mac: string }>("post", `/v1/objects/${key.uid}/mac`, { data: b64(data) });
    expect(bytesOf(mac)).toHaveLength(bytes);
    const raw = bytesOf((await getValue(key.uid)).value);
    expect(mac).toBe(createHmac(hash, raw).update(data).digest("base64"));
    expect(await call("post", `/v1/objects/${key.uid}/mac-verify`, { data: b64(data), mac })).toEqual({ uid: key.uid, valid: true });
    const changed = bytesOf(mac);
    changed[0] = (changed[0] ?? 0) ^ 1;
    expect(await call("post", `/v1/objects/${key.uid}/mac-verify`, { data: b64(data), mac: b64(changed) })).toEqual({ uid: key.uid, valid: false });
  });
});

describe("Sign and Signature Verify", () => {
  it.each([
    ["RSA", {}, undefined, "RSA-PSS-SHA256"],
    ["RSA", {}, "RSA-PKCS1-SHA256", "RSA-PKCS1-SHA256"],
    ["EC", { length: 256 }, undefined, "ECDSA-SHA256"],
    ["EC", { length: 384 }, undefined, "ECDSA-SHA384"],
    ["Ed25519", {}, undefined, "Ed25519"],
  ] as const)("%s %j signs (%s → %s); the API and node:crypto verify; a changed message does not", async (algorithm, extra, requested, expected) => {
    const pair = await createPair({ algorithm, activate: true, ...extra });
    const data = Buffer.from(`signed by ${algorithm}`);
    const signed = await call<{ signature: string; algorithm: string }>("post", `/v1/objects/${pair.privateKey.uid}/sign`, { data: b64(data), ...(requested === undefined ? {} : { algorithm: requested }) });
    expect(signed.algorithm).toBe(expected);
    const verified = await call<{ valid: boolean }>("post", `/v1/objects/${pair.publicKey.uid}/verify`, { data: b64(data), signature: signed.signature, algorithm: expected });
    expect(verified.valid).toBe(true);
    const tampered = await call<{ valid: boolean }>("post", `/v1/objects/${pair.publicKey.uid}/verify`, { data: b64("another message"), signature: signed.signature, algorithm: expected });
    expect(tampered.valid).toBe(false);

    const publicKey = createPublicKey((await getValue(pair.publicKey.uid, "pem")).value);
    const hash = expected === "Ed25519" ? null : expected.endsWith("384") ? "sha384" : "sha256";
    const padding = expected === "RSA-PSS-SHA256" ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : {};
    expect(verifySignature(hash, data, { key: publicKey, ...padding }, bytesOf(signed.signature))).toBe(true);
  });
});

describe("Register and Get in every format", () => {
  it("a symmetric key registered raw comes back raw and as a JWK; one registered as a JWK comes back raw", async () => {
    const raw = randomBytes(32);
    const registered = await call<ObjectJson>("post", "/v1/objects/register", { objectType: "SymmetricKey", algorithm: "AES", format: "raw", value: b64(raw), extractable: true }, 201);
    expect(registered).toMatchObject({ objectType: "SymmetricKey", algorithm: "AES", length: 256, state: "Pre-Active" });
    expect(await getValue(registered.uid)).toEqual({ uid: registered.uid, objectType: "SymmetricKey", format: "raw", value: b64(raw) });
    expect(JSON.parse((await getValue(registered.uid, "jwk")).value)).toEqual({ kty: "oct", k: raw.toString("base64url") });
    const fromJwk = await call<ObjectJson>("post", "/v1/objects/register", { objectType: "SymmetricKey", algorithm: "HMAC-SHA256", format: "jwk", value: JSON.stringify({ kty: "oct", k: raw.toString("base64url") }), extractable: true }, 201);
    expect((await getValue(fromJwk.uid, "raw")).value).toBe(b64(raw));
    const secret = await call<ObjectJson>("post", "/v1/objects/register", { objectType: "SecretData", format: "raw", value: b64("a password"), extractable: true }, 201);
    expect(bytesOf((await getValue(secret.uid)).value).toString()).toBe("a password");
  });

  const privateKeys = {
    RSA: () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
    EC: () => generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey,
    Ed25519: () => generateKeyPairSync("ed25519").privateKey,
  };

  it.each(Object.keys(privateKeys) as (keyof typeof privateKeys)[])("a %s private key registered as PEM, PKCS#8 and JWK comes back identical as pkcs8, pem and jwk", async (name) => {
    const key = privateKeys[name]();
    const pkcs8 = key.export({ type: "pkcs8", format: "der" });
    const inputs = [
      { format: "pem", value: key.export({ type: "pkcs8", format: "pem" }).toString() },
      { format: "pkcs8", value: b64(pkcs8) },
      { format: "jwk", value: JSON.stringify(key.export({ format: "jwk" })) },
    ];
    for (const input of inputs) {
      const object = await call<ObjectJson>("post", "/v1/objects/register", { objectType: "PrivateKey", ...input, extractable: true }, 201);
      expect(object.algorithm, input.format).toBe(name);
      expect(await getValue(object.uid)).toMatchObject({ format: "pkcs8", value: b64(pkcs8) });
      expect(createPrivateKey((await getValue(object.uid, "pem")).value).export({ type: "pkcs8", format: "der" })).toEqual(pkcs8);
      const jwk = JSON.parse((await getValue(object.uid, "jwk")).value) as Record<string, string>;
      expect(createPrivateKey({ key: jwk, format: "jwk" }).export({ type: "pkcs8", format: "der" })).toEqual(pkcs8);
    }
  });

  // Regression test: registering a public key once failed (SPKI of an already-public key).
  it("a public key registered as SPKI, PEM and JWK comes back as spki, pem and jwk, though never extractable-flagged", async () => {
    const publicKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    const spki = publicKey.export({ type: "spki", format: "der" });
    for (const input of [
      { format: "spki", value: b64(spki) },
      { format: "pem", value: publicKey.export({ type: "spki", format: "pem" }).toString() },
      { format: "jwk", value: JSON.stringify(publicKey.export({ format: "jwk" })) },
    ]) {
      const object = await call<ObjectJson>("post", "/v1/objects/register", { objectType: "PublicKey", ...input }, 201);
      expect(object).toMatchObject({ objectType: "PublicKey", algorithm: "EC", curve: "P-256", extractable: false });
      expect((await getValue(object.uid)).value).toBe(b64(spki));
      expect(createPublicKey((await getValue(object.uid, "pem")).value).export({ type: "spki", format: "der" })).toEqual(spki);
      expect(JSON.parse((await getValue(object.uid, "jwk")).value)).toEqual(publicKey.export({ format: "jwk" }));
    }
  });

  it("Get refuses a non-extractable key (403 Not Extractable) and a sensitive one (403 Sensitive)", async () => {
    const closed = await createKey({ objectType: "SymmetricKey", algorithm: "AES" });
    const notExtractable = await request(t.app).get(`/v1/objects/${closed.uid}/value`).set(ADMIN);
    expect(expectProblem(notExtractable, { status: 403, code: "permission_denied" })).toMatchObject({ kmipResultReason: "Not Extractable" });
    const sensitive = await createKey({ objectType: "SymmetricKey", algorithm: "AES", extractable: true, sensitive: true });
    const refused = await request(t.app).get(`/v1/objects/${sensitive.uid}/value`).set(ADMIN);
    expect(expectProblem(refused, { status: 403, code: "permission_denied" })).toMatchObject({ kmipResultReason: "Sensitive" });
  });
});

describe("attributes", () => {
  it("Add, Modify and Delete Attribute on Name and custom attributes; Get Attributes and Get Attribute List use KMIP names", async () => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES", names: ["attr-key"] });
    const base = `/v1/objects/${key.uid}`;
    await call("post", `${base}/attributes`, { name: "Name", value: "attr-key-2" });
    const added = await call<ObjectJson>("post", `${base}/attributes`, { name: "x-owner", value: "alice" });
    expect(added.names).toEqual(["attr-key", "attr-key-2"]);
    expect(added.customAttributes).toEqual({ "x-owner": "alice" });

    const all = await call<{ uid: string; attributes: Record<string, unknown> }>("get", `${base}/attributes`);
    expect(all.attributes).toMatchObject({ "Unique Identifier": key.uid, "Object Type": "SymmetricKey", "Cryptographic Algorithm": "AES", "Cryptographic Length": 256, "Cryptographic Usage Mask": 12, State: "Pre-Active", Name: ["attr-key", "attr-key-2"], Extractable: false, "x-owner": "alice" });
    const some = await call<{ attributes: Record<string, unknown> }>("get", `${base}/attributes?name=State&name=x-owner&name=Destroy%20Date`);
    expect(some.attributes).toEqual({ State: "Pre-Active", "x-owner": "alice" });
    const one = await call<{ attributes: Record<string, unknown> }>("get", `${base}/attributes?name=Name`);
    expect(one.attributes).toEqual({ Name: ["attr-key", "attr-key-2"] });
    const list = await call<{ names: string[] }>("get", `${base}/attribute-list`);
    expect(list.names).toEqual(expect.arrayContaining(["Unique Identifier", "State", "Name", "Initial Date", "x-owner"]));
    expect(list.names).not.toContain("Activation Date");

    await call("put", `${base}/attributes/x-owner`, { value: "bob" });
    const renamed = await call<ObjectJson>("put", `${base}/attributes/Name`, { value: "attr-key-renamed", current: "attr-key" });
    expect(renamed.names).toEqual(["attr-key-renamed", "attr-key-2"]);
    expect(renamed.customAttributes).toEqual({ "x-owner": "bob" });
    const activationDate = new Date(Date.now() + 86_400_000).toISOString();
    expect((await call<ObjectJson>("put", `${base}/attributes/Activation%20Date`, { value: activationDate })).activationDate).toBe(activationDate);
    expect((await call<ObjectJson>("put", `${base}/attributes/Extractable`, { value: "false" })).extractable).toBe(false);

    await call("delete", `${base}/attributes/x-owner`);
    const afterDelete = await call<ObjectJson>("delete", `${base}/attributes/Name?value=attr-key-2`);
    expect(afterDelete.names).toEqual(["attr-key-renamed"]);
    expect(afterDelete.customAttributes).toEqual({});
  });

  it("a server-managed attribute is 422 Read Only Attribute and changes nothing", async () => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES" });
    const res = await expectNothingStored(t, () => request(t.app).put(`/v1/objects/${key.uid}/attributes/Cryptographic%20Length`).set(ADMIN).send({ value: "128" }));
    expect(expectProblem(res, { status: 422, code: "policy_violation", field: "name" })).toMatchObject({ kmipResultReason: "Read Only Attribute" });
    expect((await call<ObjectJson>("get", `/v1/objects/${key.uid}`)).length).toBe(256);
    const turnOn = await request(t.app).put(`/v1/objects/${key.uid}/attributes/Extractable`).set(ADMIN).send({ value: "true" });
    expect(expectProblem(turnOn, { status: 422, code: "policy_violation" })).toMatchObject({ kmipResultReason: "Read Only Attribute" });
  });
});

describe("Locate", () => {
  const tag = `locate-${Date.now()}`;
  let created: ObjectJson[] = [];
  beforeAll(async () => {
    created = [
      await createKey({ objectType: "SymmetricKey", algorithm: "AES", names: [`${tag}-a`], customAttributes: { "x-locate": tag } }),
      await createKey({ objectType: "SymmetricKey", algorithm: "AES", activate: true, customAttributes: { "x-locate": tag } }),
      await createKey({ objectType: "SymmetricKey", algorithm: "HMAC-SHA256", activate: true, customAttributes: { "x-locate": tag } }),
      await createKey({ objectType: "SecretData", customAttributes: { "x-locate": tag } }),
      await createKey({ objectType: "SymmetricKey", algorithm: "AES", activationDate: new Date(Date.now() + 86_400_000).toISOString(), customAttributes: { "x-locate": tag } }),
    ];
  });
  const locate = async (query: string) => (await call<{ items: ObjectJson[]; nextCursor?: string }>("get", `/v1/objects?attributeName=x-locate&attributeValue=${tag}&${query}`)).items.map((o) => o.uid);
  const uids = (...indexes: number[]) => indexes.map((i) => created[i]?.uid);

  it("filters by custom attribute, name, object type, algorithm and effective state", async () => {
    expect(await locate("")).toEqual(uids(0, 1, 2, 3, 4));
    expect((await call<{ items: ObjectJson[] }>("get", `/v1/objects?name=${tag}-a`)).items.map((o) => o.uid)).toEqual(uids(0));
    expect(await locate("objectType=SecretData")).toEqual(uids(3));
    expect(await locate("algorithm=AES")).toEqual(uids(0, 1, 4));
    expect(await locate("state=Active")).toEqual(uids(1, 2));
    expect(await locate("state=Pre-Active")).toEqual(uids(0, 3, 4));
    expect(await locate("state=Pre-Active&algorithm=AES")).toEqual(uids(0, 4));
  });

  it("filters by date ranges (from inclusive, to exclusive)", async () => {
    const first = created[0]?.initialDate ?? "";
    const last = created[4]?.initialDate ?? "";
    expect(await locate(`initialDateFrom=${encodeURIComponent(first)}`)).toEqual(uids(0, 1, 2, 3, 4));
    expect(await locate(`initialDateTo=${encodeURIComponent(first)}`)).toEqual([]);
    expect(await locate(`activationDateFrom=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).toEqual(uids(4));
    expect(await locate(`activationDateTo=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual(uids(1, 2));
    expect((await locate(`initialDateFrom=${encodeURIComponent(last)}`)).at(-1)).toBe(created[4]?.uid);
  });

  it("pages with limit and cursor, every object once", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call<{ items: ObjectJson[]; nextCursor?: string }>("get", `/v1/objects?attributeName=x-locate&attributeValue=${tag}&limit=2${cursor === undefined ? "" : `&cursor=${cursor}`}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.uid));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(uids(0, 1, 2, 3, 4));
  });
});

describe("the lifecycle: Activate, Revoke, Destroy", () => {
  it("Activate, then Revoke (Superseded) deactivates: decrypt still works, encrypt does not; Destroy erases", async () => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES", extractable: true });
    const base = `/v1/objects/${key.uid}`;
    const beforeActivation = await request(t.app).post(`${base}/encrypt`).set(ADMIN).send({ plaintext: b64("x") });
    expect(expectProblem(beforeActivation, { status: 409, code: "wrong_state" })).toMatchObject({ kmipResultReason: "Wrong Key Lifecycle State" });
    expect((await call<ObjectJson>("post", `${base}/activate`)).state).toBe("Active");
    const activeDestroy = await expectNothingStored(t, () => request(t.app).delete(base).set(ADMIN));
    expectProblem(activeDestroy, { status: 409, code: "wrong_state", detail: "revoke" });
    const encrypted = await call<{ ciphertext: string; iv: string; tag: string }>("post", `${base}/encrypt`, { plaintext: b64("kept readable") });

    const revoked = await call<ObjectJson>("post", `${base}/revoke`, { reason: "Superseded", message: "replaced by a newer key" });
    expect(revoked).toMatchObject({ state: "Deactivated", revocationReason: { code: "Superseded", message: "replaced by a newer key" } });
    expect(revoked.deactivationDate).toBeDefined();
    expectProblem(await request(t.app).post(`${base}/encrypt`).set(ADMIN).send({ plaintext: b64("x") }), { status: 409, code: "wrong_state" });
    const decrypted = await call<{ plaintext: string }>("post", `${base}/decrypt`, { ciphertext: encrypted.ciphertext, iv: encrypted.iv, tag: encrypted.tag });
    expect(bytesOf(decrypted.plaintext).toString()).toBe("kept readable");

    const destroyed = await call<ObjectJson>("delete", base);
    expect(destroyed.state).toBe("Destroyed");
    expect(destroyed.destroyDate).toBeDefined();
    expect((await call<ObjectJson>("get", base)).state).toBe("Destroyed");
    const value = await request(t.app).get(`${base}/value`).set(ADMIN);
    expect(expectProblem(value, { status: 409, code: "wrong_state" })).toMatchObject({ kmipResultReason: "Object Destroyed" });
    expect((await call<{ attributes: Record<string, unknown> }>("get", `${base}/attributes?name=State`)).attributes).toEqual({ State: "Destroyed" });
  });

  it("Revoke with KeyCompromise makes the object Compromised with its compromise dates; Destroy then makes it Destroyed Compromised", async () => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES" });
    const occurred = "2026-01-02T03:04:05.000Z";
    const compromised = await call<ObjectJson & { compromiseOccurrenceDate?: string }>("post", `/v1/objects/${key.uid}/revoke`, { reason: "KeyCompromise", compromiseOccurrenceDate: occurred });
    expect(compromised).toMatchObject({ state: "Compromised", compromiseOccurrenceDate: occurred, revocationReason: { code: "KeyCompromise" } });
    expect(compromised.compromiseDate).toBeDefined();
    expect((await call<ObjectJson>("delete", `/v1/objects/${key.uid}`)).state).toBe("Destroyed Compromised");
  });
});

describe("Re-key and Re-key Key Pair", () => {
  it("Re-key makes a linked replacement that takes the names; with offsetSeconds it activates later", async () => {
    const old = await createKey({ objectType: "SymmetricKey", algorithm: "AES", activate: true, names: ["rekeyed"] });
    const res = await request(t.app).post(`/v1/objects/${old.uid}/rekey`).set(ADMIN);
    expect(res.status, res.text).toBe(201);
    const replacement = res.body as ObjectJson;
    expect(res.headers.location).toBe(`/v1/objects/${replacement.uid}`);
    expect(replacement).toMatchObject({ objectType: "SymmetricKey", algorithm: "AES", length: 256, state: "Active", names: ["rekeyed"], links: [{ type: "ReplacedObjectLink", uid: old.uid }] });
    const oldNow = await call<ObjectJson>("get", `/v1/objects/${old.uid}`);
    expect(oldNow.names).toEqual([]);
    expect(oldNow.links).toEqual([{ type: "ReplacementObjectLink", uid: replacement.uid }]);

    const later = await call<ObjectJson>("post", `/v1/objects/${replacement.uid}/rekey`, { offsetSeconds: 3600 }, 201);
    expect(later.state).toBe("Pre-Active");
    expect(Date.parse(later.activationDate ?? "") - Date.now()).toBeGreaterThan(3_500_000);
  });

  it("Re-key Key Pair replaces both halves, linked to each other and to their predecessors", async () => {
    const old = await createPair({ algorithm: "EC", activate: true, names: ["pair"] });
    const next = await call<KeyPairJson>("post", `/v1/objects/${old.privateKey.uid}/rekey-key-pair`, undefined, 201);
    expect(next.privateKey.links).toEqual(expect.arrayContaining([{ type: "ReplacedObjectLink", uid: old.privateKey.uid }, { type: "PublicKeyLink", uid: next.publicKey.uid }]));
    expect(next.publicKey.links).toEqual(expect.arrayContaining([{ type: "ReplacedObjectLink", uid: old.publicKey.uid }, { type: "PrivateKeyLink", uid: next.privateKey.uid }]));
    expect((await call<ObjectJson>("get", `/v1/objects/${old.publicKey.uid}`)).links).toContainEqual({ type: "ReplacementObjectLink", uid: next.publicKey.uid });
    const data = b64("after re-key");
    const { signature } = await call<{ signature: string }>("post", `/v1/objects/${next.privateKey.uid}/sign`, { data });
    expect((await call<{ valid: boolean }>("post", `/v1/objects/${next.publicKey.uid}/verify`, { data, signature })).valid).toBe(true);
    expect((await call<{ valid: boolean }>("post", `/v1/objects/${old.publicKey.uid}/verify`, { data, signature })).valid).toBe(false);
  });
});

describe("RNG Retrieve", () => {
  it("returns the requested number of random bytes, different each time", async () => {
    const first = await call<{ data: string }>("post", "/v1/rng", { lengthBytes: 32 });
    const second = await call<{ data: string }>("post", "/v1/rng", { lengthBytes: 32 });
    expect(bytesOf(first.data)).toHaveLength(32);
    expect(first.data).not.toBe(second.data);
  });
});

describe("named keys (encryption as a service)", () => {
  it("encrypt, rotate, decrypt the old version, rewrap, data keys, minimum decryption version, per-version use", async () => {
    const created = await call<NamedKeyJson>("post", "/v1/keys", { name: "app-secrets" }, 201);
    expect(created).toMatchObject({ name: "app-secrets", algorithm: "AES-256-GCM", currentVersion: 1, minDecryptionVersion: 1 });
    const context = b64("tenant-42");
    const v1 = await call<{ ciphertext: string }>("post", "/v1/keys/app-secrets/encrypt", { plaintext: b64("first secret"), context });
    expect(v1.ciphertext).toMatch(/^kpki:v1:app-secrets:1:/);

    expect((await call<NamedKeyJson>("post", "/v1/keys/app-secrets/rotate")).currentVersion).toBe(2);
    const v2 = await call<{ ciphertext: string }>("post", "/v1/keys/app-secrets/encrypt", { plaintext: b64("second secret") });
    expect(v2.ciphertext).toMatch(/^kpki:v1:app-secrets:2:/);
    expect(bytesOf((await call<{ plaintext: string }>("post", "/v1/keys/app-secrets/decrypt", { ciphertext: v1.ciphertext, context })).plaintext).toString()).toBe("first secret");
    const withoutContext = await request(t.app).post("/v1/keys/app-secrets/decrypt").set(ADMIN).send({ ciphertext: v1.ciphertext });
    expect(expectProblem(withoutContext, { status: 400, code: "invalid_input" })).toMatchObject({ kmipResultReason: "Cryptographic Failure" });

    const rewrapped = await call<{ ciphertext: string }>("post", "/v1/keys/app-secrets/rewrap", { ciphertext: v1.ciphertext, context });
    expect(rewrapped.ciphertext).toMatch(/^kpki:v1:app-secrets:2:/);
    expect(bytesOf((await call<{ plaintext: string }>("post", "/v1/keys/app-secrets/decrypt", { ciphertext: rewrapped.ciphertext, context })).plaintext).toString()).toBe("first secret");

    const dataKey = await call<{ ciphertext: string; plaintext: string }>("post", "/v1/keys/app-secrets/datakey", { bits: 128 });
    expect(bytesOf(dataKey.plaintext)).toHaveLength(16);
    expect((await call<{ plaintext: string }>("post", "/v1/keys/app-secrets/decrypt", { ciphertext: dataKey.ciphertext })).plaintext).toBe(dataKey.plaintext);
    const wrappedOnly = await call<{ ciphertext: string; plaintext?: string }>("post", "/v1/keys/app-secrets/datakey", { wrappedOnly: true });
    expect(wrappedOnly.plaintext).toBeUndefined();
    expect(bytesOf((await call<{ plaintext: string }>("post", "/v1/keys/app-secrets/decrypt", { ciphertext: wrappedOnly.ciphertext })).plaintext)).toHaveLength(32);

    // Version 1 decrypted just now: retiring it is refused (its data is still read) unless forced.
    const guarded = await request(t.app).patch("/v1/keys/app-secrets").set(ADMIN).send({ minDecryptionVersion: 2, rotatePeriodSeconds: 86_400 });
    expect(expectProblem(guarded, { status: 409, code: "conflict", detail: /version 1 decrypted 2 times, last at .* within the last 30 days/, field: "minDecryptionVersion" })).toMatchObject({ kmipResultReason: "Illegal Operation" });
    expect((await call<NamedKeyJson>("get", "/v1/keys/app-secrets")).minDecryptionVersion).toBe(1);
    const updated = await call<NamedKeyJson>("patch", "/v1/keys/app-secrets?force=true", { minDecryptionVersion: 2, rotatePeriodSeconds: 86_400 });
    expect(updated).toMatchObject({ minDecryptionVersion: 2, rotatePeriodSeconds: 86_400 });
    const tooOld = await request(t.app).post("/v1/keys/app-secrets/decrypt").set(ADMIN).send({ ciphertext: v1.ciphertext, context });
    expect(expectProblem(tooOld, { status: 422, code: "policy_violation" })).toMatchObject({ kmipResultReason: "Permission Denied" });
    expect((await call<NamedKeyJson>("patch", "/v1/keys/app-secrets", { rotatePeriodSeconds: null })).rotatePeriodSeconds).toBeUndefined();

    expect((await call<{ items: NamedKeyJson[] }>("get", "/v1/keys")).items.map((k) => k.name)).toContain("app-secrets");
    // Uses are counted in memory and written every few seconds: wait for them.
    let details: NamedKeyJson | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      details = await call<NamedKeyJson>("get", "/v1/keys/app-secrets");
      if ((details.versions?.[1]?.encryptCount ?? 0) >= 4) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(details?.versions?.map((v) => v.version)).toEqual([1, 2]);
    expect(details?.versions?.[0]).toMatchObject({ encryptCount: 1, decryptCount: 2 });
    expect(details?.versions?.[1]).toMatchObject({ encryptCount: 4, decryptCount: 3 });
    const v1Object = await call<ObjectJson>("get", `/v1/objects/${details?.versions?.[0]?.uid ?? ""}`);
    expect(v1Object).toMatchObject({ state: "Deactivated", extractable: false, namedKey: { name: "app-secrets", version: 1 } });
  });

  it("refuses a ciphertext of another named key sent to this key's path", async () => {
    await call("post", "/v1/keys", { name: "other-key", algorithm: "AES-128-GCM" }, 201);
    await call("post", "/v1/keys", { name: "this-key" }, 201);
    const { ciphertext } = await call<{ ciphertext: string }>("post", "/v1/keys/other-key/encrypt", { plaintext: b64("x") });
    const res = await request(t.app).post("/v1/keys/this-key/decrypt").set(ADMIN).send({ ciphertext });
    expect(expectProblem(res, { status: 400, code: "invalid_input", field: "ciphertext", detail: "other-key" })).toMatchObject({ kmipResultReason: "Invalid Field" });
  });

  it("a name that is taken is 409 Object Already Exists, storing nothing", async () => {
    await call("post", "/v1/keys", { name: "taken-key" }, 201);
    const res = await expectNothingStored(t, () => request(t.app).post("/v1/keys").set(ADMIN).send({ name: "taken-key" }));
    expect(expectProblem(res, { status: 409, code: "already_exists" })).toMatchObject({ kmipResultReason: "Object Already Exists" });
  });
});

describe("batch", () => {
  it("runs items in order, passing the ID Placeholder from item to item", async () => {
    const body = await call<{ items: BatchItemJson[] }>("post", "/v1/batch", {
      items: [
        { operation: "Create", objectType: "SymmetricKey", algorithm: "AES", names: ["batch-key"] },
        { operation: "AddAttribute", name: "x-batch", value: "yes" },
        { operation: "Activate" },
        { operation: "Encrypt", plaintext: b64("in a batch") },
        { operation: "GetAttributes", names: ["State", "x-batch"] },
        { operation: "RNGRetrieve", lengthBytes: 8 },
      ],
    });
    expect(body.items.map((item) => [item.operation, item.status])).toEqual([
      ["Create", "Success"],
      ["AddAttribute", "Success"],
      ["Activate", "Success"],
      ["Encrypt", "Success"],
      ["GetAttributes", "Success"],
      ["RNGRetrieve", "Success"],
    ]);
    const uid = body.items[0]?.result?.uid as string;
    expect(body.items[2]?.result).toMatchObject({ uid, state: "Active" });
    const encrypted = body.items[3]?.result as { uid: string; ciphertext: string; iv: string; tag: string };
    expect(encrypted.uid).toBe(uid);
    expect(body.items[4]?.result).toEqual({ uid, attributes: { State: "Active", "x-batch": "yes" } });
    expect(bytesOf((body.items[5]?.result as { data: string }).data)).toHaveLength(8);
    const decrypted = await call<{ plaintext: string }>("post", `/v1/objects/${uid}/decrypt`, { ciphertext: encrypted.ciphertext, iv: encrypted.iv, tag: encrypted.tag });
    expect(bytesOf(decrypted.plaintext).toString()).toBe("in a batch");
  });

  it("onError stop: the failing item reports its KMIP reason and the rest are skipped; continue runs them", async () => {
    const items = [
      { operation: "Create", objectType: "SymmetricKey", algorithm: "AES" },
      { operation: "Encrypt", plaintext: b64("too early") },
      { operation: "Activate" },
    ];
    const stopped = await call<{ items: BatchItemJson[] }>("post", "/v1/batch", { items, onError: "stop" });
    expect(stopped.items.map((item) => item.status)).toEqual(["Success", "Failed", "Skipped"]);
    expect(stopped.items[1]?.error).toMatchObject({ code: "wrong_state", kmipResultReason: "Wrong Key Lifecycle State" });
    const stoppedUid = stopped.items[0]?.result?.uid as string;
    expect((await call<ObjectJson>("get", `/v1/objects/${stoppedUid}`)).state).toBe("Pre-Active");

    const continued = await call<{ items: BatchItemJson[] }>("post", "/v1/batch", { items });
    expect(continued.items.map((item) => item.status)).toEqual(["Success", "Failed", "Success"]);
    expect(continued.items[2]?.result).toMatchObject({ state: "Active" });
  });

  it("authorizes each item as its own endpoint: an operator cannot Get a value, a reader cannot Create", async () => {
    const operator = await call<{ token: string }>("post", "/v1/tokens", { name: "batch-operator", role: "operator" }, 201);
    const reader = await call<{ token: string }>("post", "/v1/tokens", { name: "batch-reader", role: "reader" }, 201);
    const asOperator = { Authorization: `Bearer ${operator.token}` };
    const asReader = { Authorization: `Bearer ${reader.token}` };
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "AES", extractable: true });

    const operatorBatch = await call<{ items: BatchItemJson[] }>("post", "/v1/batch", { items: [{ operation: "GetAttributeList", uid: key.uid }, { operation: "Get", uid: key.uid }] }, 200, asOperator);
    expect(operatorBatch.items.map((item) => item.status)).toEqual(["Success", "Failed"]);
    expect(operatorBatch.items[1]?.error).toMatchObject({ code: "permission_denied", kmipResultReason: "Permission Denied" });
    expect(operatorBatch.items[1]?.error?.detail).toContain("key.export");
    expectProblem(await request(t.app).get(`/v1/objects/${key.uid}/value`).set(asOperator), { status: 403, code: "permission_denied", detail: "key.export" });

    const readerBatch = await expectNothingStored(t, () =>
      request(t.app)
        .post("/v1/batch")
        .set(asReader)
        .send({ items: [{ operation: "Create", objectType: "SymmetricKey", algorithm: "AES" }, { operation: "Locate", name: "batch-key" }] }),
    );
    expect(readerBatch.status, readerBatch.text).toBe(200);
    const readerItems = (readerBatch.body as { items: BatchItemJson[] }).items;
    expect(readerItems.map((item) => item.status)).toEqual(["Failed", "Success"]);
    expect(readerItems[0]?.error?.detail).toContain("key.manage");
    expect((readerItems[1]?.result as { items: ObjectJson[] }).items.map((o) => o.names)).toContainEqual(["batch-key"]);
    expectProblem(await request(t.app).post("/v1/objects").set(asReader).send({ objectType: "SymmetricKey", algorithm: "AES" }), { status: 403, code: "permission_denied", detail: "key.manage" });
  });

  it("a malformed item refuses the whole batch before anything runs, naming the item's field", async () => {
    const res = await expectNothingStored(t, () =>
      request(t.app)
        .post("/v1/batch")
        .set(ADMIN)
        .send({ items: [{ operation: "Create", objectType: "SymmetricKey", algorithm: "AES" }, { operation: "MAC", data: "not base64!" }] }),
    );
    expect(expectProblem(res, { status: 400, code: "invalid_input", field: "items.1.data" })).toMatchObject({ kmipResultReason: "Invalid Field" });
  });
});

describe("binary fields", () => {
  it.each([
    ["not base64 at all", "%%%"],
    ["missing padding", "c2FtcGxl2"],
    ["whitespace", "c2Ft cGxl"],
    ["base64url alphabet", "c2F-cGxl"],
    ["stray bits in the last character (canonical: cGw=)", "c2FtcGy="],
  ])("refuses %s with 400 naming the field, storing nothing", async (_name, value) => {
    const key = await createKey({ objectType: "SymmetricKey", algorithm: "HMAC-SHA256", activate: true });
    const res = await expectNothingStored(t, () => request(t.app).post(`/v1/objects/${key.uid}/mac`).set(ADMIN).send({ data: value }));
    expect(expectProblem(res, { status: 400, code: "invalid_input", field: "data" })).toMatchObject({ kmipResultReason: "Invalid Field" });
  });
});

// The KMIP lifecycle, table-driven: every (object kind × state × operation) against the rules of
// KMIP 1.4 §3.22 (the state machine) and §4 (which operations each state allows), over REST, on a
// real database. The expectation comes from the table written below from the specification, not
// from the product's own key-state.ts. A refusal must be 409 with the exact KMIP Result Reason
// and must change nothing: Get Attributes before and after identical, no row written anywhere
// (audit included). The objects reach each state through the API itself (create or register,
// activate, revoke, destroy, or a passed Activation/Deactivation Date).
import { constants, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, sign as signMessage, verify as verifySignature, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import request, { type Response } from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM } from "../../src/core/access/index.js";
import { expectProblem, storedCounts, type Problem, type StoredCounts } from "../helpers/problem.js";
import { ADMIN, startTestRuntimeFlushingByHand, type TestRuntime, type UsageFlush } from "../helpers/runtime.js";

// ---- the KMIP rules, written from the specification ----

type State = "Pre-Active" | "Active" | "Deactivated" | "Compromised" | "Destroyed" | "Destroyed Compromised";
const ALL_STATES: readonly State[] = ["Pre-Active", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed Compromised"];
/** States in which the object (and its key material) still exists. */
const LIVE: readonly State[] = ["Pre-Active", "Active", "Deactivated", "Compromised"];

type Op =
  | "Get"
  | "GetAttributes"
  | "AddAttribute"
  | "ModifyAttribute"
  | "DeleteAttribute"
  | "Activate"
  | "Revoke"
  | "RevokeCompromise"
  | "Destroy"
  | "ReKey"
  | "ReKeyKeyPair"
  | "Encrypt"
  | "Decrypt"
  | "Sign"
  | "SignatureVerify"
  | "MAC"
  | "MACVerify"
  | "Locate";

/**
 * The state transitions of KMIP 1.4 §3.22 (figure 1 and its table): the resulting state of each
 * allowed transition; a state missing from an operation's map refuses it.
 * - Activate (transition 2): only Pre-Active → Active.
 * - Revoke, non-compromise reason (transition 6): only Active → Deactivated.
 * - Revoke with Key Compromise (transitions 3, 5, 8, 10): every live state that is not yet
 *   compromised → Compromised, and Destroyed → Destroyed Compromised.
 * - Destroy (transitions 1, 7, 9): Pre-Active and Deactivated → Destroyed, Compromised → Destroyed
 *   Compromised; an Active object must be revoked first.
 */
const TRANSITIONS: Readonly<Partial<Record<Op, Readonly<Partial<Record<State, State>>>>>> = {
  Activate: { "Pre-Active": "Active" },
  Revoke: { Active: "Deactivated" },
  RevokeCompromise: { "Pre-Active": "Compromised", Active: "Compromised", Deactivated: "Compromised", Destroyed: "Destroyed Compromised" },
  Destroy: { "Pre-Active": "Destroyed", Deactivated: "Destroyed", Compromised: "Destroyed Compromised" },
};

/**
 * The states in which the other operations are allowed (KMIP 1.4 §3.22 and the usage rules of §4):
 * protecting operations (Encrypt, Sign, MAC) only while Active; processing operations (Decrypt,
 * Signature Verify, MAC Verify) also when Deactivated or Compromised, to use data protected before;
 * nothing cryptographic before activation or once the material is destroyed. Get needs the
 * material (live states); metadata (Get Attributes, Locate) outlives Destroy; client attributes
 * and Re-key are for objects that still exist.
 */
const ALLOWED_IN: Readonly<Partial<Record<Op, readonly State[]>>> = {
  Get: LIVE,
  GetAttributes: ALL_STATES,
  AddAttribute: LIVE,
  ModifyAttribute: LIVE,
  DeleteAttribute: LIVE,
  ReKey: LIVE,
  ReKeyKeyPair: LIVE,
  Encrypt: ["Active"],
  Sign: ["Active"],
  MAC: ["Active"],
  Decrypt: ["Active", "Deactivated", "Compromised"],
  SignatureVerify: ["Active", "Deactivated", "Compromised"],
  MACVerify: ["Active", "Deactivated", "Compromised"],
  Locate: ALL_STATES,
};

type Expectation =
  | { readonly allowed: true; readonly resultState?: State }
  | { readonly allowed: false; readonly reason: "Wrong Key Lifecycle State" | "Object Destroyed" };

/** What KMIP says `op` does to an object whose (effective) state is `state`. */
function expectation(op: Op, state: State): Expectation {
  const transitions = TRANSITIONS[op];
  const allowed = transitions === undefined ? (ALLOWED_IN[op] ?? []).includes(state) : transitions[state] !== undefined;
  if (allowed) return transitions === undefined ? { allowed } : { allowed, resultState: transitions[state] };
  // KMIP 2.0 §11: Object Destroyed once the material is gone, Wrong Key Lifecycle State otherwise.
  return { allowed, reason: state === "Destroyed" || state === "Destroyed Compromised" ? "Object Destroyed" : "Wrong Key Lifecycle State" };
}

const isTransition = (op: Op) => TRANSITIONS[op] !== undefined;

// ---- the objects: kinds, and how each state is reached through the API ----

type Kind = "AES" | "HMAC" | "SecretData" | "RSA private" | "RSA public" | "EC private" | "Ed25519 private";
const KINDS: readonly Kind[] = ["AES", "HMAC", "SecretData", "RSA private", "RSA public", "EC private", "Ed25519 private"];

const COMMON: readonly Op[] = ["Get", "GetAttributes", "AddAttribute", "ModifyAttribute", "DeleteAttribute", "Activate", "Revoke", "RevokeCompromise", "Destroy", "Locate"];
/** The operations that apply to each kind (its usage mask and object type admit them). */
const OPS_OF: Readonly<Record<Kind, readonly Op[]>> = {
  AES: [...COMMON, "ReKey", "Encrypt", "Decrypt"],
  HMAC: [...COMMON, "ReKey", "MAC", "MACVerify"],
  SecretData: COMMON,
  "RSA private": [...COMMON, "ReKeyKeyPair", "Sign", "Decrypt"],
  "RSA public": [...COMMON, "Encrypt", "SignatureVerify"],
  "EC private": [...COMMON, "ReKeyKeyPair", "Sign"],
  "Ed25519 private": [...COMMON, "ReKeyKeyPair", "Sign"],
};

type Step = "activate" | "revoke" | "compromise" | "destroy" | "activationDatePassed" | "deactivationDatePassed";

/** One row of the state dimension: how to get there, and the state KMIP says the object is in. */
interface StateCase {
  readonly label: string;
  readonly effective: State;
  readonly steps: readonly Step[];
}

const STATE_CASES: readonly StateCase[] = [
  { label: "Pre-Active", effective: "Pre-Active", steps: [] },
  { label: "Active", effective: "Active", steps: ["activate"] },
  { label: "Deactivated", effective: "Deactivated", steps: ["activate", "revoke"] },
  { label: "Compromised", effective: "Compromised", steps: ["activate", "compromise"] },
  { label: "Destroyed", effective: "Destroyed", steps: ["activate", "revoke", "destroy"] },
  { label: "Destroyed Compromised", effective: "Destroyed Compromised", steps: ["activate", "compromise", "destroy"] },
  // The dates drive the state (KMIP 1.4 §3.22 transitions 2 and 6 by date): no Activate or Revoke call.
  { label: "Pre-Active whose Activation Date has passed", effective: "Active", steps: ["activationDatePassed"] },
  { label: "Active whose Deactivation Date has passed", effective: "Deactivated", steps: ["activate", "deactivationDatePassed"] },
];

// ---- runtime ----

let t: TestRuntime;
let server: Server;
/** Tags the shared objects of this run (custom attribute x-lc), so Locate can find exactly them. */
const RUN_TAG = `lc-${randomBytes(6).toString("hex")}`;

let usage: UsageFlush;

beforeAll(async () => {
  // Counted key uses are written only when a test flushes them (see the helper).
  ({ t, usage } = await startTestRuntimeFlushingByHand());
  // One listening server for every request (supertest would start one per request otherwise).
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  await t?.close();
});

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64");
const bytesOf = (text: string) => Buffer.from(text, "base64");

async function send(method: "get" | "post" | "put" | "delete", path: string, body?: object): Promise<Response> {
  const req = request(server)[method](path).set(ADMIN);
  return body === undefined ? req : req.send(body);
}

async function ok<T>(method: "get" | "post" | "put" | "delete", path: string, body?: object, status = 200): Promise<T> {
  const res = await send(method, path, body);
  expect(res.status, `${method.toUpperCase()} ${path} → ${res.status} ${res.text}`).toBe(status);
  return res.body as T;
}

interface ObjectJson {
  uid: string;
  state: string;
  links: { type: string; uid: string }[];
  customAttributes: Record<string, string>;
}

/** Everything a refused request could have changed: the object's attributes and every table's row count. */
interface Snapshot {
  readonly attributes: Record<string, unknown>;
  readonly counts: StoredCounts;
}

async function snapshot(uid: string): Promise<Snapshot> {
  await usage.flush();
  const [attributes, counts] = await Promise.all([t.runtime.services.objects.getAttributes(uid), storedCounts(t)]);
  return { attributes, counts };
}

// Material made here for the RSA objects (registered: one key generation instead of dozens) and
// for the inputs of the processing operations.
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const RSA_PKCS8 = b64(rsa.privateKey.export({ type: "pkcs8", format: "der" }));
const RSA_SPKI = b64(rsa.publicKey.export({ type: "spki", format: "der" }));
const MESSAGE = Buffer.from("the message of the lifecycle table");
const RSA_PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
const RSA_SIGNATURE = signMessage("sha256", MESSAGE, { key: rsa.privateKey, ...RSA_PSS });
const RSA_CIPHERTEXT = publicEncrypt({ key: rsa.publicKey, oaepHash: "sha256", padding: constants.RSA_PKCS1_OAEP_PADDING }, MESSAGE);

/** An object of the table and what was made with it while it was Active. */
interface Fixture {
  readonly uid: string;
  /** Private keys made by Create Key Pair: the public half, to check signatures. */
  readonly publicKey?: KeyObject;
  /** AES: a GCM ciphertext of MESSAGE. */
  aes?: { ciphertext: string; iv: string; tag: string };
  /** HMAC: the MAC of MESSAGE. */
  mac?: string;
}

let counter = 0;
const next = () => ++counter;

async function create(kind: Kind, tag: string): Promise<Fixture> {
  const attributes = { extractable: true, names: [`${tag}-${next()}`], customAttributes: { "x-lc": tag, "x-probe": "0", "x-del": "1" } };
  switch (kind) {
    case "AES":
      return { uid: (await ok<ObjectJson>("post", "/v1/objects", { objectType: "SymmetricKey", algorithm: "AES", ...attributes }, 201)).uid };
    case "HMAC":
      return { uid: (await ok<ObjectJson>("post", "/v1/objects", { objectType: "SymmetricKey", algorithm: "HMAC-SHA256", ...attributes }, 201)).uid };
    case "SecretData":
      return { uid: (await ok<ObjectJson>("post", "/v1/objects", { objectType: "SecretData", length: 128, ...attributes }, 201)).uid };
    case "RSA private":
      return { uid: (await ok<ObjectJson>("post", "/v1/objects/register", { objectType: "PrivateKey", format: "pkcs8", value: RSA_PKCS8, ...attributes }, 201)).uid, publicKey: rsa.publicKey };
    case "RSA public":
      return { uid: (await ok<ObjectJson>("post", "/v1/objects/register", { objectType: "PublicKey", format: "spki", value: RSA_SPKI, ...attributes }, 201)).uid };
    case "EC private":
    case "Ed25519 private": {
      const pair = await ok<{ privateKey: ObjectJson; publicKey: ObjectJson }>("post", "/v1/objects/key-pairs", { algorithm: kind === "EC private" ? "EC" : "Ed25519", ...attributes }, 201);
      const spki = await ok<{ value: string }>("get", `/v1/objects/${pair.publicKey.uid}/value`);
      return { uid: pair.privateKey.uid, publicKey: createPublicKey({ key: bytesOf(spki.value), format: "der", type: "spki" }) };
    }
  }
}

/** Makes what the processing operations will need later, while the object is (effectively) Active. */
async function recordSamples(kind: Kind, fixture: Fixture): Promise<void> {
  if (kind === "AES") fixture.aes = await ok("post", `/v1/objects/${fixture.uid}/encrypt`, { plaintext: b64(MESSAGE) }).then((r) => pick(r as Record<string, string>, ["ciphertext", "iv", "tag"]));
  if (kind === "HMAC") fixture.mac = (await ok<{ mac: string }>("post", `/v1/objects/${fixture.uid}/mac`, { data: b64(MESSAGE) })).mac;
}

function pick<K extends string>(value: Record<string, string>, keys: readonly K[]): Record<K, string> {
  return Object.fromEntries(keys.map((key) => [key, value[key] ?? ""])) as Record<K, string>;
}

/** An object of `kind` brought into the state of `stateCase` through the API. */
async function build(kind: Kind, stateCase: StateCase, tag: string): Promise<Fixture> {
  const fixture = await create(kind, tag);
  const base = `/v1/objects/${fixture.uid}`;
  for (const step of stateCase.steps) {
    switch (step) {
      case "activate":
        await ok("post", `${base}/activate`);
        await recordSamples(kind, fixture);
        break;
      case "revoke":
        await ok("post", `${base}/revoke`, { reason: "CessationOfOperation" });
        break;
      case "compromise":
        await ok("post", `${base}/revoke`, { reason: "KeyCompromise" });
        break;
      case "destroy":
        await ok("delete", base);
        break;
      case "activationDatePassed":
        await ok("put", `${base}/attributes/Activation%20Date`, { value: new Date(Date.now() - 60_000).toISOString() });
        await recordSamples(kind, fixture);
        break;
      case "deactivationDatePassed":
        await ok("put", `${base}/attributes/Deactivation%20Date`, { value: new Date(Date.now() - 1_000).toISOString() });
        break;
    }
  }
  // The object is where the table says it is, as the API reports it.
  expect((await ok<ObjectJson>("get", base)).state, `${kind} built as ${stateCase.label}`).toBe(stateCase.effective);
  return fixture;
}

/** The shared object of each (kind, state): used by every operation that does not change its state. */
const shared = new Map<string, Fixture>();
const sharedKey = (kind: Kind, stateCase: StateCase) => `${kind}|${stateCase.label}`;
function sharedFixture(kind: Kind, stateCase: StateCase): Fixture {
  const fixture = shared.get(sharedKey(kind, stateCase));
  if (fixture === undefined) throw new Error(`no shared ${kind} in ${stateCase.label}`);
  return fixture;
}

beforeAll(async () => {
  for (const kind of KINDS) for (const stateCase of STATE_CASES) shared.set(sharedKey(kind, stateCase), await build(kind, stateCase, RUN_TAG));
}, 120_000);

/** Runs `op` on the fixture over REST, with inputs that would succeed if the state allowed it. */
function perform(op: Exclude<Op, "Locate">, kind: Kind, fixture: Fixture, marker: string): Promise<Response> {
  const base = `/v1/objects/${fixture.uid}`;
  switch (op) {
    case "Get":
      return send("get", `${base}/value`);
    case "GetAttributes":
      return send("get", `${base}/attributes`);
    case "AddAttribute":
      return send("post", `${base}/attributes`, { name: `x-added-${marker}`, value: marker });
    case "ModifyAttribute":
      return send("put", `${base}/attributes/x-probe`, { value: marker });
    case "DeleteAttribute":
      return send("delete", `${base}/attributes/x-del`);
    case "Activate":
      return send("post", `${base}/activate`);
    case "Revoke":
      return send("post", `${base}/revoke`, { reason: "Superseded" });
    case "RevokeCompromise":
      return send("post", `${base}/revoke`, { reason: "KeyCompromise" });
    case "Destroy":
      return send("delete", base);
    case "ReKey":
      return send("post", `${base}/rekey`);
    case "ReKeyKeyPair":
      return send("post", `${base}/rekey-key-pair`);
    case "Encrypt":
      return send("post", `${base}/encrypt`, { plaintext: b64(MESSAGE) });
    case "Decrypt":
      if (kind === "RSA private") return send("post", `${base}/decrypt`, { ciphertext: b64(RSA_CIPHERTEXT) });
      // Objects never Active have no ciphertext of their own; the state decides before the bytes do.
      return send("post", `${base}/decrypt`, fixture.aes ?? { ciphertext: b64(randomBytes(MESSAGE.length)), iv: b64(randomBytes(12)), tag: b64(randomBytes(16)) });
    case "Sign":
      return send("post", `${base}/sign`, { data: b64(MESSAGE) });
    case "SignatureVerify":
      return send("post", `${base}/verify`, { data: b64(MESSAGE), signature: b64(RSA_SIGNATURE) });
    case "MAC":
      return send("post", `${base}/mac`, { data: b64(MESSAGE) });
    case "MACVerify":
      return send("post", `${base}/mac-verify`, { data: b64(MESSAGE), mac: fixture.mac ?? b64(randomBytes(32)) });
  }
}

/** The checks of an allowed operation: its result, and the state it leaves (KMIP's, from the table). */
async function checkAllowed(op: Exclude<Op, "Locate">, kind: Kind, fixture: Fixture, stateCase: StateCase, res: Response, resultState: State | undefined, marker: string, before: Snapshot | undefined): Promise<void> {
  const body = res.body as Record<string, unknown>;
  expect(res.status, res.text).toBe(op === "ReKey" || op === "ReKeyKeyPair" ? 201 : 200);
  const stateNow = async () => (await ok<ObjectJson>("get", `/v1/objects/${fixture.uid}`)).state;
  switch (op) {
    case "Get":
      expect(body).toMatchObject({ uid: fixture.uid });
      expect(String(body.value).length).toBeGreaterThan(0);
      break;
    case "GetAttributes":
      expect((body.attributes as Record<string, unknown>).State).toBe(stateCase.effective);
      break;
    case "AddAttribute":
      expect((body as unknown as ObjectJson).customAttributes[`x-added-${marker}`]).toBe(marker);
      break;
    case "ModifyAttribute":
      expect((body as unknown as ObjectJson).customAttributes["x-probe"]).toBe(marker);
      break;
    case "DeleteAttribute":
      expect((body as unknown as ObjectJson).customAttributes).not.toHaveProperty("x-del");
      break;
    case "Activate":
    case "Revoke":
    case "RevokeCompromise":
    case "Destroy": {
      expect(body.state).toBe(resultState);
      expect(await stateNow()).toBe(resultState);
      // A state change is audited in its own transaction.
      expect((await storedCounts(t)).auditEvents).toBeGreaterThan(before?.counts.auditEvents ?? Number.POSITIVE_INFINITY);
      return;
    }
    case "ReKey":
      expect((body as unknown as ObjectJson).links).toContainEqual({ type: "ReplacedObjectLink", uid: fixture.uid });
      expect((await ok<ObjectJson>("get", `/v1/objects/${fixture.uid}`)).links).toContainEqual({ type: "ReplacementObjectLink", uid: (body as unknown as ObjectJson).uid });
      break;
    case "ReKeyKeyPair":
      expect((body.privateKey as ObjectJson).links).toContainEqual({ type: "ReplacedObjectLink", uid: fixture.uid });
      break;
    case "Encrypt":
      if (kind === "RSA public") {
        const plaintext = privateDecrypt({ key: rsa.privateKey, oaepHash: "sha256", padding: constants.RSA_PKCS1_OAEP_PADDING }, bytesOf(String(body.ciphertext)));
        expect(plaintext).toEqual(MESSAGE);
      } else {
        expect(bytesOf(String(body.ciphertext))).toHaveLength(MESSAGE.length);
      }
      break;
    case "Decrypt":
      expect(bytesOf(String(body.plaintext))).toEqual(MESSAGE);
      break;
    case "Sign": {
      const key = fixture.publicKey;
      if (key === undefined) throw new Error("no public key to check the signature with");
      const options = kind === "RSA private" ? { key, ...RSA_PSS } : { key };
      expect(verifySignature(kind === "Ed25519 private" ? null : "sha256", MESSAGE, options, bytesOf(String(body.signature)))).toBe(true);
      break;
    }
    case "SignatureVerify":
    case "MACVerify":
      expect(body.valid).toBe(true);
      break;
    case "MAC":
      expect(body.mac).toBe(fixture.mac);
      break;
  }
  // Operations other than the transitions leave the state as it was.
  expect(await stateNow()).toBe(stateCase.effective);
}

/** Locate by each state, once: the uids found with this run's tag. */
const located = new Map<State, Promise<Set<string>>>();
function locate(state: State): Promise<Set<string>> {
  let found = located.get(state);
  if (found === undefined) {
    found = ok<{ items: { uid: string }[]; nextCursor?: string }>("get", `/v1/objects?attributeName=x-lc&attributeValue=${RUN_TAG}&state=${encodeURIComponent(state)}&limit=500`).then((page) => {
      expect(page.nextCursor).toBeUndefined();
      return new Set(page.items.map((item) => item.uid));
    });
    located.set(state, found);
  }
  return found;
}

const describeExpectation = (e: Expectation) => (e.allowed ? (e.resultState === undefined ? "allowed" : `allowed → ${e.resultState}`) : `refused (${e.reason})`);

for (const kind of KINDS) {
  describe(kind, () => {
    for (const stateCase of STATE_CASES) {
      describe(stateCase.label, () => {
        for (const op of OPS_OF[kind]) {
          const e = expectation(op, stateCase.effective);
          it(`${op}: ${describeExpectation(e)}`, async () => {
            if (op === "Locate") {
              const { uid } = sharedFixture(kind, stateCase);
              expect((await locate(stateCase.effective)).has(uid), `Locate state=${stateCase.effective}`).toBe(true);
              for (const other of ALL_STATES.filter((state) => state !== stateCase.effective)) expect((await locate(other)).has(uid), `Locate state=${other}`).toBe(false);
              return;
            }
            const marker = `m${next()}`;
            // An allowed transition changes the object: it gets one of its own, built the same way.
            const fixture = e.allowed && isTransition(op) ? await build(kind, stateCase, `${RUN_TAG}-fresh`) : sharedFixture(kind, stateCase);
            // Refusals compare everything before and after; transitions count their audit rows.
            const before = e.allowed && !isTransition(op) ? undefined : await snapshot(fixture.uid);
            const res = await perform(op, kind, fixture, marker);
            if (e.allowed) {
              await checkAllowed(op, kind, fixture, stateCase, res, e.resultState, marker, before);
              return;
            }
            const problem = expectProblem(res, { status: 409, code: "wrong_state", detail: stateCase.effective }) as Problem & { kmipResultReason?: string };
            expect(problem.kmipResultReason).toBe(e.reason);
            // Nothing changed: the attributes (state, dates, names, links, Last Change Date…) and no row anywhere, audit included.
            expect(await snapshot(fixture.uid)).toEqual(before);
          });
        }
      });
    }
  });
}

describe("the dates drive the state", () => {
  it("an object whose dates passed is stored in its old state until the lifecycle job writes the effective one; reads never lag", async () => {
    const db = t.runtime.storage.db;
    const activated = sharedFixture("AES", STATE_CASES[6] as StateCase);
    const deactivated = sharedFixture("AES", STATE_CASES[7] as StateCase);
    expect((await db.managedObject.findUnique({ where: { uid: activated.uid } }))?.state).toBe("Pre-Active");
    expect((await db.managedObject.findUnique({ where: { uid: deactivated.uid } }))?.state).toBe("Active");
    const written = await t.runtime.services.objects.applyLifecycleDates({ principal: SYSTEM });
    expect(written).toBeGreaterThanOrEqual(2 * KINDS.length);
    expect((await db.managedObject.findUnique({ where: { uid: activated.uid } }))?.state).toBe("Active");
    expect((await db.managedObject.findUnique({ where: { uid: deactivated.uid } }))?.state).toBe("Deactivated");
    expect((await ok<ObjectJson>("get", `/v1/objects/${activated.uid}`)).state).toBe("Active");
    expect((await ok<ObjectJson>("get", `/v1/objects/${deactivated.uid}`)).state).toBe("Deactivated");
    // Nothing is left lagging.
    expect(await t.runtime.services.objects.applyLifecycleDates({ principal: SYSTEM })).toBe(0);
  });
});

// The remote KEK against a real kpki REST API over real HTTPS (the service of a test runtime), and
// against servers that fail: wrong CA, nothing listening, no answer, wrong or weak token.
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startService, type RunningService } from "../../app.js";
import { LOCAL_OPERATOR } from "../../core/access/index.js";
import { InProcessKekProvider, kekAnnotations, kekKeyId, KekService, type KekEncryption } from "../../core/kms/index.js";
import { DomainError } from "../../core/shared/domain-error.js";
import { startTestRuntime, type TestRuntime } from "../../../test/helpers/runtime.js";
import { RemoteKekProvider } from "./remote-kek-provider.js";

const KEY = "remote-kek";
const operator = { principal: LOCAL_OPERATOR };

let t: TestRuntime;
let service: RunningService;
let ca: string;
let operatorToken: string;
let readerToken: string;
/** What the plugin's remote mode is meant to run with: role kms-plugin, scoped to its one key. */
let pluginToken: string;
const providers: RemoteKekProvider[] = [];

function remote(options: Partial<ConstructorParameters<typeof RemoteKekProvider>[0]> = {}): RemoteKekProvider {
  const provider = new RemoteKekProvider({ serverUrl: service.url, token: operatorToken, caCertPem: ca, keyName: KEY, ...options });
  providers.push(provider);
  return provider;
}

function inProcess(): InProcessKekProvider {
  return new InProcessKekProvider({ namedKeys: t.runtime.services.namedKeys, keyName: KEY, context: operator });
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const decryptArgs = (wrap: KekEncryption) => [wrap.ciphertext, wrap.keyId, wrap.annotations] as const;

beforeAll(async () => {
  t = await startTestRuntime({ env: { KPKI_LISTEN: "127.0.0.1:0" } });
  service = await startService(t.runtime);
  ca = readFileSync(path.join(t.dataDir, "ca-bundle.pem"), "utf8");
  await t.runtime.services.namedKeys.create(operator, { name: KEY });
  operatorToken = (await t.runtime.services.tokens.create(operator, { name: "kms-plugin", role: "operator" })).secret;
  readerToken = (await t.runtime.services.tokens.create(operator, { name: "reader", role: "reader" })).secret;
  pluginToken = (await t.runtime.services.tokens.create(operator, { name: "scoped plugin", role: "kms-plugin", scope: { key: KEY } })).secret;
});

afterAll(async () => {
  for (const provider of providers) provider.close();
  if (service === undefined) {
    await t?.close();
    return;
  }
  service.server.closeAllConnections();
  await service.stop(); // also closes the runtime
  await t.database.drop();
  rmSync(t.dataDir, { recursive: true, force: true });
});

describe("RemoteKekProvider against kpki serve", () => {
  it("wraps and unwraps a seed; key_ids and wraps are the in-process mode's, in both directions", async () => {
    const seed = randomBytes(32);
    const viaRemote = await remote().encrypt(seed, "req-1");
    const { versions } = await t.runtime.services.namedKeys.get(KEY);
    expect(viaRemote.keyId).toBe(kekKeyId(KEY, 1, versions[0]!.uid));
    expect(viaRemote.annotations).toEqual(kekAnnotations());
    expect(Buffer.from(await inProcess().decrypt(...decryptArgs(viaRemote))).equals(seed)).toBe(true);

    const viaInProcess = await inProcess().encrypt(seed);
    expect(viaInProcess.keyId).toBe(viaRemote.keyId);
    expect(Buffer.from(await remote().decrypt(...decryptArgs(viaInProcess))).equals(seed)).toBe(true);
  });

  it("Status: healthy with the current key_id; not healthy once that version is revoked (state read from /v1/objects)", async () => {
    const provider = remote();
    const status = await provider.status();
    expect(status).toMatchObject({ healthy: true, reason: "ok" });
    expect(status.keyId).toBe((await inProcess().status()).keyId);

    await t.runtime.services.namedKeys.create(operator, { name: "revoked-kek" });
    const { versions } = await t.runtime.services.namedKeys.get("revoked-kek");
    await t.runtime.services.objects.revoke(operator, versions[0]!.uid, { code: "CessationOfOperation" });
    const revoked = await remote({ keyName: "revoked-kek" }).status();
    expect(revoked.healthy).toBe(false);
    expect(revoked.reason).toMatch(/version 1 of named key revoked-kek is Deactivated/);
  });

  it("learns a new version after a rotation elsewhere (uid cache refresh)", async () => {
    const provider = remote();
    const before = await provider.encrypt(randomBytes(32));
    await t.runtime.services.namedKeys.rotate(operator, KEY);
    const after = await provider.encrypt(randomBytes(32));
    expect(after.keyId).not.toBe(before.keyId);
    expect(after.keyId).toBe((await provider.status()).keyId);
    expect(await provider.decrypt(...decryptArgs(before))).toHaveLength(32);
  });

  it.each([
    ["a version the key does not have", (w: KekEncryption) => w.keyId.replace(/-v\d+-/, "-v77-"), "not_found"],
    ["a uid hash of no version", (w: KekEncryption) => w.keyId.replace(/[0-9a-f]{12}$/, "ffffffffffff"), "not_found"],
    ["another key's name", (w: KekEncryption) => w.keyId.replace(`kpki-${KEY}-`, "kpki-other-"), "not_found"],
  ])("refuses a key_id naming %s", async (_label, change, code) => {
    const provider = remote();
    const wrap = await provider.encrypt(randomBytes(32));
    expect((await failure(provider.decrypt(wrap.ciphertext, change(wrap), wrap.annotations))).code).toBe(code);
  });

  it("passes the server's refusal on with its code (changed annotations: authentication fails)", async () => {
    const provider = remote();
    const wrap = await provider.encrypt(randomBytes(32));
    const error = await failure(provider.decrypt(wrap.ciphertext, wrap.keyId, new Map([...wrap.annotations, ["extra.example.com", Buffer.from("x")]])));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(/^kpki POST \/v1\/keys\/remote-kek\/decrypt: /);
  });

  it("a wrong token is unauthenticated, and the token appears in no message", async () => {
    const wrongToken = `${operatorToken.slice(0, -4)}xxxx`;
    const error = await failure(remote({ token: wrongToken }).status());
    expect(error.code).toBe("unauthenticated");
    expect(error.message).not.toContain(wrongToken);
    const status = await new KekService(remote({ token: wrongToken }), KEY).status();
    expect(status.healthy).toBe(false);
    expect(status.reason).not.toContain(wrongToken);
  });

  it("a kms-plugin token scoped to the key does all the plugin does: Status, Encrypt, Decrypt, after a rotation too", async () => {
    const provider = remote({ token: pluginToken });
    expect((await provider.status()).healthy).toBe(true);
    const seed = randomBytes(32);
    const wrap = await provider.encrypt(seed);
    await t.runtime.services.namedKeys.rotate(operator, KEY);
    expect(Buffer.from(await provider.decrypt(...decryptArgs(wrap))).equals(seed)).toBe(true);
    expect((await provider.encrypt(seed)).keyId).not.toBe(wrap.keyId);
  });

  it("a kms-plugin token scoped to another key is refused, and the refusal is audited", async () => {
    await t.runtime.services.namedKeys.create(operator, { name: "another-kek" });
    const provider = remote({ token: pluginToken, keyName: "another-kek" });
    expect((await failure(provider.status())).code).toBe("permission_denied");
    expect((await failure(provider.encrypt(randomBytes(32)))).code).toBe("permission_denied");
    const denials = await t.runtime.services.auditTrail.list({ action: "access.deny", target: "named-key:another-kek" });
    expect(denials.items.map((entry) => entry.details?.operation)).toEqual(["getNamedKey", "encryptWithNamedKey"]);
  });

  it("a token without key.use can read the key (Status) but not encrypt", async () => {
    const provider = remote({ token: readerToken });
    expect((await provider.status()).healthy).toBe(true);
    expect((await failure(provider.encrypt(randomBytes(32)))).code).toBe("permission_denied");
  });
});

describe("RemoteKekProvider when kpki cannot be used", () => {
  let silent: Server;
  const held: Socket[] = [];
  let closedPort: number;

  beforeAll(async () => {
    // A TCP server that accepts connections and never answers (a hung kpki or a black-holing proxy).
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it("nothing listening: unavailable, naming the server", async () => {
    const error = await failure(remote({ serverUrl: `https://127.0.0.1:${closedPort}` }).status());
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe(`cannot reach kpki at https://127.0.0.1:${closedPort}: ECONNREFUSED`);
  });

  it("no answer: unavailable after the deadline", async () => {
    const started = Date.now();
    const error = await failure(remote({ serverUrl: `https://127.0.0.1:${(silent.address() as { port: number }).port}`, timeoutMs: 300 }).encrypt(randomBytes(32)));
    expect(error.code).toBe("unavailable");
    expect(error.message).toMatch(/no answer from https:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a server certificate the CA bundle does not vouch for: unavailable, with a hint", async () => {
    const provider = new RemoteKekProvider({ serverUrl: service.url, token: operatorToken, keyName: KEY });
    providers.push(provider);
    const error = await failure(provider.status());
    expect(error.code).toBe("unavailable");
    expect(error.message).toMatch(/is the CA bundle right\?/);
  });

  it("refuses a server URL that is not https", () => {
    expect(() => new RemoteKekProvider({ serverUrl: "http://127.0.0.1:8080", token: "t", keyName: KEY })).toThrow(/must be an https:\/\/ URL/);
  });
});

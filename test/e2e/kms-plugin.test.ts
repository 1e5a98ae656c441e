// The KMS v2 plugin as kube-apiserver sees it: a gRPC client generated from the upstream proto, over
// a real unix socket, against both modes — in-process (NamedKeyService on the test database) and
// remote (a spawned `kpki serve` reached over HTTPS with a kms-plugin token scoped to the key). The plugin process
// itself (signals, stale sockets, CLI flags) is in kms-plugin-process.test.ts.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_OPERATOR } from "../../src/core/access/index.js";
import { InProcessKekProvider, KekService, isFullyQualifiedDomainName, type KekProvider } from "../../src/core/kms/index.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { RemoteKekProvider } from "../../src/infra/remote-kpki/remote-kek-provider.js";
import { startKmsPluginServer, type RunningKmsPlugin } from "../../src/transports/kms-plugin/server.js";
import { leaveStaleSocket } from "../helpers/unix-socket.js";
import { grpcErrorOf, kmsV2Client, type EncryptResponse, type KmsV2Client } from "../helpers/kms-v2-client.js";
import { httpsRequest, jsonBody, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { startTestRuntime, TEST_ADMIN_TOKEN, type TestRuntime } from "../helpers/runtime.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";

const KEY = "etcd-kek";
const KEY_ID = new RegExp(`^kpki-${KEY}-v(\\d+)-[0-9a-f]{12}$`);
const operator = { principal: LOCAL_OPERATOR };
const silent = createLogger("silent");

const sockets = mkdtempSync(path.join(os.tmpdir(), "kpki-kms-"));
afterAll(() => rmSync(sockets, { recursive: true, force: true }));

/** A plugin on a fresh socket, serving `provider`, with a client connected to it. */
async function startPlugin(provider: KekProvider, name: string): Promise<{ plugin: RunningKmsPlugin; client: KmsV2Client }> {
  const plugin = await startKmsPluginServer({ endpoint: `unix://${path.join(sockets, `${name}.sock`)}`, kek: new KekService(provider, KEY), logger: silent });
  return { plugin, client: kmsV2Client(plugin.socketPath) };
}

async function stopPlugin(started: { plugin: RunningKmsPlugin; client: KmsV2Client } | undefined): Promise<void> {
  started?.client.close();
  await started?.plugin.stop();
}

/** A provider for socket tests, where no call reaches it. */
const idle: KekProvider = {
  status: () => Promise.reject(new Error("not used")),
  encrypt: () => Promise.reject(new Error("not used")),
  decrypt: () => Promise.reject(new Error("not used")),
};

/** The annotations of an encryption, as a DecryptRequest takes them. */
const annotationsOf = (encrypted: EncryptResponse) => ({ ...encrypted.annotations });

/** What every mode must do, whatever is behind the plugin. */
function pluginContract(mode: string, setup: () => { client: KmsV2Client; rotate: () => Promise<void> }): void {
  describe(`${mode}: the KMS v2 contract`, () => {
    it("Status: version v2, healthz ok, a key_id of at most 1 KiB naming the current version", async () => {
      const status = await setup().client.status();
      expect(status.version).toBe("v2");
      expect(status.healthz).toBe("ok");
      expect(status.key_id).toMatch(KEY_ID);
      expect(Buffer.byteLength(status.key_id)).toBeLessThanOrEqual(1024);
    });

    it("Encrypt → Decrypt gives back a random 32-byte seed; the answer keeps every limit and the Status key_id", async () => {
      const { client } = setup();
      const seed = randomBytes(32);
      const status = await client.status();
      const encrypted = await client.encrypt(seed, "0b3c5e2a-1f7d-4d7e-9a57-5c1f0f1f0d01");
      expect(encrypted.ciphertext.length).toBeGreaterThan(0);
      expect(encrypted.ciphertext.length).toBeLessThanOrEqual(1024);
      expect(encrypted.key_id).toBe(status.key_id);
      let annotationBytes = 0;
      for (const [key, value] of Object.entries(encrypted.annotations)) {
        expect(isFullyQualifiedDomainName(key), key).toBe(true);
        annotationBytes += Buffer.byteLength(key) + value.length;
      }
      expect(annotationBytes).toBeLessThanOrEqual(32 * 1024);
      expect(encrypted.ciphertext.includes(seed)).toBe(false);
      const decrypted = await client.decrypt({ ciphertext: encrypted.ciphertext, key_id: encrypted.key_id, annotations: annotationsOf(encrypted), uid: "0b3c5e2a-1f7d-4d7e-9a57-5c1f0f1f0d02" });
      expect(decrypted.plaintext.equals(seed)).toBe(true);
    });

    it("gives distinct ciphertexts for the same seed and for different seeds", async () => {
      const { client } = setup();
      const seed = randomBytes(32);
      const [a, b, c] = await Promise.all([client.encrypt(seed), client.encrypt(seed), client.encrypt(randomBytes(32))]);
      expect(new Set([a, b, c].map((e) => e.ciphertext.toString("base64"))).size).toBe(3);
    });

    it("answers 32 concurrent round trips correctly", async () => {
      const { client } = setup();
      const seeds = Array.from({ length: 32 }, () => randomBytes(32));
      const results = await Promise.all(
        seeds.map(async (seed) => {
          const encrypted = await client.encrypt(seed);
          return (await client.decrypt({ ciphertext: encrypted.ciphertext, key_id: encrypted.key_id, annotations: annotationsOf(encrypted) })).plaintext;
        }),
      );
      results.forEach((plaintext, i) => expect(plaintext.equals(seeds[i]!)).toBe(true));
    });

    type Request = { ciphertext: Uint8Array; key_id: string; annotations: Record<string, Uint8Array> };
    const refusals: [string, (good: Request) => Request, GrpcStatus, RegExp][] = [
      ["33 KiB of annotations", (g) => ({ ...g, annotations: { ...g.annotations, "big.example.com": new Uint8Array(33 * 1024) } }), GrpcStatus.INVALID_ARGUMENT, /annotations: .*at most 32768/],
      ["an annotation key that is not an FQDN", (g) => ({ ...g, annotations: { ...g.annotations, "kms.example.io/audit-id": Buffer.from("x") } }), GrpcStatus.INVALID_ARGUMENT, /not a fully qualified domain name/],
      ["a key_id of 2 KiB", (g) => ({ ...g, key_id: "k".repeat(2048) }), GrpcStatus.INVALID_ARGUMENT, /key_id: 2048 bytes; at most 1024/],
      ["an empty key_id", (g) => ({ ...g, key_id: "" }), GrpcStatus.INVALID_ARGUMENT, /key_id: must not be empty/],
      ["a ciphertext over 1 KiB", (g) => ({ ...g, ciphertext: Buffer.concat([g.ciphertext, Buffer.alloc(1024)]) }), GrpcStatus.INVALID_ARGUMENT, /ciphertext: \d+ bytes; at most 1024/],
      ["an empty ciphertext", (g) => ({ ...g, ciphertext: new Uint8Array() }), GrpcStatus.INVALID_ARGUMENT, /ciphertext: must not be empty/],
      ["a key_id another KMS issued", (g) => ({ ...g, key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd" }), GrpcStatus.NOT_FOUND, /unknown key_id/],
      ["a kpki key_id whose uid hash matches no version", (g) => ({ ...g, key_id: g.key_id.replace(/[0-9a-f]{12}$/, "000000000000") }), GrpcStatus.NOT_FOUND, /unknown key_id/],
      [
        "a key_id (and a ciphertext naming it) of a version that does not exist",
        (g) => ({ ...g, key_id: g.key_id.replace(/-v\d+-/, "-v99-"), ciphertext: Buffer.from(Buffer.from(g.ciphertext).toString().replace(/^(kpki:v1:[^:]+:)\d+:/, "$199:")) }),
        GrpcStatus.NOT_FOUND,
        /unknown key_id.*no version 99|unknown key_id.*version 99 of named key/,
      ],
      ["a key_id of another named key", (g) => ({ ...g, key_id: g.key_id.replace(`kpki-${KEY}-`, "kpki-other-") }), GrpcStatus.NOT_FOUND, /unknown key_id.*serves named key/],
      ["a changed annotation value", (g) => ({ ...g, annotations: Object.fromEntries(Object.keys(g.annotations).map((k) => [k, Buffer.from("9")])) }), GrpcStatus.INVALID_ARGUMENT, /annotations/],
      ["an added annotation (annotations are authenticated)", (g) => ({ ...g, annotations: { ...g.annotations, "extra.example.com": Buffer.from("x") } }), GrpcStatus.INVALID_ARGUMENT, /./],
      ["a tampered ciphertext", (g) => ({ ...g, ciphertext: Buffer.from(Buffer.from(g.ciphertext).toString().replace(/.$/, (c) => (c === "A" ? "B" : "A"))) }), GrpcStatus.INVALID_ARGUMENT, /./],
      ["a ciphertext that is no kpki wrap", (g) => ({ ...g, ciphertext: randomBytes(100) }), GrpcStatus.INVALID_ARGUMENT, /not a kpki named-key ciphertext/],
    ];
    it.each(refusals)("Decrypt refuses %s", async (_label, change, code, detail) => {
      const { client } = setup();
      const encrypted = await client.encrypt(randomBytes(32));
      const error = await grpcErrorOf(client.decrypt(change({ ciphertext: encrypted.ciphertext, key_id: encrypted.key_id, annotations: annotationsOf(encrypted) })));
      expect(error.code, error.details).toBe(code);
      expect(error.details).toMatch(detail);
    });

    it.each([
      ["an empty plaintext", 0],
      ["a plaintext over 512 bytes", 513],
    ])("Encrypt refuses %s", async (_label, bytes) => {
      const error = await grpcErrorOf(setup().client.encrypt(randomBytes(bytes)));
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details).toMatch(/^plaintext: /);
    });

    it("after a rotation, Status and Encrypt report the new key_id and old ciphertexts still decrypt", async () => {
      const { client, rotate } = setup();
      const before = await client.status();
      const seed = randomBytes(32);
      const old = await client.encrypt(seed);
      await rotate();
      const after = await client.status();
      expect(after.healthz).toBe("ok");
      expect(after.key_id).toMatch(KEY_ID);
      expect(after.key_id).not.toBe(before.key_id);
      expect(Number(KEY_ID.exec(after.key_id)?.[1])).toBe(Number(KEY_ID.exec(before.key_id)?.[1]) + 1);
      const fresh = await client.encrypt(randomBytes(32));
      expect(fresh.key_id).toBe(after.key_id);
      expect((await client.decrypt({ ciphertext: old.ciphertext, key_id: old.key_id, annotations: annotationsOf(old) })).plaintext.equals(seed)).toBe(true);
      // the old key_id with a new ciphertext (or the reverse) is refused
      const mixed = await grpcErrorOf(client.decrypt({ ciphertext: fresh.ciphertext, key_id: old.key_id, annotations: annotationsOf(fresh) }));
      expect(mixed.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    });
  });
}

describe("in-process mode (NamedKeyService on the test database)", () => {
  let t: TestRuntime;
  let started: { plugin: RunningKmsPlugin; client: KmsV2Client } | undefined;

  beforeAll(async () => {
    t = await startTestRuntime();
    await t.runtime.services.namedKeys.create(operator, { name: KEY });
    started = await startPlugin(new InProcessKekProvider({ namedKeys: t.runtime.services.namedKeys, keyName: KEY, context: { principal: { id: "kms-plugin:test", displayName: "test plugin" } } }), "in-process");
  });
  afterAll(async () => {
    await stopPlugin(started);
    await t?.close();
  });

  pluginContract("in-process", () => ({ client: started!.client, rotate: async () => void (await t.runtime.services.namedKeys.rotate(operator, KEY)) }));

  it("creates the socket with mode 0600", () => {
    expect(statSync(started!.plugin.socketPath).mode & 0o777).toBe(0o600);
  });

  it("Status is not ok while the current version is not Active, and ok again once a new version is", async () => {
    const { client } = started!;
    const { versions, key } = await t.runtime.services.namedKeys.get(KEY);
    const current = versions.find((v) => v.version === key.currentVersion)!;
    await t.runtime.services.objects.revoke(operator, current.uid, { code: "CessationOfOperation" });
    const status = await client.status();
    expect(status.healthz).toMatch(new RegExp(`version ${key.currentVersion} of named key ${KEY} is Deactivated`));
    expect(status.key_id).toMatch(KEY_ID); // still the current version's, so kube-apiserver does not rotate its seed to it
    const refused = await grpcErrorOf(client.encrypt(randomBytes(32)));
    expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION);

    const next = await t.runtime.services.namedKeys.rotate(operator, KEY);
    const nextUid = (await t.runtime.services.namedKeys.get(KEY)).versions.find((v) => v.version === next.currentVersion)!.uid;
    if ((await t.runtime.services.objects.find(nextUid)).state !== "Active") await t.runtime.services.objects.activate(operator, nextUid);
    expect((await client.status()).healthz).toBe("ok");
  });

  it("Decrypt of a destroyed version is FAILED_PRECONDITION; other versions still decrypt", async () => {
    const { client } = started!;
    const seed = randomBytes(32);
    const doomed = await client.encrypt(seed);
    await t.runtime.services.namedKeys.rotate(operator, KEY);
    const kept = await client.encrypt(seed);
    const version = Number(KEY_ID.exec(doomed.key_id)?.[1]);
    const uid = (await t.runtime.services.namedKeys.get(KEY)).versions.find((v) => v.version === version)!.uid;
    await t.runtime.services.objects.destroy(operator, uid); // rotation deactivated it, so it can be destroyed
    const error = await grpcErrorOf(client.decrypt({ ciphertext: doomed.ciphertext, key_id: doomed.key_id, annotations: annotationsOf(doomed) }));
    expect(error.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(error.details).toMatch(/Destroyed/);
    expect((await client.decrypt({ ciphertext: kept.ciphertext, key_id: kept.key_id, annotations: annotationsOf(kept) })).plaintext.equals(seed)).toBe(true);
  });

  it("Status is not ok for a named key that does not exist", async () => {
    const other = await startPlugin(new InProcessKekProvider({ namedKeys: t.runtime.services.namedKeys, keyName: "missing", context: operator }), "missing");
    try {
      const status = await other.client.status();
      expect(status.healthz).toMatch(/named key missing does not exist/);
      expect(status.key_id).toBe("");
    } finally {
      await stopPlugin(other);
    }
  });

  describe("the socket file", () => {

    it("refuses to start while another process listens on the socket, and leaves it alone", async () => {
      const error = await startKmsPluginServer({ endpoint: `unix://${started!.plugin.socketPath}`, kek: new KekService(idle, KEY), logger: silent }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/is in use: another process is listening on it/);
      expect((await started!.client.status()).healthz).toBe("ok");
    });

    it("replaces a stale socket file that nobody listens on (its process was killed)", async () => {
      const socketPath = path.join(sockets, "stale.sock");
      await leaveStaleSocket(socketPath);
      const plugin = await startKmsPluginServer({ endpoint: `unix://${socketPath}`, kek: new KekService(idle, KEY), logger: silent });
      expect(statSync(socketPath).mode & 0o777).toBe(0o600);
      await plugin.stop();
      expect(existsSync(socketPath)).toBe(false);
    });

    it("refuses a path that is a regular file, and keeps the file", async () => {
      const file = path.join(sockets, "not-a-socket.sock");
      writeFileSync(file, "data");
      await expect(startKmsPluginServer({ endpoint: `unix://${file}`, kek: new KekService(idle, KEY), logger: silent })).rejects.toThrow(/exists and is not a socket/);
      expect(readFileSync(file, "utf8")).toBe("data");
    });

    it.each([
      ["tcp://127.0.0.1:9000", /expected unix:\/\/\/absolute\/path.sock/],
      ["unix://relative.sock", /expected unix:\/\/\/absolute\/path.sock/],
      ["/tmp/kms.sock", /expected unix:\/\/\/absolute\/path.sock/],
      ["unix:///@abstract", /abstract unix sockets/],
      [`unix:///tmp/${"x".repeat(120)}.sock`, /longer than 107 bytes/],
    ])("refuses the endpoint %s", async (endpoint, message) => {
      await expect(startKmsPluginServer({ endpoint, kek: new KekService(idle, KEY), logger: silent })).rejects.toThrow(message);
    });

    it("removes its socket on stop", async () => {
      const socketPath = path.join(sockets, "stop.sock");
      const plugin = await startKmsPluginServer({ endpoint: `unix:${socketPath}`, kek: new KekService(idle, KEY), logger: silent });
      expect(statSync(socketPath).isSocket()).toBe(true);
      await plugin.stop();
      expect(existsSync(socketPath)).toBe(false);
    });
  });
});

describe("stopping (what SIGTERM triggers)", () => {
  /** A provider whose Decrypt answers only when the test lets it. */
  function heldProvider() {
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    let release!: (plaintext: Uint8Array) => void;
    const provider: KekProvider = {
      ...idle,
      decrypt: () => {
        received();
        return new Promise((resolve) => (release = resolve));
      },
    };
    return { provider, arrived, release: (plaintext: Uint8Array) => release(plaintext) };
  }
  const anyRequest = { ciphertext: Buffer.from("kpki:v1:etcd-kek:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), key_id: "kpki-etcd-kek-v1-0123456789ab", annotations: { "format.kms-plugin.kpki.io": Buffer.from("1") } };

  it("stops accepting calls, lets an in-flight call finish, then removes the socket", async () => {
    const held = heldProvider();
    const { plugin, client } = await startPlugin(held.provider, "drain");
    const inFlight = client.decrypt(anyRequest);
    await held.arrived;
    let stopped = false;
    const stopping = plugin.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stopped).toBe(false);
    const late = kmsV2Client(plugin.socketPath, { deadlineMs: 2_000 });
    expect((await grpcErrorOf(late.status())).code).toBe(GrpcStatus.UNAVAILABLE);
    late.close();
    held.release(new Uint8Array(32).fill(7));
    expect((await inFlight).plaintext.equals(Buffer.alloc(32, 7))).toBe(true);
    await stopping;
    client.close();
    expect(existsSync(plugin.socketPath)).toBe(false);
  });

  it("cancels calls still running after the grace period", async () => {
    const held = heldProvider();
    const plugin = await startKmsPluginServer({ endpoint: `unix://${path.join(sockets, "grace.sock")}`, kek: new KekService(held.provider, KEY), logger: silent, shutdownGraceMs: 300 });
    const client = kmsV2Client(plugin.socketPath);
    const inFlight = grpcErrorOf(client.decrypt(anyRequest));
    await held.arrived;
    const started = Date.now();
    await plugin.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect([GrpcStatus.CANCELLED, GrpcStatus.UNAVAILABLE]).toContain((await inFlight).code);
    client.close();
    expect(existsSync(plugin.socketPath)).toBe(false);
  });
});

describe("remote mode (a spawned kpki serve, over HTTPS with a kms-plugin token scoped to the key)", () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: ServingKpki;
  let ca: string;
  let remote: RemoteKekProvider;
  let started: { plugin: RunningKmsPlugin; client: KmsV2Client } | undefined;
  const serverEnv = () => ({ KPKI_DATA_DIR: dataDir, DATABASE_URL: database.url, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn" });
  const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "kpki-kms-remote-"));
    server = await startKpkiServer({ env: serverEnv() });
    ca = readFileSync(path.join(dataDir, "ca-bundle.pem"), "utf8");
    const created = await httpsRequest(`${server.url}/v1/keys`, { method: "POST", ca, headers: admin, body: { name: KEY } });
    expect(created.status, created.text).toBe(201);
    const token = await httpsRequest(`${server.url}/v1/tokens`, { method: "POST", ca, headers: admin, body: { name: "kms-plugin", role: "kms-plugin", scope: { key: KEY } } });
    expect(token.status, token.text).toBe(201);
    remote = new RemoteKekProvider({ serverUrl: server.url, token: jsonBody<{ token: string }>(token).token, caCertPem: ca, keyName: KEY });
    started = await startPlugin(remote, "remote");
  });
  afterAll(async () => {
    await stopPlugin(started);
    remote?.close();
    await stopAllKpki();
    await database?.drop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  pluginContract("remote", () => ({
    client: started!.client,
    rotate: async () => {
      const rotated = await httpsRequest(`${server.url}/v1/keys/${KEY}/rotate`, { method: "POST", ca, headers: admin });
      expect(rotated.status, rotated.text).toBe(200);
    },
  }));

  it("Status is not ok while kpki is stopped, and ok again once it is back; ciphertexts from before still decrypt, in either mode", async () => {
    const { client } = started!;
    const seed = randomBytes(32);
    const before = await client.encrypt(seed);
    const port = server.port;
    expect((await server.stop()).code).toBe(0);

    const down = await client.status();
    expect(down.version).toBe("v2");
    expect(down.healthz).not.toBe("ok");
    expect(down.healthz).toMatch(/cannot reach kpki at https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect((await grpcErrorOf(client.encrypt(randomBytes(32)))).code).toBe(GrpcStatus.UNAVAILABLE);

    // The same database in-process (single-node mode) reads what the remote mode wrote.
    const local: TestRuntime = await startTestRuntime({ reuse: { database, dataDir } });
    const inProcess = await startPlugin(new InProcessKekProvider({ namedKeys: local.runtime.services.namedKeys, keyName: KEY, context: operator }), "in-process-again");
    let written: EncryptResponse;
    try {
      expect((await inProcess.client.decrypt({ ciphertext: before.ciphertext, key_id: before.key_id, annotations: annotationsOf(before) })).plaintext.equals(seed)).toBe(true);
      written = await inProcess.client.encrypt(seed);
      expect(written.key_id).toBe(before.key_id);
    } finally {
      await stopPlugin(inProcess);
      await local.close({ keepData: true });
    }

    server = await startKpkiServer({ env: { ...serverEnv(), KPKI_LISTEN: `127.0.0.1:${port}` } });
    const up = await client.status();
    expect(up.healthz).toBe("ok");
    expect(up.key_id).toBe(before.key_id);
    for (const encrypted of [before, written]) {
      expect((await client.decrypt({ ciphertext: encrypted.ciphertext, key_id: encrypted.key_id, annotations: annotationsOf(encrypted) })).plaintext.equals(seed)).toBe(true);
    }
  });
});

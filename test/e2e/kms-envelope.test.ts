// Envelope encryption exactly as kube-apiserver does it with a KMS v2 plugin (reference 3.2/3.3,
// test/fixtures/kms/kube-apiserver-envelope.ts): a 32-byte seed wrapped by the plugin, a per-record
// HKDF-SHA256 key, AES-256-GCM with the etcd key as AAD, EncryptedObject records. Then a KEK
// rotation and the documented storage migration (read + write every record): every record
// decrypts and carries the new key_id; before the rewrite the old key_id still decrypts.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_OPERATOR } from "../../src/core/access/index.js";
import { InProcessKekProvider, KekService } from "../../src/core/kms/index.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { startKmsPluginServer, type RunningKmsPlugin } from "../../src/transports/kms-plugin/server.js";
import { decodeEncryptedObject, KubeApiserverEnvelope, MAX_EDEK_BYTES } from "../fixtures/kms/kube-apiserver-envelope.js";
import { kmsV2Client, type KmsV2Client } from "../helpers/kms-v2-client.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const KEY = "etcd-kek";
const PROVIDER = "kpki-etcd";
const operator = { principal: LOCAL_OPERATOR };

let t: TestRuntime;
let plugin: RunningKmsPlugin;
let client: KmsV2Client;
let apiserver: KubeApiserverEnvelope;
const sockets = mkdtempSync(path.join(os.tmpdir(), "kpki-env-"));

/** "etcd": key → stored value, and the secrets as written. */
const etcd = new Map<string, Buffer>();
const secrets = new Map<string, Buffer>();

beforeAll(async () => {
  t = await startTestRuntime();
  await t.runtime.services.namedKeys.create(operator, { name: KEY });
  const provider = new InProcessKekProvider({ namedKeys: t.runtime.services.namedKeys, keyName: KEY, context: { principal: { id: "kms-plugin:envelope-test", displayName: "envelope test" } } });
  plugin = await startKmsPluginServer({ endpoint: `unix://${path.join(sockets, "kms.sock")}`, kek: new KekService(provider, KEY), logger: createLogger("silent") });
  client = kmsV2Client(plugin.socketPath);
  apiserver = new KubeApiserverEnvelope(client, PROVIDER);
});

afterAll(async () => {
  client?.close();
  await plugin?.stop();
  await t?.close();
  rmSync(sockets, { recursive: true, force: true });
});

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("KMS v2 envelope encryption, as kube-apiserver does it", () => {
  let firstKeyId: string;
  let firstEdek: Buffer;
  let firstAnnotations: Record<string, Buffer>;

  it("wraps one seed for the current key_id and writes EncryptedObject records to etcd", async () => {
    await apiserver.probe();
    firstKeyId = apiserver.keyId!;
    expect(firstKeyId).toMatch(/^kpki-etcd-kek-v1-[0-9a-f]{12}$/);
    for (let i = 0; i < 24; i++) {
      const etcdKey = `/registry/secrets/ns-${i % 3}/secret-${i}`;
      const secret = Buffer.from(JSON.stringify({ kind: "Secret", metadata: { name: `secret-${i}` }, data: { token: randomBytes(24).toString("base64") } }));
      secrets.set(etcdKey, secret);
      etcd.set(etcdKey, apiserver.write(etcdKey, secret));
    }
    const edeks = new Set<string>();
    for (const [etcdKey, value] of etcd) {
      expect(value.subarray(0, apiserver.prefix.length).toString()).toBe(`k8s:enc:kms:v2:${PROVIDER}:`);
      expect(value[apiserver.prefix.length], "field 1, length-delimited").toBe(0x0a);
      const object = decodeEncryptedObject(value.subarray(apiserver.prefix.length));
      expect(object.keyID).toBe(firstKeyId);
      expect(object.encryptedDEKSourceType).toBe("HKDF_SHA256_XNONCE_AES_GCM_SEED");
      expect(object.encryptedDEKSource.length).toBeLessThanOrEqual(MAX_EDEK_BYTES);
      expect(object.encryptedData.length).toBe(32 + 12 + secrets.get(etcdKey)!.length + 16);
      expect(value.includes(secrets.get(etcdKey)!)).toBe(false);
      edeks.add(sha(object.encryptedDEKSource));
    }
    expect(edeks.size, "one wrapped seed per state").toBe(1);
    ({ encryptedDEKSource: firstEdek, annotations: firstAnnotations } = decodeEncryptedObject(etcd.values().next().value!.subarray(apiserver.prefix.length)));
  });

  it("reads every record back through one plugin Decrypt (the seed cache), and the etcd key is authenticated", async () => {
    apiserver.clearCache();
    apiserver.decryptCalls = 0;
    for (const [etcdKey, value] of etcd) {
      const read = await apiserver.read(etcdKey, value);
      expect(read.plaintext.equals(secrets.get(etcdKey)!)).toBe(true);
      expect(read.stale).toBe(false);
    }
    expect(apiserver.decryptCalls).toBe(1);
    const [keyA, valueA] = [...etcd][0]!;
    await expect(apiserver.read(keyA.replace("secret-", "moved-"), valueA)).rejects.toThrow(/unable to authenticate data|Unsupported state/);
  });

  it("after a KEK rotation, Status and Encrypt give the new key_id; old records are stale but still decrypt", async () => {
    await t.runtime.services.namedKeys.rotate(operator, KEY);
    const status = await client.status();
    expect(status.healthz).toBe("ok");
    expect(status.key_id).toMatch(/^kpki-etcd-kek-v2-[0-9a-f]{12}$/);
    await apiserver.probe(); // new seed, wrapped by Encrypt, accepted only when its key_id equals Status's
    expect(apiserver.keyId).toBe(status.key_id);
    expect(apiserver.keyId).not.toBe(firstKeyId);

    apiserver.clearCache(); // as after an apiserver restart: the old key_id must go to the plugin
    for (const [etcdKey, value] of etcd) {
      const read = await apiserver.read(etcdKey, value);
      expect(read.plaintext.equals(secrets.get(etcdKey)!)).toBe(true);
      expect(read.stale).toBe(true);
      expect(read.object.keyID).toBe(firstKeyId);
    }
  });

  it("the storage migration (read + write every record) leaves every record on the new key_id, decrypting", async () => {
    for (const [etcdKey, value] of [...etcd]) {
      const { plaintext } = await apiserver.read(etcdKey, value);
      etcd.set(etcdKey, apiserver.write(etcdKey, plaintext));
    }
    apiserver.clearCache();
    apiserver.decryptCalls = 0;
    for (const [etcdKey, value] of etcd) {
      const read = await apiserver.read(etcdKey, value);
      expect(read.object.keyID).toBe(apiserver.keyId);
      expect(read.object.encryptedDEKSource.equals(firstEdek)).toBe(false);
      expect(read.stale).toBe(false);
      expect(read.plaintext.equals(secrets.get(etcdKey)!)).toBe(true);
    }
    expect(apiserver.decryptCalls).toBe(1);
  });

  it("the old key_id's wrapped seed still decrypts directly after the migration (until the version is destroyed)", async () => {
    const seed = await client.decrypt({ ciphertext: firstEdek, key_id: firstKeyId, annotations: firstAnnotations });
    expect(seed.plaintext).toHaveLength(32);
  });
});

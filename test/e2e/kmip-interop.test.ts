// KMIP interoperability with a real, independent client: PyKMIP 0.10 (Debian python3-pykmip, run
// with /usr/bin/python3) over mutual TLS against `kpki serve` with KPKI_KMIP_LISTEN. The Python
// script (test/fixtures/kmip/pykmip_interop.py) checks every result against its own computation
// with the key fetched over KMIP and Python's `cryptography`; this test asserts that every check
// ran and passed, then looks at the same objects through REST.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENUM, KmipTestClient, OP, REASON, requestMessage, STATUS } from "../helpers/kmip.js";
import { startKmipKpki, type ClientCredentials, type KmipKpki } from "../helpers/kmip-server.js";
import { jsonBody, PROJECT_ROOT, stopAllKpki } from "../helpers/process.js";
import { enumeration } from "../../src/transports/kmip/ttlv/item.js";
import { TAG } from "../../src/transports/kmip/ttlv/tags.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(PROJECT_ROOT, "test", "fixtures", "kmip", "pykmip_interop.py");

interface ScriptResult {
  readonly checks: readonly { check: string; passed: boolean; detail: string | null }[];
  readonly facts: Record<string, string>;
}

let kpki: KmipKpki;
let admin: ClientCredentials;

function pykmip(version: "1.2" | "2.0", scenario: "full" | "reader" | "norole", who: ClientCredentials, extra: readonly string[] = []): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, "127.0.0.1", String(kpki.kmipPort), who.certFile, who.keyFile, kpki.caFile, version, scenario, ...extra], { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout) as ScriptResult);
      } catch {
        reject(new Error(`PyKMIP script failed (${error?.message ?? "no JSON"}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** The checks that must have run (a check the script skipped would otherwise pass unnoticed). */
const EXPECTED_FULL = [
  "discover versions lists 2.0 first and 1.0 last",
  "query lists the operations",
  "get returns a 256-bit AES key",
  "get attributes: Pre-Active AES-256 named key",
  "get attribute list",
  "locate by name",
  "encrypt with a Pre-Active key is refused",
  "encrypt AES-CBC equals Python's with the fetched key",
  "decrypt AES-CBC",
  "encrypt with a server-chosen IV, decrypted by Python",
  "destroy an Active key is refused",
  "revoke deactivates",
  "a Deactivated key still decrypts",
  "get after destroy is refused",
  "AES-GCM encrypt with AAD: Python decrypts it with the fetched key",
  "AES-GCM decrypt with AAD and tag",
  "AES-GCM decrypt of Python's ciphertext",
  "AES-GCM with a wrong tag is refused",
  "get the RSA public key as X.509 SubjectPublicKeyInfo",
  "RSA-PSS signature verified by Python",
  "RSA PKCS#1 v1.5 signature verified by Python",
  "signature verify: Python's signature is valid",
  "signature verify: a tampered message is invalid",
  "RSA-OAEP encrypt, decrypted by Python",
  "RSA-OAEP decrypt of Python's ciphertext",
  "re-key key pair gives a new pair",
  "EC key pair on P-256",
  "ECDSA P-256 signature verified by Python",
  "register an HMAC key, get it back unchanged",
  "MAC equals Python's HMAC-SHA256",
  "MAC with another algorithm than the key's is refused",
  "register a PKCS#1 RSA private key, get it as PKCS#8",
  "register an X.509 public key",
  "register secret data",
  "register an opaque object",
  "modify attribute renames",
  "modifying a server-managed attribute is refused",
  "locate with Maximum Items 2",
  "locate with Offset Items 2",
  "re-key gives a new active key of the same length",
];

beforeAll(async () => {
  expect(existsSync(PYTHON), "/usr/bin/python3 with python3-pykmip is required (apt-get install python3-pykmip)").toBe(true);
  kpki = await startKmipKpki();
  admin = await kpki.issueClient("interop-admin", ["admin"]);
}, 180_000);

afterAll(async () => {
  await kpki?.stop();
  await stopAllKpki();
});

describe("PyKMIP against kpki serve (mutual TLS, port from KPKI_KMIP_LISTEN)", () => {
  it.each(["1.2", "2.0"] as const)("KMIP %s: every operation PyKMIP can send, checked by Python (AES-GCM at 1.4 or 2.0)", async (version) => {
    const { checks, facts } = await pykmip(version, "full", admin);
    expect(checks.filter((check) => !check.passed)).toEqual([]);
    expect(checks.map((check) => check.check)).toEqual(expect.arrayContaining(EXPECTED_FULL));
    expect(checks.map((check) => check.check)).toEqual(expect.arrayContaining(version === "2.0" ? ["set attribute Sensitive: the value can no longer be read"] : ["delete attribute answers with the deleted Name", "AES-GCM at KMIP 1.2 (no tag field) is refused"]));
    // The same objects through REST: the destroyed AES key (metadata kept) and who made it.
    const aes = jsonBody<{ state: string; createdBy: string }>(await kpki.rest("GET", `/v1/objects/${facts.aesUid}`));
    expect(aes).toMatchObject({ state: "Destroyed", createdBy: "cert:interop-admin" });
    const pair = jsonBody<{ state: string; algorithm: string }>(await kpki.rest("GET", `/v1/objects/${facts.rsaPrivateUid}`));
    expect(pair).toMatchObject({ algorithm: "RSA" });
  }, 300_000);

  it("a key made over REST is read over KMIP with the same value; a reader certificate may not read it", async () => {
    const created = jsonBody<{ uid: string }>(await kpki.rest("POST", "/v1/objects", { objectType: "SymmetricKey", algorithm: "AES", extractable: true, names: ["made-over-rest"] }));
    const reader = await kpki.issueClient("interop-reader", ["reader"]);
    const { checks } = await pykmip("1.2", "reader", reader, [created.uid]);
    expect(checks.filter((check) => !check.passed)).toEqual([]);
    expect(checks).toHaveLength(3);
    const client = await KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: admin.certPem, key: admin.keyPem });
    try {
      const got = await client.send(requestMessage([2, 0], [{ operation: OP.Get, payload: [{ tag: TAG.UniqueIdentifier, type: 0x07, value: created.uid }] }]));
      const value = jsonBody<{ value: string }>(await kpki.rest("GET", `/v1/objects/${created.uid}/value`)).value;
      expect(got.items[0]).toMatchObject({ status: STATUS.Success });
      expect(Buffer.from(findBytes(got.items[0]!.payload!, TAG.KeyMaterial)!).toString("base64")).toBe(value);
    } finally {
      client.close();
    }
  }, 120_000);

  it("a certificate whose O names no role is refused every operation (Permission Denied)", async () => {
    const nobody = await kpki.issueClient("interop-nobody", ["some-team"]);
    const { checks } = await pykmip("1.2", "norole", nobody);
    expect(checks.filter((check) => !check.passed)).toEqual([]);
    expect(checks).toHaveLength(2);
  }, 120_000);
});

describe("KMIP TLS: versions and client certificates", () => {
  it.each([
    ["TLS 1.2", { maxVersion: "TLSv1.2" as const }, "TLSv1.2"],
    ["TLS 1.3", { minVersion: "TLSv1.3" as const }, "TLSv1.3"],
  ])("%s works", async (_name, versions, negotiated) => {
    const client = await KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: admin.certPem, key: admin.keyPem, ...versions });
    try {
      expect(client.socket.getProtocol()).toBe(negotiated);
      const response = await client.send(requestMessage([1, 4], [{ operation: OP.Query, payload: [enumeration(TAG.QueryFunction, ENUM.QueryFunction.QueryObjects)] }]));
      expect(response.items[0]).toMatchObject({ status: STATUS.Success });
    } finally {
      client.close();
    }
  });

  it("a certificate from another kpki CA (its chain sent, so TLS accepts it) gets Authentication Not Successful and the connection is closed", async () => {
    const made = await kpki.rest("POST", "/v1/authorities", { name: "kmip-other", type: "intermediate", parent: "kpki-root", subject: { commonName: "Other CA" } });
    expect(made.status).toBe(201);
    const credentials = await kpki.issueClient("other-ca-client", ["admin"], { ca: "kmip-other" });
    const client = await KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: credentials.certPem + credentials.chainPem, key: credentials.keyPem });
    try {
      const response = await client.send(requestMessage([1, 2], [{ operation: OP.Query, payload: [enumeration(TAG.QueryFunction, 1)] }]));
      expect(response.version).toEqual([1, 2]);
      expect(response.items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.AuthenticationNotSuccessful, message: expect.stringMatching(/not issued by kpki's internal CA/) });
      await client.closed();
    } finally {
      client.close();
    }
  });

  it.each([
    ["an internal-CA certificate without clientAuth (profile server)", async () => kpki.issueClient("server-cert", ["admin"], { profile: "server" })],
    ["a certificate from another kpki CA whose chain is not sent", async () => kpki.issueClient("other-ca-bare", ["admin"], { ca: "kmip-other" })],
  ])("%s is refused in the TLS handshake", async (_name, issue) => {
    if ((await kpki.rest("GET", "/v1/authorities/kmip-other")).status === 404) {
      expect((await kpki.rest("POST", "/v1/authorities", { name: "kmip-other", type: "intermediate", parent: "kpki-root", subject: { commonName: "Other CA" } })).status).toBe(201);
    }
    const credentials = await issue();
    const attempt = KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: credentials.certPem, key: credentials.keyPem }).then(async (client) => {
      // In TLS 1.3 the server judges the client certificate after the client's Finished: the refusal arrives on the first read.
      try {
        return await client.send(requestMessage([1, 2], [{ operation: OP.Query, payload: [enumeration(TAG.QueryFunction, 1)] }]));
      } finally {
        client.close();
      }
    });
    await expect(attempt).rejects.toThrow(/certificate|alert|closed|handshake/i);
  });

  it("a client without a certificate, or with one kpki did not issue, cannot complete the handshake", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-selfsigned-"));
    try {
      const { generateKeyPairSync } = await import("node:crypto");
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      writeFileSync(path.join(dir, "k.pem"), keyPem);
      const selfSigned = selfSignedCertificate(path.join(dir, "k.pem"), path.join(dir, "c.pem"));
      const attempts = [
        KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: selfSigned, key: keyPem }).then(async (client) => {
          // TLS 1.3 reports the server's refusal of the client certificate after the handshake.
          await client.next();
        }),
        KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: "", key: "" }).then(async (client) => {
          await client.next();
        }),
      ];
      for (const attempt of attempts) await expect(attempt).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function findBytes(items: readonly { tag: number; type: number; value: unknown }[], tag: number): Uint8Array | undefined {
  for (const item of items) {
    if (item.tag === tag && item.value instanceof Uint8Array) return item.value;
    if (item.type === 0x01) {
      const found = findBytes(item.value as { tag: number; type: number; value: unknown }[], tag);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function selfSignedCertificate(keyFile: string, certFile: string): string {
  execFileSync("openssl", ["req", "-new", "-x509", "-key", keyFile, "-out", certFile, "-subj", "/CN=intruder/O=admin", "-days", "1", "-addext", "extendedKeyUsage=clientAuth"], { stdio: "ignore" });
  return readFileSync(certFile, "utf8");
}

import { Crypto as PeculiarCrypto } from "@peculiar/webcrypto";
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SIGNATURE_ALGORITHMS, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from "../../core/crypto/algorithms.js";
import type { KeyHandle } from "../../core/crypto/key-handle.js";
import { createMasterKeyRing, MasterKey } from "./master-key.js";
import { NodeRandomSource } from "./node-random.js";
import { countingProvider, failure, intercepted, pkcs8Fixture as fixture, PROVIDERS } from "./testing/webcrypto-test-kit.js";
import type { WebCryptoProvider } from "./webcrypto-algorithms.js";
import { keyMaterialAad, WebCryptoBackend } from "./webcrypto-backend.js";

const random = new NodeRandomSource();
const keyA = MasterKey.generate(random);
const keyB = MasterKey.generate(random);
const data = new TextEncoder().encode("to-be-signed certificate bytes");

/** node:crypto's verification, written out here (not the code under test) as the independent check. */
const VERIFY: Record<SignatureAlgorithm, { hash: string | null; options: { dsaEncoding?: "der"; padding?: number; saltLength?: number } }> = {
  "ECDSA-SHA256": { hash: "sha256", options: { dsaEncoding: "der" } },
  "ECDSA-SHA384": { hash: "sha384", options: { dsaEncoding: "der" } },
  "RSA-PKCS1-SHA256": { hash: "sha256", options: { padding: constants.RSA_PKCS1_PADDING } },
  "RSA-PKCS1-SHA384": { hash: "sha384", options: { padding: constants.RSA_PKCS1_PADDING } },
  "RSA-PKCS1-SHA512": { hash: "sha512", options: { padding: constants.RSA_PKCS1_PADDING } },
  "RSA-PSS-SHA256": { hash: "sha256", options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  Ed25519: { hash: null, options: {} },
};

function verifies(algorithm: SignatureAlgorithm, spki: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  const { hash, options } = VERIFY[algorithm];
  return verify(hash, data, { key, ...options }, signature);
}

function fitting(key: KeyAlgorithm): SignatureAlgorithm[] {
  return SIGNATURE_ALGORITHMS.filter((signature) => signatureFitsKey(signature, key));
}

function backend(provider: WebCryptoProvider, current = keyA, previous: MasterKey[] = [], cacheSize?: number): WebCryptoBackend {
  return new WebCryptoBackend({ crypto: provider, keyRing: createMasterKeyRing(current, previous), random, cacheSize });
}

function spkiOf(pkcs8: Uint8Array): Buffer {
  return createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" })).export({ format: "der", type: "spki" });
}

// RSA-4096 generation takes 2 s or more per provider, so it is covered by importing an OpenSSL key.
const GENERATED: readonly KeyAlgorithm[] = ["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "Ed25519"];
const OPENSSL_FIXTURES: readonly [string, KeyAlgorithm][] = [
  ["ecdsa-p256", "ECDSA-P256"],
  ["ecdsa-p384", "ECDSA-P384"],
  ["rsa-2048", "RSA-2048"],
  ["rsa-3072", "RSA-3072"],
  ["rsa-4096", "RSA-4096"],
  ["ed25519", "Ed25519"],
];

describe.each(PROVIDERS)("WebCryptoBackend over %s", (_, makeProvider) => {
  const provider = makeProvider();

  it.each(GENERATED)("generates %s and signs with every fitting algorithm (verified by node:crypto)", async (algorithm) => {
    const soft = backend(provider);
    const { handle, publicKeySpki } = await soft.generateKeyPair(algorithm);
    expect(handle).toMatchObject({ backend: "soft", algorithm, wrappingKeyId: keyA.id });
    expect(handle.ref[0]).toBe(0x01);
    expect(soft.isCurrent(handle)).toBe(true);

    const pkcs8 = await soft.exportPrivateKey(handle);
    expect(spkiOf(pkcs8).equals(Buffer.from(publicKeySpki))).toBe(true);
    expect(Buffer.from(handle.ref).includes(Buffer.from(pkcs8.subarray(-16)))).toBe(false); // sealed, not stored in clear

    for (const signatureAlgorithm of fitting(algorithm)) {
      const signature = await soft.sign(handle, signatureAlgorithm, data);
      expect(verifies(signatureAlgorithm, publicKeySpki, signature), signatureAlgorithm).toBe(true);
      // Signing again comes from the cache and must still be right.
      expect(verifies(signatureAlgorithm, publicKeySpki, await soft.sign(handle, signatureAlgorithm, data))).toBe(true);
    }
  });

  it.each(OPENSSL_FIXTURES)("imports the OpenSSL key %s, detects %s and signs with every fitting algorithm", async (name, algorithm) => {
    const soft = backend(provider);
    const pkcs8 = fixture(name);
    const { handle, publicKeySpki } = await soft.importPrivateKey(pkcs8);
    expect(handle.algorithm).toBe(algorithm);
    expect(Buffer.from(publicKeySpki).equals(spkiOf(pkcs8))).toBe(true);
    expect(Buffer.from(await soft.exportPrivateKey(handle)).equals(Buffer.from(pkcs8))).toBe(true);
    for (const signatureAlgorithm of fitting(algorithm)) {
      expect(verifies(signatureAlgorithm, publicKeySpki, await soft.sign(handle, signatureAlgorithm, data)), signatureAlgorithm).toBe(true);
    }
  });

  it("refuses a PKCS#8 whose embedded public key belongs to another key (pairwise consistency test)", async () => {
    const ours = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "der", type: "pkcs8" });
    const theirs = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "der", type: "pkcs8" });
    // The ECPrivateKey ends with the public point (65 bytes, uncompressed); OpenSSL trusts it as given.
    const forged = Buffer.concat([ours.subarray(0, ours.length - 65), theirs.subarray(theirs.length - 65)]);
    const error = await failure(backend(provider).importPrivateKey(forged));
    expect(error.code).toBe("invalid_input");
    // node's webcrypto already refuses the key at import; @peculiar/webcrypto signs, and the self-test catches it.
    expect(error.message).toMatch(/^privateKey: (the key fails its pairwise consistency test|the WebCrypto provider rejects this key)/);
  });

  it("re-seals to a new ring key and signs again; the old ring can no longer use the new handle", async () => {
    const before = backend(provider, keyA);
    const { handle, publicKeySpki } = await before.generateKeyPair("ECDSA-P256");

    const rotating = backend(provider, keyB, [keyA]);
    expect(rotating.isCurrent(handle)).toBe(false);
    expect(verifies("ECDSA-SHA256", publicKeySpki, await rotating.sign(handle, "ECDSA-SHA256", data))).toBe(true);
    const resealed = await rotating.reseal(handle);
    expect(resealed).toMatchObject({ backend: "soft", algorithm: "ECDSA-P256", wrappingKeyId: keyB.id });
    expect(rotating.isCurrent(resealed)).toBe(true);
    expect(await rotating.reseal(resealed)).toBe(resealed); // already current: nothing to do

    const after = backend(provider, keyB);
    expect(verifies("ECDSA-SHA256", publicKeySpki, await after.sign(resealed, "ECDSA-SHA256", data))).toBe(true);
    expect(Buffer.from(await after.exportPrivateKey(resealed)).equals(Buffer.from(await before.exportPrivateKey(handle)))).toBe(true);

    const stale = await failure(after.sign(handle, "ECDSA-SHA256", data));
    expect(stale.code).toBe("unavailable");
    expect(stale.message).toBe(
      `key is sealed under master key ${keyA.id}, which is not loaded (loaded: ${keyB.id}); add it as a previous master key to use or re-seal this key`,
    );
    expect((await failure(after.reseal(handle))).message).toContain(`master key ${keyA.id}, which is not loaded`);
  });

  it("refuses a handle sealed under another master key that claims the current key's id", async () => {
    const { handle } = await backend(provider, keyB).generateKeyPair("ECDSA-P256");
    const forged: KeyHandle = { ...handle, wrappingKeyId: keyA.id };
    const error = await failure(backend(provider, keyA).sign(forged, "ECDSA-SHA256", data));
    expect(error.message).toBe(`sealed blob cannot be opened with master key ${keyA.id} (wrong key, wrong purpose or damaged data)`);
  });

  it.each([
    ["a flipped ciphertext bit", (h: KeyHandle): KeyHandle => ({ ...h, ref: h.ref.map((b, i) => (i === 20 ? b ^ 1 : b)) })],
    ["a relabelled algorithm (AAD binds it)", (h: KeyHandle): KeyHandle => ({ ...h, algorithm: "ECDSA-P384" })],
  ])("refuses a handle with %s", async (_, tamper) => {
    const soft = backend(provider);
    const { handle } = await soft.generateKeyPair("ECDSA-P256");
    await soft.sign(handle, "ECDSA-SHA256", data); // warm the cache: tampering must not hit it
    const error = await failure(soft.sign(tamper(handle), "ECDSA-SHA256", data));
    expect(error.message).toContain(`cannot be opened with master key ${keyA.id}`);
  });
});

/** A provider that refuses some spellings of an algorithm, like an older WebCrypto implementation. */
function refusing(inner: WebCryptoProvider, refused: (algorithm: unknown) => boolean): WebCryptoProvider {
  return intercepted(inner, (method, args) =>
    refused(method === "importKey" ? args[2] : args[0]) ? Promise.reject(new Error("Unrecognized algorithm name")) : undefined,
  );
}

const named = (name: string) => (algorithm: unknown): boolean =>
  typeof algorithm === "object" && algorithm !== null && "name" in algorithm && algorithm.name === name;

describe("WebCryptoBackend Ed25519 spellings", () => {
  it("falls back to { name: 'EdDSA', namedCurve: 'Ed25519' } when the provider does not know 'Ed25519'", async () => {
    const soft = backend(refusing(new PeculiarCrypto(), named("Ed25519")));
    const generated = await soft.generateKeyPair("Ed25519");
    expect(verifies("Ed25519", generated.publicKeySpki, await soft.sign(generated.handle, "Ed25519", data))).toBe(true);
    const imported = await backend(refusing(new PeculiarCrypto(), named("Ed25519"))).importPrivateKey(fixture("ed25519"));
    expect(verifies("Ed25519", imported.publicKeySpki, await soft.sign(imported.handle, "Ed25519", data))).toBe(true);
  });

  it("reports a provider without Ed25519 as unsupported", async () => {
    const soft = backend(refusing(globalThis.crypto, (a) => named("Ed25519")(a) || named("EdDSA")(a)));
    const error = await failure(soft.generateKeyPair("Ed25519"));
    expect(error.code).toBe("unsupported");
    expect(error.message).toBe("this WebCrypto provider does not support Ed25519");
    expect((await failure(soft.importPrivateKey(fixture("ed25519")))).code).toBe("unsupported");
    const ecdsa = await soft.generateKeyPair("ECDSA-P256"); // other algorithms are unaffected
    expect(verifies("ECDSA-SHA256", ecdsa.publicKeySpki, await soft.sign(ecdsa.handle, "ECDSA-SHA256", data))).toBe(true);
  });
});

describe("WebCryptoBackend refusals", () => {
  const soft = backend(globalThis.crypto);

  it.each([
    ["P-521", () => fixture("ecdsa-p521"), "EC curve secp521r1 is not supported"],
    ["an RSASSA-PSS-restricted key", () => fixture("rsa-pss-restricted-2048"), "RSASSA-PSS-restricted keys"],
    ["RSA-1024", () => generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "der", type: "pkcs8" }), "RSA keys of 1024 bits"],
    ["Ed448", () => generateKeyPairSync("ed448").privateKey.export({ format: "der", type: "pkcs8" }), "of type ed448"],
    ["X25519", () => generateKeyPairSync("x25519").privateKey.export({ format: "der", type: "pkcs8" }), "of type x25519"],
  ])("refuses to import %s as unsupported", async (_, make, message) => {
    const error = await failure(soft.importPrivateKey(make()));
    expect(error.code).toBe("unsupported");
    expect(error.message).toContain(message);
  });

  const good = fixture("ecdsa-p256");
  const encrypted = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
    format: "der",
    type: "pkcs8",
    cipher: "aes-256-cbc",
    passphrase: "secret",
  });
  it.each([
    ["empty input", new Uint8Array(0)],
    ["random bytes", random.bytes(120)],
    ["a truncated PKCS#8", good.subarray(0, good.length - 10)],
    ["PEM text instead of DER", new TextEncoder().encode(readFileSync(new URL("./testdata/ecdsa-p256.pem", import.meta.url), "utf8"))],
    ["an encrypted PKCS#8", encrypted],
    ["a SubjectPublicKeyInfo", spkiOf(good)],
  ])("refuses %s as invalid_input on privateKey", async (_, input) => {
    const error = await failure(soft.importPrivateKey(input));
    expect(error.code).toBe("invalid_input");
    expect(error.detail.field).toBe("privateKey");
    expect(error.message).toBe("privateKey: not an unencrypted DER PKCS#8 private key");
  });

  it("refuses a signature algorithm that does not fit the key", async () => {
    const { handle } = await soft.generateKeyPair("ECDSA-P256");
    const error = await failure(soft.sign(handle, "RSA-PKCS1-SHA256", data));
    expect(error.message).toBe("algorithm: signature algorithm RSA-PKCS1-SHA256 does not fit a ECDSA-P256 key");
  });

  it("refuses a handle of another backend", async () => {
    const { handle } = await soft.generateKeyPair("ECDSA-P256");
    const error = await failure(soft.sign({ ...handle, backend: "pkcs11" }, "ECDSA-SHA256", data));
    expect(error.message).toBe('handle: key handle belongs to backend "pkcs11", not "soft"');
  });

  it("binds the sealed key to its purpose and algorithm", () => {
    expect(keyMaterialAad("RSA-2048")).toBe("kpki:key-material:v1:RSA-2048");
  });
});

describe("WebCryptoBackend key cache", () => {
  it("unseals and imports once for concurrent and repeated signatures", async () => {
    const { provider, imports } = countingProvider(globalThis.crypto);
    const soft = backend(provider);
    const { handle } = await soft.generateKeyPair("ECDSA-P256");
    await Promise.all(Array.from({ length: 20 }, () => soft.sign(handle, "ECDSA-SHA256", data)));
    await soft.sign(handle, "ECDSA-SHA256", data);
    expect(imports()).toBe(1);
    await soft.sign(handle, "ECDSA-SHA384", data); // another scheme is another entry
    expect(imports()).toBe(2);
  });

  it("evicts the least recently used key when full", async () => {
    const { provider, imports } = countingProvider(new PeculiarCrypto());
    const soft = backend(provider, keyA, [], 2);
    const handles = await Promise.all([1, 2, 3].map(() => soft.generateKeyPair("ECDSA-P256")));
    const [a, b, c] = handles.map((h) => h.handle) as [KeyHandle, KeyHandle, KeyHandle];
    await soft.sign(a, "ECDSA-SHA256", data);
    await soft.sign(b, "ECDSA-SHA256", data);
    await soft.sign(a, "ECDSA-SHA256", data); // a is now the most recent
    expect(imports()).toBe(2);
    await soft.sign(c, "ECDSA-SHA256", data); // evicts b
    await soft.sign(a, "ECDSA-SHA256", data);
    expect(imports()).toBe(3);
    await soft.sign(b, "ECDSA-SHA256", data);
    expect(imports()).toBe(4);
  });

  it("does not keep a failed load: the next signature tries again", async () => {
    let failNext = true;
    const soft = backend(
      intercepted(globalThis.crypto, (method) => {
        if (method !== "importKey" || !failNext) return undefined;
        failNext = false;
        return Promise.reject(new Error("transient provider failure"));
      }),
    );
    const { handle, publicKeySpki } = await soft.generateKeyPair("ECDSA-P256");
    const error = await failure(soft.sign(handle, "ECDSA-SHA256", data));
    expect(error.code).toBe("internal");
    expect(error.message).toBe("the WebCrypto provider cannot import this ECDSA-P256 key for ECDSA-SHA256");
    expect(verifies("ECDSA-SHA256", publicKeySpki, await soft.sign(handle, "ECDSA-SHA256", data))).toBe(true);
  });
});

import { constants, createCipheriv, createDecipheriv, createHmac, createPublicKey, publicEncrypt, type CipherGCMTypes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { openssl } from "../../../test/helpers/openssl.js";
import type { KeyHandle } from "../../core/crypto/key-handle.js";
import type { CipherParameters, SecretAlgorithm } from "../../core/crypto/secret-algorithms.js";
import type { DomainError } from "../../core/shared/domain-error.js";
import { createMasterKeyRing, MasterKey } from "./master-key.js";
import { NodeRandomSource } from "./node-random.js";
import { openSealed } from "./sealing.js";
import { failure, intercepted, pkcs8Fixture, PROVIDERS } from "./testing/webcrypto-test-kit.js";
import type { WebCryptoProvider } from "./webcrypto-algorithms.js";
import { secretAad, WebCryptoBackend } from "./webcrypto-backend.js";

const random = new NodeRandomSource();
const keyA = MasterKey.generate(random);
const keyB = MasterKey.generate(random);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const PLAINTEXTS: readonly Uint8Array[] = [new Uint8Array(0), text("k"), random.bytes(16), random.bytes(33), random.bytes(1024)];
const BAD_PARAMETERS = "Bad Cryptographic Parameters";

function backend(provider: WebCryptoProvider, current = keyA, previous: MasterKey[] = []): WebCryptoBackend {
  return new WebCryptoBackend({ crypto: provider, keyRing: createMasterKeyRing(current, previous), random });
}

const gcm = (iv: Uint8Array, aad?: Uint8Array, tagLengthBytes?: 12 | 16): CipherParameters => ({ mode: "AES-GCM", iv, aad, tagLengthBytes });
const cbc = (iv: Uint8Array): CipherParameters => ({ mode: "AES-CBC", iv });

/** node:crypto's AES, written out here (not the code under test) as the independent check. */
function nodeGcm(raw: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array, tagBytes = 16): { ciphertext: Buffer; tag: Buffer } {
  const cipher = createCipheriv(`aes-${raw.length * 8}-gcm` as CipherGCMTypes, raw, iv, { authTagLength: tagBytes });
  if (aad !== undefined) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

function nodeCbc(raw: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, padding = true): Buffer {
  const cipher = createCipheriv(`aes-${raw.length * 8}-cbc`, raw, iv).setAutoPadding(padding);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function expectDecryptionFailed(error: DomainError): void {
  expect(error.code).toBe("invalid_input");
  expect(error.message).toBe("decryption failed: the ciphertext, tag, IV or additional data does not match");
  expect(error.detail).toEqual({ field: "ciphertext", reason: "Cryptographic Failure" });
  expect(error.cause).toBeUndefined(); // the provider's message could tell a bad tag from bad padding
}

function expectBadParameter(error: DomainError, field: string, message: string): void {
  expect(error.code).toBe("invalid_input");
  expect(error.detail).toEqual({ field, reason: BAD_PARAMETERS });
  expect(error.message).toBe(`${field}: ${message}`);
}

describe.each(PROVIDERS)("WebCryptoBackend secrets over %s", (_, makeProvider) => {
  const provider = makeProvider();
  const soft = backend(provider);

  it.each([128, 192, 256])("AES-%i GCM: same ciphertext and tag as node:crypto, with and without AAD, and back", async (bits) => {
    const handle = await soft.generateSecret("AES", bits);
    expect(handle).toMatchObject({ backend: "soft", algorithm: "AES", wrappingKeyId: keyA.id });
    const raw = await soft.exportSecret(handle);
    expect(raw.length).toBe(bits / 8);
    for (const plaintext of PLAINTEXTS) {
      for (const aad of [undefined, text("kms:uid=42")]) {
        const iv = random.bytes(12);
        const out = await soft.encrypt(handle, gcm(iv, aad), plaintext);
        const expected = nodeGcm(raw, iv, plaintext, aad);
        expect(hex(out.ciphertext)).toBe(hex(expected.ciphertext));
        expect(hex(out.tag ?? new Uint8Array(0))).toBe(hex(expected.tag));
        expect(hex(await soft.decrypt(handle, gcm(iv, aad), expected.ciphertext, expected.tag))).toBe(hex(plaintext));
      }
    }
  });

  it.each([128, 192, 256])("AES-%i CBC with PKCS#7: same ciphertext as node:crypto, and back", async (bits) => {
    const handle = await soft.generateSecret("AES", bits);
    const raw = await soft.exportSecret(handle);
    for (const plaintext of PLAINTEXTS) {
      const iv = random.bytes(16);
      const out = await soft.encrypt(handle, cbc(iv), plaintext);
      expect(out.tag).toBeUndefined();
      expect(out.ciphertext.length).toBe((Math.floor(plaintext.length / 16) + 1) * 16); // always one byte of padding at least
      expect(hex(out.ciphertext)).toBe(hex(nodeCbc(raw, iv, plaintext)));
      const decipher = createDecipheriv(`aes-${bits}-cbc`, raw, iv);
      expect(hex(Buffer.concat([decipher.update(out.ciphertext), decipher.final()]))).toBe(hex(plaintext));
      expect(hex(await soft.decrypt(handle, cbc(iv), out.ciphertext))).toBe(hex(plaintext));
    }
  });

  it("AES-256 CBC agrees with the openssl enc binary in both directions", async () => {
    const raw = random.bytes(32);
    const handle = await soft.importSecret("AES", raw);
    const iv = random.bytes(16);
    const message = "kpki encrypts what openssl decrypts, and back again.";
    const ours = await soft.encrypt(handle, cbc(iv), text(message));
    const theirs = openssl(["enc", "-aes-256-cbc", "-K", hex(raw), "-iv", hex(iv), "-a", "-A"], Buffer.from(message)).trim();
    expect(Buffer.from(ours.ciphertext).toString("base64")).toBe(theirs);
    const back = openssl(["enc", "-d", "-aes-256-cbc", "-K", hex(raw), "-iv", hex(iv), "-a", "-A"], Buffer.from(`${Buffer.from(ours.ciphertext).toString("base64")}\n`));
    expect(back).toBe(message);
    expect(new TextDecoder().decode(await soft.decrypt(handle, cbc(iv), Buffer.from(theirs, "base64")))).toBe(message);
  });

  it("AES-GCM with a 12-byte tag matches node:crypto's truncated tag", async () => {
    const handle = await soft.generateSecret("AES", 256);
    const raw = await soft.exportSecret(handle);
    const iv = random.bytes(12);
    const plaintext = random.bytes(40);
    const out = await soft.encrypt(handle, gcm(iv, undefined, 12), plaintext);
    expect(hex(out.tag ?? new Uint8Array(0))).toBe(hex(nodeGcm(raw, iv, plaintext, undefined, 12).tag));
    expect(hex(await soft.decrypt(handle, gcm(iv, undefined, 12), out.ciphertext, out.tag))).toBe(hex(plaintext));
    // The tag's own length is never trusted: without tagLengthBytes a 12-byte tag is refused.
    await expect(soft.decrypt(handle, gcm(iv), out.ciphertext, out.tag)).rejects.toThrow("the tag is 12 bytes but tagLengthBytes is 16");
  });

  describe("AES-GCM decryption failures all look the same", () => {
    let f: { handle: KeyHandle; other: KeyHandle; iv: Uint8Array; aad: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array };
    beforeAll(async () => {
      const handle = await soft.generateSecret("AES", 256);
      const iv = random.bytes(12);
      const aad = text("kms:uid=42");
      const { ciphertext, tag } = await soft.encrypt(handle, gcm(iv, aad), random.bytes(64));
      f = { handle, other: await soft.generateSecret("AES", 256), iv, aad, ciphertext, tag: tag ?? new Uint8Array(0) };
    });
    const flip = (bytes: Uint8Array, at = 0): Uint8Array => Uint8Array.from(bytes, (b, i) => (i === at ? b ^ 1 : b));
    it.each([
      ["wrong AAD", () => soft.decrypt(f.handle, gcm(f.iv, text("kms:uid=43")), f.ciphertext, f.tag)],
      ["missing AAD", () => soft.decrypt(f.handle, gcm(f.iv), f.ciphertext, f.tag)],
      ["flipped tag bit", () => soft.decrypt(f.handle, gcm(f.iv, f.aad), f.ciphertext, flip(f.tag, 15))],
      ["flipped ciphertext bit", () => soft.decrypt(f.handle, gcm(f.iv, f.aad), flip(f.ciphertext, 10), f.tag)],
      ["truncated ciphertext", () => soft.decrypt(f.handle, gcm(f.iv, f.aad), f.ciphertext.subarray(1), f.tag)],
      ["wrong IV", () => soft.decrypt(f.handle, gcm(flip(f.iv), f.aad), f.ciphertext, f.tag)],
      ["wrong key", () => soft.decrypt(f.other, gcm(f.iv, f.aad), f.ciphertext, f.tag)],
    ] as const)("%s", async (_, call) => {
      expect(hex(await soft.decrypt(f.handle, gcm(f.iv, f.aad), f.ciphertext, f.tag)).length).toBe(128); // the genuine input decrypts
      expectDecryptionFailed(await failure(call()));
    });
  });

  it("AES-CBC: bad padding gives the same decryption failure; a ragged length says so", async () => {
    const handle = await soft.generateSecret("AES", 128);
    const raw = await soft.exportSecret(handle);
    const iv = random.bytes(16);
    const block = new Uint8Array(16).fill(7);
    block[15] = 0; // a last byte of 0 is never valid PKCS#7 padding
    const badPadding = nodeCbc(raw, iv, block, false);
    expectDecryptionFailed(await failure(soft.decrypt(handle, cbc(iv), badPadding)));
    const ragged = await failure(soft.decrypt(handle, cbc(iv), badPadding.subarray(1)));
    expect(ragged.message).toBe("ciphertext: an AES-CBC ciphertext is a non-empty multiple of 16 bytes, got 15");
    expect(ragged.detail).toEqual({ field: "ciphertext", reason: "Cryptographic Failure" });
  });

  it.each([
    ["HMAC-SHA256", "sha256", 256],
    ["HMAC-SHA384", "sha384", 384],
    ["HMAC-SHA512", "sha512", 512],
  ] as const)("%s equals node:crypto createHmac, for generated and imported keys", async (algorithm, hash, bits) => {
    const data = random.bytes(100);
    const generated = await soft.generateSecret(algorithm, bits);
    const raw = await soft.exportSecret(generated);
    expect(raw.length).toBe(bits / 8);
    expect(hex(await soft.mac(generated, data))).toBe(createHmac(hash, raw).update(data).digest("hex"));
    for (const length of [16, 128]) {
      const imported = random.bytes(length); // 128 bytes is longer than SHA-256's block: HMAC hashes it first
      const handle = await soft.importSecret(algorithm, imported);
      expect(hex(await soft.mac(handle, data))).toBe(createHmac(hash, imported).update(data).digest("hex"));
    }
  });

  it("RSA-OAEP-SHA256: decrypts what node:crypto publicEncrypt made; anything else fails the same way", async () => {
    const pkcs8 = pkcs8Fixture("rsa-2048");
    const { handle, publicKeySpki } = await soft.importPrivateKey(pkcs8);
    const publicKey = createPublicKey({ key: Buffer.from(publicKeySpki), format: "der", type: "spki" });
    const dek = random.bytes(32);
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, dek);
    expect(hex(await soft.decrypt(handle, { mode: "RSA-OAEP-SHA256" }, ciphertext))).toBe(hex(dek));
    const sha1 = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, dek);
    expectDecryptionFailed(await failure(soft.decrypt(handle, { mode: "RSA-OAEP-SHA256" }, sha1)));
    expectDecryptionFailed(await failure(soft.decrypt(handle, { mode: "RSA-OAEP-SHA256" }, ciphertext.subarray(1))));
    expect(hex(await soft.exportPrivateKey(handle))).toBe(hex(pkcs8)); // the OAEP import did not change the stored key
  });

  it("DATA: sealed, exported unchanged, never used as a key", async () => {
    const generated = await soft.generateSecret("DATA", 8 * 48);
    expect((await soft.exportSecret(generated)).length).toBe(48);
    for (const raw of [text("x"), random.bytes(65536)]) {
      const handle = await soft.importSecret("DATA", raw);
      expect(handle.algorithm).toBe("DATA");
      if (raw.length >= 16) expect(Buffer.from(handle.ref).includes(Buffer.from(raw.subarray(0, 16)))).toBe(false); // sealed, not in clear
      expect(hex(await soft.exportSecret(handle))).toBe(hex(raw));
      expect(hex(openSealed(keyA, handle.ref, secretAad("DATA")))).toBe(hex(raw));
    }
    expectBadParameter(await failure(soft.encrypt(generated, gcm(random.bytes(12)), text("x"))), "mode", "AES-GCM needs an AES key, not a DATA key");
    expectBadParameter(await failure(soft.mac(generated, text("x"))), "handle", "MAC needs an HMAC key, not a DATA key");
  });

  it.each([
    ["AES", 100, "an AES key is 128, 192 or 256 bits, got 100"],
    ["AES", 512, "an AES key is 128, 192 or 256 bits, got 512"],
    ["HMAC-SHA256", 120, "an HMAC key is 128 to 1024 bits in whole bytes, got 120"],
    ["HMAC-SHA512", 1032, "an HMAC key is 128 to 1024 bits in whole bytes, got 1032"],
    ["HMAC-SHA384", 260, "an HMAC key is 128 to 1024 bits in whole bytes, got 260"],
    ["DATA", 0, "generated secret data is 8 to 65536 bits in whole bytes, got 0"],
    ["DATA", 65544, "generated secret data is 8 to 65536 bits in whole bytes, got 65544"],
    ["DATA", 12, "generated secret data is 8 to 65536 bits in whole bytes, got 12"],
    ["DATA", Number.NaN, "generated secret data is 8 to 65536 bits in whole bytes, got NaN"],
  ] as const)("refuses to generate %s of %d bits", async (algorithm, bits, message) => {
    const error = await failure(soft.generateSecret(algorithm, bits));
    expect(error.code).toBe("invalid_input");
    expect(error.detail.field).toBe("length");
    expect(error.message).toBe(`length: ${message}`);
  });

  it.each([
    ["AES", 20, "an AES key is 16, 24 or 32 bytes, got 20"],
    ["AES", 0, "an AES key is 16, 24 or 32 bytes, got 0"],
    ["HMAC-SHA256", 15, "an HMAC key is 16 to 128 bytes, got 15"],
    ["HMAC-SHA512", 129, "an HMAC key is 16 to 128 bytes, got 129"],
    ["DATA", 0, "secret data is 1 to 65536 bytes, got 0"],
    ["DATA", 65537, "secret data is 1 to 65536 bytes, got 65537"],
  ] as const)("refuses to import %s of %d bytes", async (algorithm, bytes, message) => {
    const error = await failure(soft.importSecret(algorithm, new Uint8Array(bytes)));
    expect(error.detail.field).toBe("length");
    expect(error.message).toBe(`length: ${message}`);
  });

  it("refuses an unknown secret algorithm", async () => {
    const error = await failure(soft.generateSecret("DES" as SecretAlgorithm, 64));
    expect(error.message).toBe("algorithm: unknown secret algorithm DES");
  });

  it("re-seals a secret under a new master key: still decrypts, same bytes; relabelling it fails", async () => {
    const before = backend(provider, keyA);
    const handle = await before.generateSecret("AES", 256);
    const iv = random.bytes(12);
    const { ciphertext, tag } = await before.encrypt(handle, gcm(iv), text("secret at rest"));

    const rotating = backend(provider, keyB, [keyA]);
    expect(rotating.isCurrent(handle)).toBe(false);
    const resealed = await rotating.reseal(handle);
    expect(resealed).toMatchObject({ backend: "soft", algorithm: "AES", wrappingKeyId: keyB.id });
    expect(rotating.isCurrent(resealed)).toBe(true);
    expect(await rotating.reseal(resealed)).toBe(resealed);

    const after = backend(provider, keyB);
    expect(new TextDecoder().decode(await after.decrypt(resealed, gcm(iv), ciphertext, tag))).toBe("secret at rest");
    expect(hex(await after.exportSecret(resealed))).toBe(hex(await before.exportSecret(handle)));
    expect((await failure(after.decrypt(handle, gcm(iv), ciphertext, tag))).code).toBe("unavailable");

    // The AAD binds the blob to "secret" and to its algorithm: no relabelled handle opens.
    const cannotOpen = `sealed blob cannot be opened with master key ${keyB.id} (wrong key, wrong purpose or damaged data)`;
    expect((await failure(after.exportSecret({ ...resealed, algorithm: "DATA" }))).message).toBe(cannotOpen);
    expect((await failure(after.mac({ ...resealed, algorithm: "HMAC-SHA256" }, text("x")))).message).toBe(cannotOpen);
    expect((await failure(after.exportPrivateKey({ ...resealed, algorithm: "RSA-2048" }))).message).toBe(cannotOpen);
  });

  describe("refusals", () => {
    let aes: KeyHandle, hmac: KeyHandle, ecdsa: KeyHandle, rsa: KeyHandle;
    beforeAll(async () => {
      aes = await soft.generateSecret("AES", 128);
      hmac = await soft.generateSecret("HMAC-SHA256", 256);
      ecdsa = (await soft.importPrivateKey(pkcs8Fixture("ecdsa-p256"))).handle;
      rsa = (await soft.importPrivateKey(pkcs8Fixture("rsa-2048"))).handle;
    });
    const iv12 = random.bytes(12);
    const x = text("x");

    it.each([
      ["GCM with a 16-byte IV", () => soft.encrypt(aes, gcm(random.bytes(16)), x), "iv", "AES-GCM takes a 12-byte IV, got 16 bytes"],
      ["CBC with a 12-byte IV", () => soft.encrypt(aes, cbc(iv12), x), "iv", "AES-CBC takes a 16-byte IV, got 12 bytes"],
      ["a missing IV", () => soft.encrypt(aes, { mode: "AES-GCM" } as CipherParameters, x), "iv", "AES-GCM takes a 12-byte IV, got none"],
      ["an 11-byte tag length", () => soft.encrypt(aes, { mode: "AES-GCM", iv: iv12, tagLengthBytes: 11 } as unknown as CipherParameters, x), "tagLengthBytes", "an AES-GCM tag is 12 to 16 bytes, got 11"],
      ["AAD that is not bytes", () => soft.encrypt(aes, { mode: "AES-GCM", iv: iv12, aad: "text" } as unknown as CipherParameters, x), "aad", "additional authenticated data must be bytes"],
      ["an unknown mode", () => soft.encrypt(aes, { mode: "AES-CTR", iv: iv12 } as unknown as CipherParameters, x), "mode", "unknown cipher mode AES-CTR; expected AES-GCM, AES-CBC or RSA-OAEP-SHA256"],
      ["RSA-OAEP encryption", () => soft.encrypt(rsa, { mode: "RSA-OAEP-SHA256" }, x), "mode", "RSA-OAEP-SHA256 encrypts with the public key, outside the backend; the backend only decrypts with the private key"],
      ["GCM decryption without a tag", () => soft.decrypt(aes, gcm(iv12), x), "tag", "AES-GCM decryption needs the authentication tag"],
      ["a tag of another length than tagLengthBytes", () => soft.decrypt(aes, gcm(iv12, undefined, 12), x, random.bytes(16)), "tag", "the tag is 16 bytes but tagLengthBytes is 12"],
      ["an 8-byte tag", () => soft.decrypt(aes, gcm(iv12), x, random.bytes(8)), "tag", "an AES-GCM tag is 12 to 16 bytes, got 8"],
      ["CBC with a tag", () => soft.decrypt(aes, cbc(random.bytes(16)), random.bytes(16), random.bytes(16)), "tag", "AES-CBC has no authentication tag"],
      ["encryption with an HMAC key", () => soft.encrypt(hmac, gcm(iv12), x), "mode", "AES-GCM needs an AES key, not a HMAC-SHA256 key"],
      ["encryption with an ECDSA key", () => soft.encrypt(ecdsa, cbc(random.bytes(16)), x), "mode", "AES-CBC needs an AES key, not a ECDSA-P256 key"],
      ["RSA-OAEP with an AES key", () => soft.decrypt(aes, { mode: "RSA-OAEP-SHA256" }, x), "mode", "RSA-OAEP-SHA256 needs an RSA private key, not a AES key"],
      ["RSA-OAEP with an ECDSA key", () => soft.decrypt(ecdsa, { mode: "RSA-OAEP-SHA256" }, x), "mode", "RSA-OAEP-SHA256 needs an RSA private key, not a ECDSA-P256 key"],
      ["RSA-OAEP with a tag", () => soft.decrypt(rsa, { mode: "RSA-OAEP-SHA256" }, x, random.bytes(16)), "tag", "RSA-OAEP has no authentication tag"],
      ["MAC with an AES key", () => soft.mac(aes, x), "handle", "MAC needs an HMAC key, not a AES key"],
      ["MAC with an RSA key", () => soft.mac(rsa, x), "handle", "MAC needs an HMAC key, not a RSA-2048 key"],
    ] as const)("refuses %s as Bad Cryptographic Parameters", async (_, call, field, message) => {
      expectBadParameter(await failure(call()), field, message);
    });

    it.each([
      ["signing with an AES key", () => soft.sign(aes, "ECDSA-SHA256", x), "handle: the handle holds AES secret material, not a private key, so it cannot sign"],
      ["exporting an HMAC key as a private key", () => soft.exportPrivateKey(hmac), "handle: the handle holds HMAC-SHA256 secret material, not a private key, so it cannot export as a private key"],
      ["exporting a private key as a secret", () => soft.exportSecret(ecdsa), "handle: the handle holds a ECDSA-P256 private key, not a secret; use exportPrivateKey"],
      ["a handle of another backend", () => soft.encrypt({ ...aes, backend: "pkcs11" }, gcm(iv12), x), 'handle: key handle belongs to backend "pkcs11", not "soft"'],
      ["an unknown algorithm", () => soft.mac({ ...hmac, algorithm: "HMAC-MD5" } as unknown as KeyHandle, x), "handle: unknown key algorithm HMAC-MD5"],
    ] as const)("refuses %s", async (_, call, message) => {
      const error = await failure(call());
      expect(error.code).toBe("invalid_input");
      expect(error.detail.field).toBe("handle");
      expect(error.message).toBe(message);
    });
  });
});

describe("WebCryptoBackend secret key cache", () => {
  it("a warm AES-GCM encrypt or decrypt is one provider call; a new mode imports once", async () => {
    const calls: string[] = [];
    const soft = backend(
      intercepted(globalThis.crypto, (method) => {
        calls.push(String(method));
        return undefined;
      }),
    );
    const handle = await soft.generateSecret("AES", 256);
    expect(calls).toEqual(["importKey"]); // the provider check at creation also warms the cache for GCM
    calls.length = 0;
    const iv = random.bytes(12);
    const { ciphertext, tag } = await soft.encrypt(handle, gcm(iv), text("hot path"));
    await soft.decrypt(handle, gcm(iv), ciphertext, tag);
    expect(calls).toEqual(["encrypt", "decrypt"]);
    calls.length = 0;
    await Promise.all(Array.from({ length: 10 }, () => soft.encrypt(handle, cbc(random.bytes(16)), text("x"))));
    expect(calls.filter((c) => c === "importKey")).toHaveLength(1);
    calls.length = 0;
    // Another backend (another replica) reads the same handle: unseal + import once, then cached.
    const replica = backend(
      intercepted(globalThis.crypto, (method) => {
        calls.push(String(method));
        return undefined;
      }),
    );
    await replica.decrypt(handle, gcm(iv), ciphertext, tag);
    await replica.decrypt(handle, gcm(iv), ciphertext, tag);
    expect(calls).toEqual(["importKey", "decrypt", "decrypt"]);
  });

  it("reports a provider that refuses a key size as unsupported at creation", async () => {
    const soft = backend(
      intercepted(globalThis.crypto, (method, args) => {
        const raw = args[1];
        return method === "importKey" && raw instanceof Uint8Array && raw.length === 24 ? Promise.reject(new Error("AES-192 is not supported")) : undefined;
      }),
    );
    const error = await failure(soft.generateSecret("AES", 192));
    expect(error.code).toBe("unsupported");
    expect(error.message).toBe("this WebCrypto provider does not support 192-bit AES keys");
    await expect(soft.generateSecret("AES", 256)).resolves.toMatchObject({ algorithm: "AES" });
  });

  it("binds a sealed secret to its purpose and algorithm", () => {
    expect(secretAad("HMAC-SHA384")).toBe("kpki:secret:v1:HMAC-SHA384");
  });
});

import { describe, expect, it } from "vitest";
import { DomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import { MasterKey } from "./master-key.js";
import { NodeRandomSource } from "./node-random.js";
import { openSealed, seal, SEALED_FORMAT_V1 } from "./sealing.js";

const random = new NodeRandomSource();
const key = MasterKey.generate(random);
const otherKey = MasterKey.generate(random);
const AAD = "kpki:key-material:v1:ECDSA-P256";
const plaintext = new TextEncoder().encode("a PKCS#8 private key, in real life");

function openError(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error("expected openSealed to fail");
}

describe("seal / openSealed", () => {
  it("round-trips, with the layout 0x01 ‖ iv(12) ‖ ciphertext ‖ tag(16)", () => {
    const blob = seal(key, plaintext, AAD, random);
    expect(blob[0]).toBe(SEALED_FORMAT_V1);
    expect(blob).toHaveLength(1 + 12 + plaintext.length + 16);
    expect(Buffer.from(blob).includes(Buffer.from(plaintext))).toBe(false);
    expect(openSealed(key, blob, AAD)).toEqual(plaintext);
  });

  it("round-trips an empty plaintext and binary AAD", () => {
    const aad = Uint8Array.of(0, 1, 2, 255);
    expect(openSealed(key, seal(key, new Uint8Array(0), aad, random), aad)).toEqual(new Uint8Array(0));
  });

  it("uses a fresh IV for every seal", () => {
    const a = seal(key, plaintext, AAD, random);
    const b = seal(key, plaintext, AAD, random);
    expect(Buffer.from(a.subarray(1, 13)).equals(Buffer.from(b.subarray(1, 13)))).toBe(false);
  });

  it("is AES-256-GCM as WebCrypto computes it (independent implementation)", async () => {
    const iv = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    const fixedIv: RandomSource = { bytes: (length) => iv.slice(0, length) };
    const blob = seal(key, plaintext, AAD, fixedIv);
    const aesKey = await crypto.subtle.importKey("raw", key.cipherKey().export(), "AES-GCM", false, ["encrypt"]);
    const expected = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(AAD) }, aesKey, plaintext);
    expect(Buffer.from(blob).equals(Buffer.concat([Buffer.of(1), iv, Buffer.from(expected)]))).toBe(true);
  });

  it("refuses the wrong master key with a message naming only that key's id", () => {
    const blob = seal(key, plaintext, AAD, random);
    const error = openError(() => openSealed(otherKey, blob, AAD));
    expect(error.code).toBe("internal");
    expect(error.message).toBe(
      `sealed blob cannot be opened with master key ${otherKey.id} (wrong key, wrong purpose or damaged data)`,
    );
    expect(error.cause).toBeUndefined();
  });

  it("refuses another purpose (AAD)", () => {
    const blob = seal(key, plaintext, AAD, random);
    expect(() => openSealed(key, blob, "kpki:key-material:v1:ECDSA-P384")).toThrow(`cannot be opened with master key ${key.id}`);
    expect(() => openSealed(key, blob, "")).toThrow(DomainError);
  });

  const blobLength = 1 + 12 + plaintext.length + 16;
  it.each([
    ["format byte", 0],
    ["first IV byte", 1],
    ["last IV byte", 12],
    ["first ciphertext byte", 13],
    ["last ciphertext byte", blobLength - 17],
    ["first tag byte", blobLength - 16],
    ["last tag byte", blobLength - 1],
  ])("refuses a flipped bit in the %s", (_, index) => {
    const blob = seal(key, plaintext, AAD, random);
    blob[index] = (blob[index] ?? 0) ^ 0x01;
    expect(() => openSealed(key, blob, AAD)).toThrow(`sealed blob cannot be opened with master key ${key.id}`);
  });

  it.each([
    ["empty", 0],
    ["header only", 13],
    ["one byte short of a tag", 28],
    ["missing its last byte", blobLength - 1],
  ])("refuses a truncated blob (%s)", (_, length) => {
    const blob = seal(key, plaintext, AAD, random).subarray(0, length);
    expect(() => openSealed(key, blob, AAD)).toThrow(`cannot be opened with master key ${key.id}`);
  });

  it("refuses an IV of the wrong length from the random source", () => {
    const broken: RandomSource = { bytes: () => new Uint8Array(8) };
    expect(() => seal(key, plaintext, AAD, broken)).toThrow("8 bytes for a 12-byte IV");
  });
});

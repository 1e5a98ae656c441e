import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { derBitString, derNull, derOid, derSequence } from "./der/der-writer.js";
import { AlgorithmOid } from "./oids.js";
import { inspectPublicKey, publicKeyAlgorithm } from "./public-key.js";
import { testKey } from "./testing/keys.js";
import { refusal } from "./testing/refusal.js";

const spkiOf = (pair: { publicKey: { export(o: { type: "spki"; format: "der" }): Buffer } }): Uint8Array =>
  new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" }));

describe("publicKeyAlgorithm", () => {
  it.each(["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096", "Ed25519"] as const)("recognises %s", (algorithm) => {
    expect(publicKeyAlgorithm(testKey(algorithm).spkiDer)).toBe(algorithm);
  });

  /** A fresh key whose raw public key bits satisfy `wanted` (about 1 key in 256 for a leading zero octet). */
  function keyWhere(type: "ed25519" | "ec", wanted: (bits: Buffer) => boolean): Uint8Array {
    for (;;) {
      const spki = type === "ec" ? spkiOf(generateKeyPairSync("ec", { namedCurve: "P-256" })) : spkiOf(generateKeyPairSync("ed25519"));
      if (wanted(Buffer.from(spki.subarray(spki.length - (type === "ec" ? 65 : 32))))) return spki;
    }
  }

  it.each([
    ["an Ed25519 key starting with a zero octet", () => keyWhere("ed25519", (bits) => bits[0] === 0), "Ed25519"],
    ["a P-256 key whose x starts with a zero octet", () => keyWhere("ec", (bits) => bits[1] === 0), "ECDSA-P256"],
    ["a P-256 key whose y starts with a zero octet", () => keyWhere("ec", (bits) => bits[33] === 0), "ECDSA-P256"],
  ] as const)("imports %s (fixed-length values keep their leading zeros)", (_name, make, algorithm) => {
    const spki = make();
    const info = inspectPublicKey(spki);
    expect(info.algorithm).toBe(algorithm);
    expect(Buffer.from(info.key.export({ type: "spki", format: "der" }))).toEqual(Buffer.from(spki));
  });

  it("returns an importable key and the raw key bits", () => {
    const info = inspectPublicKey(testKey("ECDSA-P256").spkiDer);
    expect(info.key.asymmetricKeyType).toBe("ec");
    expect(info.subjectPublicKey).toHaveLength(65);
    expect(Buffer.from(info.key.export({ type: "spki", format: "der" }))).toEqual(Buffer.from(testKey("ECDSA-P256").spkiDer));
  });

  it.each([
    ["RSA-1024", () => spkiOf(generateKeyPairSync("rsa", { modulusLength: 1024 })), "RSA-1024 keys are not allowed (2048, 3072 or 4096 bits)"],
    ["RSA-2056", () => spkiOf(generateKeyPairSync("rsa", { modulusLength: 2056 })), "RSA-2056 keys are not allowed (2048, 3072 or 4096 bits)"],
    ["P-521", () => spkiOf(generateKeyPairSync("ec", { namedCurve: "P-521" })), "EC curve P-521 is not supported (P-256 or P-384)"],
    ["secp256k1", () => spkiOf(generateKeyPairSync("ec", { namedCurve: "secp256k1" })), "EC curve 1.3.132.0.10 is not supported (P-256 or P-384)"],
    ["Ed448", () => spkiOf(generateKeyPairSync("ed448")), "Ed448 keys are not supported"],
    ["X25519", () => spkiOf(generateKeyPairSync("x25519")), "X25519 keys cannot sign"],
    ["DSA", () => derSequence(derSequence(derOid(AlgorithmOid.dsa)), derBitString(Uint8Array.of(2, 1, 5))), "DSA keys are not supported"],
    ["an unknown algorithm", () => derSequence(derSequence(derOid("1.2.3.4")), derBitString(Uint8Array.of(0))), "public key algorithm 1.2.3.4 is not supported"],
    ["EC with explicit parameters", () => derSequence(derSequence(derOid(AlgorithmOid.idEcPublicKey), derSequence()), derBitString(Uint8Array.of(4))), "EC keys must name their curve (RFC 5480 §2.1.1)"],
  ])("refuses %s as unsupported", (_name, make, message) => {
    expect(refusal(() => publicKeyAlgorithm(make()))).toMatchObject({ code: "unsupported", message, detail: { field: "publicKey" } });
  });

  const p256 = testKey("ECDSA-P256").spkiDer;
  const ed = testKey("Ed25519").spkiDer;
  const rsa = testKey("RSA-2048").spkiDer;
  const flipLast = (der: Uint8Array): Uint8Array => {
    const copy = der.slice();
    copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
    return copy;
  };
  it.each([
    ["garbage", Uint8Array.of(1, 2, 3), "publicKey: DER: length exceeds available bytes at offset 0"],
    ["a truncated key", p256.subarray(0, 40), "publicKey: DER: length exceeds available bytes at offset 0"],
    ["a point off the curve", flipLast(p256), "publicKey: the ECDSA-P256 key does not import"],
    ["a compressed point", derSequence(derSequence(derOid(AlgorithmOid.idEcPublicKey), derOid(AlgorithmOid.prime256v1)), derBitString(Uint8Array.of(2, ...new Uint8Array(32)))), "publicKey: ECDSA-P256 key must be an uncompressed point of 65 bytes"],
    ["RSA without NULL parameters", derSequence(derSequence(derOid(AlgorithmOid.rsaEncryption)), derBitString(Uint8Array.of(0x30, 0))), "publicKey: rsaEncryption parameters must be NULL (RFC 3279 §2.3.1)"],
    ["RSA with an even exponent", derSequence(derSequence(derOid(AlgorithmOid.rsaEncryption), derNull()), derBitString(Uint8Array.of(0x30, 6, 2, 1, 0x7f, 2, 1, 4))), "publicKey: RSA public exponent must be odd and at least 3"],
    ["Ed25519 with parameters", derSequence(derSequence(derOid(AlgorithmOid.ed25519), derNull()), derBitString(ed.subarray(12))), "publicKey: Ed25519 parameters must be absent (RFC 8410 §3)"],
    ["a short Ed25519 key", derSequence(derSequence(derOid(AlgorithmOid.ed25519)), derBitString(new Uint8Array(31))), "publicKey: Ed25519 key must be 32 bytes"],
    ["trailing bytes", Uint8Array.from([...rsa, 0]), "publicKey: DER: 1 trailing byte(s) after the element at offset 294"],
  ])("refuses %s as invalid input", (_name, der, message) => {
    const error = refusal(() => publicKeyAlgorithm(der));
    expect(error.code).toBe("invalid_input");
    expect(error.message.startsWith(message)).toBe(true);
  });
});

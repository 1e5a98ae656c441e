import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import { DomainError } from "../../core/shared/domain-error.js";
import { inspectPrivateKey } from "./private-key-info.js";

const pkcs8 = (key: ReturnType<typeof generateKeyPairSync>["privateKey"]): Buffer => key.export({ format: "der", type: "pkcs8" });

describe("inspectPrivateKey", () => {
  it.each([
    ["ECDSA-P256", () => generateKeyPairSync("ec", { namedCurve: "P-256" })],
    ["ECDSA-P384", () => generateKeyPairSync("ec", { namedCurve: "P-384" })],
    ["RSA-2048", () => generateKeyPairSync("rsa", { modulusLength: 2048 })],
    ["Ed25519", () => generateKeyPairSync("ed25519")],
  ] as const)("recognises %s and derives its SubjectPublicKeyInfo", (algorithm: KeyAlgorithm, make) => {
    const pair = make();
    const info = inspectPrivateKey(pkcs8(pair.privateKey));
    expect(info.algorithm).toBe(algorithm);
    expect(Buffer.from(info.publicKeySpki).equals(pair.publicKey.export({ format: "der", type: "spki" }))).toBe(true);
    expect(createPublicKey(createPrivateKey({ key: Buffer.from(info.pkcs8), format: "der", type: "pkcs8" })).export({ format: "der", type: "spki" }))
      .toEqual(pair.publicKey.export({ format: "der", type: "spki" }));
  });

  it.each([
    ["secp256k1", () => pkcs8(generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey), "EC curve secp256k1 is not supported"],
    ["RSA-1536", () => pkcs8(generateKeyPairSync("rsa", { modulusLength: 1536 }).privateKey), "RSA keys of 1536 bits"],
    ["DSA", () => pkcs8(generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 }).privateKey), "private keys of type dsa"],
  ])("refuses %s as unsupported", (_, make, message) => {
    let error: unknown;
    try {
      inspectPrivateKey(make());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("unsupported");
    expect((error as DomainError).message).toContain(message);
  });
});

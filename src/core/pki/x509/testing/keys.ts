import { constants, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { KeyAlgorithm, SignatureAlgorithm } from "../../../crypto/algorithms.js";

// Test-only key material and signing with node:crypto, standing in for the CryptoBackend.

/** A software key pair for tests. */
export interface TestKey {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly spkiDer: Uint8Array;
  /** PEM PKCS #8, for openssl. */
  readonly privatePem: string;
}

const cache = new Map<string, TestKey>();

/** Generates (once per algorithm and label) a key pair. */
export function testKey(algorithm: KeyAlgorithm | "RSA-1024" | "P-521", label = "default"): TestKey {
  const id = `${algorithm}/${label}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const pair =
    algorithm === "Ed25519"
      ? generateKeyPairSync("ed25519")
      : algorithm.startsWith("RSA")
        ? generateKeyPairSync("rsa", { modulusLength: Number(algorithm.slice(4)) })
        : generateKeyPairSync("ec", { namedCurve: algorithm === "ECDSA-P256" ? "P-256" : algorithm === "ECDSA-P384" ? "P-384" : "P-521" });
  const key: TestKey = {
    algorithm: algorithm as KeyAlgorithm,
    privateKey: pair.privateKey,
    spkiDer: new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" })),
    privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  cache.set(id, key);
  return key;
}

/** Signs like the CryptoBackend does: DER ECDSA signatures, PSS with a 32-byte salt. */
export function testSign(key: TestKey, algorithm: SignatureAlgorithm, data: Uint8Array): Uint8Array {
  const hash = algorithm === "Ed25519" ? null : `sha${algorithm.slice(-3)}`;
  if (algorithm === "RSA-PSS-SHA256") {
    return new Uint8Array(sign(hash, data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }));
  }
  return new Uint8Array(sign(hash, data, { key: key.privateKey, dsaEncoding: "der" }));
}

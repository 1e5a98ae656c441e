import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { derContextExplicit, derInteger, derNull, derOid, derSequence } from "./der/der-writer.js";
import { AlgorithmOid } from "./oids.js";
import { parseSignatureAlgorithm, signatureAlgorithmIdentifier, verifySignature } from "./signature-algorithm.js";
import { testKey, testSign } from "./testing/keys.js";
import { refusal } from "./testing/refusal.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

describe("AlgorithmIdentifier encodings", () => {
  it.each([
    ["ECDSA-SHA256", "300a06082a8648ce3d040302"],
    ["ECDSA-SHA384", "300a06082a8648ce3d040303"],
    ["RSA-PKCS1-SHA256", "300d06092a864886f70d01010b0500"],
    ["RSA-PKCS1-SHA384", "300d06092a864886f70d01010c0500"],
    ["RSA-PKCS1-SHA512", "300d06092a864886f70d01010d0500"],
    ["Ed25519", "300506032b6570"],
    // The bytes Go's crypto/x509 writes for SHA256WithRSAPSS (RFC 4055 §3.1).
    ["RSA-PSS-SHA256", "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120"],
  ] as [SignatureAlgorithm, string][])("%s", (algorithm, expected) => {
    expect(hex(signatureAlgorithmIdentifier(algorithm))).toBe(expected);
    expect(parseSignatureAlgorithm(unhex(expected))).toBe(algorithm);
  });

  const sha256Absent = derSequence(derOid(AlgorithmOid.sha256));
  const sha384 = derSequence(derOid(AlgorithmOid.sha384), derNull());
  const pss = (hash: Uint8Array, mgfHash: Uint8Array, salt: number): Uint8Array =>
    derSequence(
      derOid(AlgorithmOid.rsassaPss),
      derSequence(derContextExplicit(0, hash), derContextExplicit(1, derSequence(derOid(AlgorithmOid.mgf1), mgfHash)), derContextExplicit(2, derInteger(salt))),
    );

  it("accepts absent parameters where RFC 4055 allows them", () => {
    expect(parseSignatureAlgorithm(derSequence(derOid(AlgorithmOid.sha256WithRsaEncryption)))).toBe("RSA-PKCS1-SHA256");
    expect(parseSignatureAlgorithm(pss(sha256Absent, sha256Absent, 32))).toBe("RSA-PSS-SHA256");
  });

  it.each([
    ["sha1WithRSAEncryption", derSequence(derOid(AlgorithmOid.sha1WithRsaEncryption), derNull()), "SHA-1 signatures (sha1WithRSAEncryption) are not supported"],
    ["ecdsa-with-SHA1", derSequence(derOid(AlgorithmOid.ecdsaWithSha1)), "SHA-1 signatures (ecdsa-with-SHA1) are not supported"],
    ["an unknown OID", derSequence(derOid("1.2.3.4")), "signature algorithm 1.2.3.4 is not supported"],
    ["PSS with SHA-384", pss(sha384, sha384, 48), "RSASSA-PSS with a hash other than SHA-256 is not supported (only SHA-256, MGF1-SHA-256, salt 32)"],
    ["PSS with salt 20", pss(sha256Absent, sha256Absent, 20), "RSASSA-PSS with a salt length other than 32 is not supported (only SHA-256, MGF1-SHA-256, salt 32)"],
    ["PSS with MGF1-SHA-384", pss(sha256Absent, sha384, 32), "RSASSA-PSS with a mask generation other than MGF1-SHA-256 is not supported (only SHA-256, MGF1-SHA-256, salt 32)"],
    ["PSS with default (SHA-1) parameters", derSequence(derOid(AlgorithmOid.rsassaPss), derSequence()), "RSASSA-PSS with a hash other than SHA-256 is not supported (only SHA-256, MGF1-SHA-256, salt 32)"],
  ])("refuses %s as unsupported", (_name, der, message) => {
    expect(refusal(() => parseSignatureAlgorithm(der))).toMatchObject({ code: "unsupported", message });
  });

  it.each([
    ["ECDSA with NULL parameters", derSequence(derOid(AlgorithmOid.ecdsaWithSha256), derNull()), "ECDSA-SHA256: parameters must be absent"],
    ["Ed25519 with NULL parameters", derSequence(derOid(AlgorithmOid.ed25519), derNull()), "Ed25519: parameters must be absent"],
    ["PSS without parameters", derSequence(derOid(AlgorithmOid.rsassaPss)), "RSASSA-PSS: parameters are required"],
    ["RSA with non-NULL parameters", derSequence(derOid(AlgorithmOid.sha256WithRsaEncryption), derInteger(0)), "expected NULL"],
  ])("refuses %s as invalid", (_name, der, reason) => {
    const error = refusal(() => parseSignatureAlgorithm(der));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain(reason);
  });
});

describe("verifySignature", () => {
  const data = new TextEncoder().encode("to be signed");
  const cases: [SignatureAlgorithm, "ECDSA-P256" | "ECDSA-P384" | "RSA-2048" | "Ed25519"][] = [
    ["ECDSA-SHA256", "ECDSA-P256"],
    ["ECDSA-SHA384", "ECDSA-P384"],
    ["ECDSA-SHA256", "ECDSA-P384"],
    ["RSA-PKCS1-SHA256", "RSA-2048"],
    ["RSA-PKCS1-SHA384", "RSA-2048"],
    ["RSA-PKCS1-SHA512", "RSA-2048"],
    ["RSA-PSS-SHA256", "RSA-2048"],
    ["Ed25519", "Ed25519"],
  ];

  it.each(cases)("%s with %s: good verifies, tampered does not", (algorithm, keyAlgorithm) => {
    const key = testKey(keyAlgorithm);
    const algId = signatureAlgorithmIdentifier(algorithm);
    const signature = testSign(key, algorithm, data);
    expect(verifySignature(key.spkiDer, algId, data, signature)).toBe(true);
    const flipped = signature.slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0x01;
    expect(verifySignature(key.spkiDer, algId, data, flipped)).toBe(false);
    expect(verifySignature(key.spkiDer, algId, new TextEncoder().encode("other data"), signature)).toBe(false);
    expect(verifySignature(testKey(keyAlgorithm, "other").spkiDer, algId, data, signature)).toBe(false);
  });

  it("is false when the algorithm does not fit the key", () => {
    const ec = testKey("ECDSA-P256");
    const signature = testSign(ec, "ECDSA-SHA256", data);
    expect(verifySignature(ec.spkiDer, signatureAlgorithmIdentifier("RSA-PKCS1-SHA256"), data, signature)).toBe(false);
    expect(verifySignature(testKey("RSA-2048").spkiDer, signatureAlgorithmIdentifier("ECDSA-SHA256"), data, signature)).toBe(false);
  });

  it("is false for a PKCS #1 v1.5 signature presented as PSS, and for a raw (P1363) ECDSA signature", () => {
    const rsa = testKey("RSA-2048");
    expect(verifySignature(rsa.spkiDer, signatureAlgorithmIdentifier("RSA-PSS-SHA256"), data, testSign(rsa, "RSA-PKCS1-SHA256", data))).toBe(false);
    const ec = testKey("ECDSA-P256");
    const raw = new Uint8Array(sign("sha256", data, { key: ec.privateKey, dsaEncoding: "ieee-p1363" }));
    expect(verifySignature(ec.spkiDer, signatureAlgorithmIdentifier("ECDSA-SHA256"), data, raw)).toBe(false);
  });

  it("throws for an unsupported key rather than answering", () => {
    const p521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
    const spki = new Uint8Array(p521.publicKey.export({ type: "spki", format: "der" }));
    expect(refusal(() => verifySignature(spki, signatureAlgorithmIdentifier("ECDSA-SHA256"), data, new Uint8Array(8))).code).toBe("unsupported");
  });
});

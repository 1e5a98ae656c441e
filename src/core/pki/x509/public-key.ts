import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import type { KeyAlgorithm } from "../../crypto/algorithms.js";
import { DomainError, invalidInput } from "../../shared/domain-error.js";
import { derError, readBitString, readDer, readIntegerBytes, readNested, readNull, readOid, sequenceItems, type DerNode } from "./der/der-reader.js";
import { withField } from "./field-error.js";
import { AlgorithmOid } from "./oids.js";

// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) → one of kpki's key algorithms, refusing the rest.

/** A checked public key: its kpki algorithm, the node:crypto key, and the raw subjectPublicKey bits. */
export interface PublicKeyInfo {
  readonly algorithm: KeyAlgorithm;
  readonly key: KeyObject;
  readonly subjectPublicKey: Uint8Array;
}

const RSA_SIZES = [2048, 3072, 4096];
const CURVES: Record<string, { algorithm: KeyAlgorithm; pointLength: number }> = {
  [AlgorithmOid.prime256v1]: { algorithm: "ECDSA-P256", pointLength: 65 },
  [AlgorithmOid.secp384r1]: { algorithm: "ECDSA-P384", pointLength: 97 },
};
const UNSUPPORTED_KEYS: Record<string, string> = {
  [AlgorithmOid.dsa]: "DSA keys are not supported",
  [AlgorithmOid.ed448]: "Ed448 keys are not supported",
  [AlgorithmOid.x25519]: "X25519 keys cannot sign",
  [AlgorithmOid.rsassaPss]: "RSASSA-PSS-only keys (id-RSASSA-PSS) are not supported; use an rsaEncryption key",
};

function unsupported(message: string): DomainError {
  return new DomainError("unsupported", message, { field: "publicKey" });
}

/** The kpki algorithm of a DER SubjectPublicKeyInfo: RSA 2048/3072/4096, EC P-256/P-384 or Ed25519. */
export function publicKeyAlgorithm(spkiDer: Uint8Array): KeyAlgorithm {
  return inspectPublicKey(spkiDer).algorithm;
}

/** Parses, classifies and imports a SubjectPublicKeyInfo; refuses malformed and unsupported keys. */
export function inspectPublicKey(spkiDer: Uint8Array): PublicKeyInfo {
  return withField("publicKey", () => inspectNode(readDer(spkiDer)));
}

/** Same as `inspectPublicKey` for an already-read SubjectPublicKeyInfo node. */
export function inspectPublicKeyNode(spki: DerNode): PublicKeyInfo {
  return withField("publicKey", () => inspectNode(spki));
}

function inspectNode(spki: DerNode): PublicKeyInfo {
  const [algId, keyNode] = sequenceItems(spki, "SubjectPublicKeyInfo", 2, 2);
  if (!algId || !keyNode) throw derError("SubjectPublicKeyInfo: malformed", spki.offset);
  const [oidNode, params, ...extra] = sequenceItems(algId, "AlgorithmIdentifier", 1, 2);
  if (!oidNode || extra.length > 0) throw derError("AlgorithmIdentifier: malformed", algId.offset);
  const oid = readOid(oidNode, "algorithm");
  const { bytes: subjectPublicKey } = readBitString(keyNode, "subjectPublicKey");
  const { algorithm, jwk } = classify(oid, params, keyNode, subjectPublicKey);
  let key: KeyObject;
  try {
    // Importing checks the key itself (RSA structure, EC point on the curve). OpenSSL 3's DER
    // decoder costs ~0.25 ms per key whatever the type; the JWK path costs 0.01 ms for RSA and
    // Ed25519 and about half for P-256, but several times more for P-384 (it runs a full key
    // check without an optimised curve), so P-384 keeps the DER path.
    key = jwk !== undefined
      ? createPublicKey({ key: jwk, format: "jwk" })
      : createPublicKey({ key: Buffer.from(spki.bytes.buffer, spki.bytes.byteOffset, spki.bytes.byteLength), format: "der", type: "spki" });
  } catch (error) {
    throw invalidInput("publicKey", `the ${algorithm} key does not import (${error instanceof Error ? error.message : String(error)})`);
  }
  return { algorithm, key, subjectPublicKey };
}

function classify(oid: string, params: DerNode | undefined, keyNode: DerNode, subjectPublicKey: Uint8Array): { algorithm: KeyAlgorithm; jwk?: JsonWebKey } {
  switch (oid) {
    case AlgorithmOid.rsaEncryption: {
      // RFC 3279 §2.3.1: parameters MUST be NULL.
      if (!params) throw invalidInput("publicKey", "rsaEncryption parameters must be NULL (RFC 3279 §2.3.1)");
      readNull(params, "rsaEncryption parameters");
      const [modulus, exponent] = sequenceItems(readNested(keyNode), "RSAPublicKey", 2, 2);
      if (!modulus || !exponent) throw invalidInput("publicKey", "malformed RSAPublicKey");
      const n = readIntegerBytes(modulus, "modulus");
      const e = readIntegerBytes(exponent, "publicExponent");
      if ((n[0] ?? 0) & 0x80 || (e[0] ?? 0) & 0x80) throw invalidInput("publicKey", "RSA modulus and exponent must be positive");
      if (((e[e.length - 1] ?? 0) & 1) === 0 || (e.length === 1 && (e[0] ?? 0) < 3)) throw invalidInput("publicKey", "RSA public exponent must be odd and at least 3");
      const bits = bitLength(n);
      if (!RSA_SIZES.includes(bits)) throw unsupported(`RSA-${bits} keys are not allowed (2048, 3072 or 4096 bits)`);
      return { algorithm: `RSA-${bits}` as KeyAlgorithm, jwk: { kty: "RSA", n: b64urlMagnitude(n), e: b64urlMagnitude(e) } };
    }
    case AlgorithmOid.idEcPublicKey: {
      // RFC 5480 §2.1.1: parameters are a namedCurve OID (implicitCurve and specifiedCurve are not allowed).
      if (!params || params.tagClass !== "universal" || params.tag !== 6) throw unsupported("EC keys must name their curve (RFC 5480 §2.1.1)");
      const curve = readOid(params, "namedCurve");
      const known = CURVES[curve];
      if (!known) throw unsupported(`EC curve ${curve === AlgorithmOid.secp521r1 ? "P-521" : curve} is not supported (P-256 or P-384)`);
      if (subjectPublicKey.length !== known.pointLength || subjectPublicKey[0] !== 0x04) {
        throw invalidInput("publicKey", `${known.algorithm} key must be an uncompressed point of ${known.pointLength} bytes`);
      }
      if (known.algorithm === "ECDSA-P384") return { algorithm: known.algorithm };
      const half = (known.pointLength - 1) / 2;
      const jwk = { kty: "EC", crv: "P-256", x: b64urlOctets(subjectPublicKey.subarray(1, 1 + half)), y: b64urlOctets(subjectPublicKey.subarray(1 + half)) };
      return { algorithm: known.algorithm, jwk };
    }
    case AlgorithmOid.ed25519:
      // RFC 8410 §3: parameters MUST be absent.
      if (params) throw invalidInput("publicKey", "Ed25519 parameters must be absent (RFC 8410 §3)");
      if (subjectPublicKey.length !== 32) throw invalidInput("publicKey", "Ed25519 key must be 32 bytes");
      return { algorithm: "Ed25519", jwk: { kty: "OKP", crv: "Ed25519", x: b64urlOctets(subjectPublicKey) } };
    default:
      throw unsupported(UNSUPPORTED_KEYS[oid] ?? `public key algorithm ${oid} is not supported`);
  }
}

// base64url without padding (RFC 7518 §6.3.1): an RSA integer drops the 00 sign octet DER puts
// before a magnitude whose top bit is set.
function b64urlMagnitude(bytes: Uint8Array): string {
  const start = bytes.length > 1 && bytes[0] === 0 ? 1 : 0;
  return b64urlOctets(bytes.subarray(start));
}

// Fixed-length octet strings keep every octet: EC coordinates are exactly the field size (RFC 7518
// §6.2.1.2) and an Ed25519 key exactly 32 octets (RFC 8037 §2), leading zeros included — 1 key in
// 256 starts with one, and dropping it made the key fail to import.
function b64urlOctets(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  const top = magnitude[i];
  if (top === undefined) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(top));
}

import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from "node:crypto";
import type { CryptographicAlgorithm, ObjectType } from "./kmip-vocabulary.js";
import { kmsError } from "./kms-error.js";

/** Encodings accepted by Register and produced by Get (KMIP Key Format Types, in JSON-friendly form). */
export const KEY_FORMATS = ["raw", "pkcs8", "spki", "pem", "jwk"] as const;
export type KeyFormat = (typeof KEY_FORMATS)[number];

/** What a key's material tells about it. */
export interface KeyDescription {
  readonly algorithm: CryptographicAlgorithm;
  readonly length: number;
  readonly curve?: "P-256" | "P-384";
}

/** Asymmetric material, normalized: DER PKCS#8 for private keys (+ the SPKI), DER SPKI for public keys. */
export type AsymmetricMaterial =
  | { readonly kind: "private"; readonly pkcs8: Uint8Array; readonly spki: Uint8Array; readonly description: KeyDescription }
  | { readonly kind: "public"; readonly spki: Uint8Array; readonly description: KeyDescription };

const invalid = (field: string, message: string) => kmsError("invalid_input", "Invalid Field", `${field}: ${message}`, field);

/** Describes an asymmetric key: RSA 2048–4096, EC P-256/P-384, Ed25519; anything else is unsupported. */
export function describeAsymmetric(key: KeyObject, field: string): KeyDescription {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case "rsa": {
      const bits = details?.modulusLength ?? 0;
      if (![2048, 3072, 4096].includes(bits)) throw kmsError("unsupported", "Feature Not Supported", `${field}: RSA keys of ${bits} bits are not supported (2048, 3072 or 4096)`, field);
      return { algorithm: "RSA", length: bits };
    }
    case "ec": {
      const curve = details?.namedCurve === "prime256v1" ? "P-256" : details?.namedCurve === "secp384r1" ? "P-384" : undefined;
      if (curve === undefined) throw kmsError("unsupported", "Feature Not Supported", `${field}: EC curve ${details?.namedCurve ?? "?"} is not supported (P-256 or P-384)`, field);
      return { algorithm: "EC", length: curve === "P-256" ? 256 : 384, curve };
    }
    case "ed25519":
      return { algorithm: "Ed25519", length: 256 };
    default:
      throw kmsError("unsupported", "Feature Not Supported", `${field}: ${key.asymmetricKeyType ?? "unknown"} keys are not supported`, field);
  }
}

function spkiOf(key: KeyObject): Uint8Array {
  const publicKey = key.type === "public" ? key : createPublicKey(key);
  return new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
}

/**
 * Decodes an asymmetric key given in one of the Register formats: `pem` (PKCS#8, PKCS#1, SEC1,
 * SubjectPublicKeyInfo, PKCS#1 public), `pkcs8` / `spki` (base64 DER), `jwk` (RFC 7517 JSON).
 * Encrypted private keys are refused.
 */
export function decodeAsymmetric(format: KeyFormat, value: string, field: string): AsymmetricMaterial {
  let key: KeyObject;
  try {
    switch (format) {
      case "pem": {
        if (/ENCRYPTED/.test(value)) throw invalid(field, "encrypted private keys are not accepted");
        const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(value)?.[1];
        if (label === undefined) throw invalid(field, "expected PEM");
        key = label.includes("PUBLIC") ? createPublicKey({ key: value, format: "pem" }) : createPrivateKey({ key: value, format: "pem" });
        break;
      }
      case "pkcs8":
        key = createPrivateKey({ key: Buffer.from(base64(value, field)), format: "der", type: "pkcs8" });
        break;
      case "spki":
        key = createPublicKey({ key: Buffer.from(base64(value, field)), format: "der", type: "spki" });
        break;
      case "jwk": {
        const jwk = parseJwk(value, field);
        key = typeof jwk.d === "string" ? createPrivateKey({ key: jwk, format: "jwk" }) : createPublicKey({ key: jwk, format: "jwk" });
        break;
      }
      case "raw":
        throw invalid(field, "raw format is for symmetric keys and secret data; use pem, pkcs8, spki or jwk for asymmetric keys");
    }
  } catch (error) {
    if (error instanceof Error && error.name === "DomainError") throw error;
    throw invalid(field, `not a valid ${format} key`);
  }
  const description = describeAsymmetric(key, field);
  return key.type === "private" ? { kind: "private", pkcs8: new Uint8Array(key.export({ type: "pkcs8", format: "der" })), spki: spkiOf(key), description } : { kind: "public", spki: spkiOf(key), description };
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes secret bytes: `raw` (base64) or a JWK of kty "oct". */
export function decodeSecret(format: KeyFormat, value: string, field: string): Uint8Array {
  if (format === "raw") return base64(value, field);
  if (format === "jwk") {
    const jwk = parseJwk(value, field);
    if (jwk.kty !== "oct" || typeof jwk.k !== "string") throw invalid(field, 'a symmetric JWK has kty "oct" and k');
    // RFC 7515 §2 base64url without padding. Buffer.from(…, "base64url") skips foreign characters and
    // stops at "=", which would register a different (shorter) key in silence: check first.
    if (!BASE64URL.test(jwk.k) || jwk.k.length % 4 === 1) throw invalid(field, "k is not base64url (RFC 7515: A-Z a-z 0-9 - _, no padding)");
    return new Uint8Array(createSecretKey(Buffer.from(jwk.k, "base64url")).export());
  }
  throw kmsError("invalid_input", "Key Format Type Not Supported", `${field}: symmetric keys and secret data are given as raw (base64) or jwk`, field);
}

/** Encodes a private key for Get: `pkcs8` (base64 DER), `pem` (PKCS#8 PEM) or `jwk`. */
export function encodePrivate(pkcs8: Uint8Array, format: KeyFormat): string {
  switch (format) {
    case "pkcs8":
      return Buffer.from(pkcs8).toString("base64");
    case "pem":
      return createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({ type: "pkcs8", format: "pem" }).toString();
    case "jwk":
      return JSON.stringify(createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({ format: "jwk" }));
    default:
      throw kmsError("invalid_input", "Key Format Type Not Supported", `format ${format} does not apply to private keys (pkcs8, pem or jwk)`, "format");
  }
}

/** Encodes a public key for Get: `spki` (base64 DER), `pem` or `jwk`. */
export function encodePublic(spki: Uint8Array, format: KeyFormat): string {
  switch (format) {
    case "spki":
      return Buffer.from(spki).toString("base64");
    case "pem":
      return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({ type: "spki", format: "pem" }).toString();
    case "jwk":
      return JSON.stringify(createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({ format: "jwk" }));
    default:
      throw kmsError("invalid_input", "Key Format Type Not Supported", `format ${format} does not apply to public keys (spki, pem or jwk)`, "format");
  }
}

/** Encodes secret bytes for Get: `raw` (base64) or `jwk` (kty oct). */
export function encodeSecret(raw: Uint8Array, format: KeyFormat, objectType: ObjectType): string {
  if (format === "raw") return Buffer.from(raw).toString("base64");
  if (format === "jwk" && objectType === "SymmetricKey") return JSON.stringify({ kty: "oct", k: Buffer.from(raw).toString("base64url") });
  throw kmsError("invalid_input", "Key Format Type Not Supported", `format ${format} does not apply to ${objectType} (raw${objectType === "SymmetricKey" ? " or jwk" : ""})`, "format");
}

/** Strict base64 (standard alphabet, padding optional), or `invalid_input`. */
export function base64(value: string, field: string): Uint8Array {
  const compact = value.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) throw invalid(field, "not valid base64");
  return new Uint8Array(Buffer.from(compact, "base64"));
}

function parseJwk(value: string, field: string): JsonWebKey {
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as JsonWebKey;
  } catch {
    throw invalid(field, "not a JSON Web Key");
  }
}

import { constants, verify } from "node:crypto";
import { signatureFitsKey, type SignatureAlgorithm } from "../../crypto/algorithms.js";
import { DomainError } from "../../shared/domain-error.js";
import { derError, isContext, readDer, readNull, readOid, readSmallInteger, sequenceItems, type DerNode } from "./der/der-reader.js";
import { derContextExplicit, derInteger, derNull, derOid, derSequence } from "./der/der-writer.js";
import { withField } from "./field-error.js";
import { AlgorithmOid } from "./oids.js";
import { inspectPublicKey, type PublicKeyInfo } from "./public-key.js";

// SignatureAlgorithm ↔ AlgorithmIdentifier (RFC 5280 §4.1.1.2) and signature verification.

const SHA256_ID = derSequence(derOid(AlgorithmOid.sha256), derNull());
const PSS_SALT_LENGTH = 32;
// RSASSA-PSS-params for SHA-256, MGF1-SHA-256, salt 32, trailer default (RFC 4055 §3.1), the
// hash AlgorithmIdentifiers with NULL parameters as Go and openssl write them.
const PSS_SHA256_PARAMS = derSequence(
  derContextExplicit(0, SHA256_ID),
  derContextExplicit(1, derSequence(derOid(AlgorithmOid.mgf1), SHA256_ID)),
  derContextExplicit(2, derInteger(PSS_SALT_LENGTH)),
);

// RSA PKCS #1 v1.5: NULL parameters (RFC 4055 §5); ECDSA: absent (RFC 5758 §3.2); Ed25519: absent (RFC 8410 §3).
const IDENTIFIERS: Record<SignatureAlgorithm, Uint8Array> = {
  "ECDSA-SHA256": derSequence(derOid(AlgorithmOid.ecdsaWithSha256)),
  "ECDSA-SHA384": derSequence(derOid(AlgorithmOid.ecdsaWithSha384)),
  "RSA-PKCS1-SHA256": derSequence(derOid(AlgorithmOid.sha256WithRsaEncryption), derNull()),
  "RSA-PKCS1-SHA384": derSequence(derOid(AlgorithmOid.sha384WithRsaEncryption), derNull()),
  "RSA-PKCS1-SHA512": derSequence(derOid(AlgorithmOid.sha512WithRsaEncryption), derNull()),
  "RSA-PSS-SHA256": derSequence(derOid(AlgorithmOid.rsassaPss), PSS_SHA256_PARAMS),
  Ed25519: derSequence(derOid(AlgorithmOid.ed25519)),
};

const BY_OID: Record<string, { algorithm: SignatureAlgorithm; params: "null-or-absent" | "absent" }> = {
  [AlgorithmOid.ecdsaWithSha256]: { algorithm: "ECDSA-SHA256", params: "absent" },
  [AlgorithmOid.ecdsaWithSha384]: { algorithm: "ECDSA-SHA384", params: "absent" },
  [AlgorithmOid.sha256WithRsaEncryption]: { algorithm: "RSA-PKCS1-SHA256", params: "null-or-absent" },
  [AlgorithmOid.sha384WithRsaEncryption]: { algorithm: "RSA-PKCS1-SHA384", params: "null-or-absent" },
  [AlgorithmOid.sha512WithRsaEncryption]: { algorithm: "RSA-PKCS1-SHA512", params: "null-or-absent" },
  [AlgorithmOid.ed25519]: { algorithm: "Ed25519", params: "absent" },
};
const REFUSED: Record<string, string> = {
  [AlgorithmOid.sha1WithRsaEncryption]: "SHA-1 signatures (sha1WithRSAEncryption) are not supported",
  [AlgorithmOid.ecdsaWithSha1]: "SHA-1 signatures (ecdsa-with-SHA1) are not supported",
  [AlgorithmOid.ecdsaWithSha512]: "ecdsa-with-SHA512 signatures are not supported",
  [AlgorithmOid.ed448]: "Ed448 signatures are not supported",
};

const HASH: Record<SignatureAlgorithm, string | null> = {
  "ECDSA-SHA256": "sha256",
  "ECDSA-SHA384": "sha384",
  "RSA-PKCS1-SHA256": "sha256",
  "RSA-PKCS1-SHA384": "sha384",
  "RSA-PKCS1-SHA512": "sha512",
  "RSA-PSS-SHA256": "sha256",
  Ed25519: null,
};

/** DER AlgorithmIdentifier for `algorithm` (a shared constant: read-only). */
export function signatureAlgorithmIdentifier(algorithm: SignatureAlgorithm): Uint8Array {
  return IDENTIFIERS[algorithm];
}

/** The SignatureAlgorithm named by a DER AlgorithmIdentifier; other algorithms are `unsupported`. */
export function parseSignatureAlgorithm(algorithmIdentifierDer: Uint8Array): SignatureAlgorithm {
  return withField("signatureAlgorithm", () => parseSignatureAlgorithmNode(readDer(algorithmIdentifierDer)));
}

/** Same as `parseSignatureAlgorithm` for an already-read node. */
export function parseSignatureAlgorithmNode(node: DerNode): SignatureAlgorithm {
  const [oidNode, params] = sequenceItems(node, "AlgorithmIdentifier", 1, 2);
  if (!oidNode) throw derError("AlgorithmIdentifier: malformed", node.offset);
  const oid = readOid(oidNode, "signature algorithm");
  if (oid === AlgorithmOid.rsassaPss) {
    if (!params) throw derError("RSASSA-PSS: parameters are required (RFC 4055 §3.1)", node.offset);
    checkPssParams(params);
    return "RSA-PSS-SHA256";
  }
  const known = BY_OID[oid];
  if (!known) throw new DomainError("unsupported", REFUSED[oid] ?? `signature algorithm ${oid} is not supported`, { field: "signatureAlgorithm" });
  if (params) {
    if (known.params === "absent") throw derError(`${known.algorithm}: parameters must be absent`, params.offset);
    readNull(params, `${known.algorithm} parameters`);
  }
  return known.algorithm;
}

// Only the SHA-256 profile is supported: hash SHA-256, MGF1 with SHA-256, salt 32, trailer 1.
function checkPssParams(params: DerNode): void {
  const items = sequenceItems(params, "RSASSA-PSS-params", 0, 4);
  const [hash, mgf, salt, trailer] = [0, 1, 2, 3].map((n) => items.find((i) => isContext(i, n)));
  const refuse = (what: string): never => {
    throw new DomainError("unsupported", `RSASSA-PSS with ${what} is not supported (only SHA-256, MGF1-SHA-256, salt 32)`, { field: "signatureAlgorithm" });
  };
  let last = -1;
  for (const item of items) {
    // Each field is an explicit [n] around one element, in increasing tag order (DER, X.690 §10).
    if (item.tagClass !== "context" || item.tag > 3 || item.tag <= last || item.children.length !== 1) {
      throw derError("RSASSA-PSS-params: unexpected element", item.offset);
    }
    last = item.tag;
  }
  if (!hash || !isSha256(hash.children[0])) refuse("a hash other than SHA-256");
  const [mgfOid, mgfHash] = mgf?.children[0]?.children ?? [];
  if (!mgfOid || readOid(mgfOid, "maskGenAlgorithm") !== AlgorithmOid.mgf1 || !isSha256(mgfHash)) refuse("a mask generation other than MGF1-SHA-256");
  if (!salt?.children[0] || readSmallInteger(salt.children[0], "saltLength") !== PSS_SALT_LENGTH) refuse("a salt length other than 32");
  if (trailer?.children[0] && readSmallInteger(trailer.children[0], "trailerField") !== 1) refuse("a trailer field other than 1");
}

// RFC 4055 §2.1: the SHA-2 AlgorithmIdentifier parameters may be NULL or absent.
function isSha256(node: DerNode | undefined): boolean {
  if (!node) return false;
  const [oid, params] = sequenceItems(node, "hashAlgorithm", 1, 2);
  if (!oid || readOid(oid, "hashAlgorithm") !== AlgorithmOid.sha256) return false;
  if (params) readNull(params, "hashAlgorithm parameters");
  return true;
}

/**
 * Whether `signature` over `data` verifies with the DER SubjectPublicKeyInfo `spkiDer` under the
 * DER AlgorithmIdentifier. False when the algorithm does not fit the key; throws for malformed or
 * unsupported keys and algorithms.
 */
export function verifySignature(spkiDer: Uint8Array, algorithmIdentifierDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  return verifyWithKey(inspectPublicKey(spkiDer), parseSignatureAlgorithm(algorithmIdentifierDer), data, signature);
}

/** `verifySignature` for an already inspected key and parsed algorithm. */
export function verifyWithKey(key: PublicKeyInfo, algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): boolean {
  if (!signatureFitsKey(algorithm, key.algorithm)) return false;
  try {
    if (algorithm === "RSA-PSS-SHA256") {
      return verify("sha256", data, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH }, signature);
    }
    if (algorithm.startsWith("ECDSA")) return verify(HASH[algorithm], data, { key: key.key, dsaEncoding: "der" }, signature);
    return verify(HASH[algorithm], data, key.key, signature);
  } catch {
    // A signature of the wrong shape (e.g. not a DER ECDSA-Sig-Value) simply does not verify.
    return false;
  }
}

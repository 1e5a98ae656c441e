import type { CryptographicAlgorithm, LinkType, ObjectType, RevocationReasonCode, State } from "../../core/kms/index.js";
import { invalidField, KmipError } from "./kmip-error.js";
import { V2_0, type Version } from "./protocol-version.js";
import { ENUM } from "./ttlv/enumerations.js";

// The key service's names (kmip-vocabulary.ts) and their KMIP enumeration values, both ways: the
// one place where "AES" becomes 3 and back.

type Curve = "P-256" | "P-384";

export const OBJECT_TYPE: Readonly<Record<ObjectType, number>> = {
  SymmetricKey: ENUM.ObjectType.SymmetricKey,
  PublicKey: ENUM.ObjectType.PublicKey,
  PrivateKey: ENUM.ObjectType.PrivateKey,
  SecretData: ENUM.ObjectType.SecretData,
  OpaqueObject: ENUM.ObjectType.OpaqueData,
};

/** Ed25519 has a value only since KMIP 2.0; an older response leaves the algorithm out. */
export const ALGORITHM: Readonly<Record<CryptographicAlgorithm, number>> = {
  AES: ENUM.CryptographicAlgorithm.Aes,
  "HMAC-SHA256": ENUM.CryptographicAlgorithm.HmacSha256,
  "HMAC-SHA384": ENUM.CryptographicAlgorithm.HmacSha384,
  "HMAC-SHA512": ENUM.CryptographicAlgorithm.HmacSha512,
  RSA: ENUM.CryptographicAlgorithm.Rsa,
  EC: ENUM.CryptographicAlgorithm.Ec,
  Ed25519: ENUM.CryptographicAlgorithm.Ed25519,
};

export const STATE: Readonly<Record<State, number>> = {
  "Pre-Active": ENUM.State.PreActive,
  Active: ENUM.State.Active,
  Deactivated: ENUM.State.Deactivated,
  Compromised: ENUM.State.Compromised,
  Destroyed: ENUM.State.Destroyed,
  "Destroyed Compromised": ENUM.State.DestroyedCompromised,
};

export const LINK_TYPE: Readonly<Record<LinkType, number>> = {
  PublicKeyLink: ENUM.LinkType.PublicKeyLink,
  PrivateKeyLink: ENUM.LinkType.PrivateKeyLink,
  ReplacementObjectLink: ENUM.LinkType.ReplacementObjectLink,
  ReplacedObjectLink: ENUM.LinkType.ReplacedObjectLink,
};

export const REVOCATION_REASON: Readonly<Record<RevocationReasonCode, number>> = {
  Unspecified: ENUM.RevocationReasonCode.Unspecified,
  KeyCompromise: ENUM.RevocationReasonCode.KeyCompromise,
  CACompromise: ENUM.RevocationReasonCode.CaCompromise,
  AffiliationChanged: ENUM.RevocationReasonCode.AffiliationChanged,
  Superseded: ENUM.RevocationReasonCode.Superseded,
  CessationOfOperation: ENUM.RevocationReasonCode.CessationOfOperation,
  PrivilegeWithdrawn: ENUM.RevocationReasonCode.PrivilegeWithdrawn,
};

export const CURVE: Readonly<Record<Curve, number>> = {
  "P-256": ENUM.RecommendedCurve.P256,
  "P-384": ENUM.RecommendedCurve.P384,
};

function reverse<K extends string>(table: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map((Object.entries(table) as [K, number][]).map(([name, value]) => [value, name]));
}

const OBJECT_TYPE_BY_VALUE = reverse(OBJECT_TYPE);
const ALGORITHM_BY_VALUE = new Map([...reverse(ALGORITHM), [ENUM.CryptographicAlgorithm.Ecdsa, "EC" as const]]);
const STATE_BY_VALUE = reverse(STATE);
const REVOCATION_BY_VALUE = reverse(REVOCATION_REASON);
const CURVE_BY_VALUE = reverse(CURVE);

function lookup<K>(map: ReadonlyMap<number, K>, value: number, what: string): K {
  const found = map.get(value);
  if (found === undefined) throw new KmipError("FeatureNotSupported", `${what} 0x${value.toString(16)} is not supported by kpki`);
  return found;
}

export const objectTypeOf = (value: number): ObjectType => lookup(OBJECT_TYPE_BY_VALUE, value, "Object Type");
/** ECDSA (0x06) is read as EC: KMIP 1.x clients name EC keys by their signature algorithm. */
export const algorithmOf = (value: number): CryptographicAlgorithm => lookup(ALGORITHM_BY_VALUE, value, "Cryptographic Algorithm");
export const revocationReasonOf = (value: number): RevocationReasonCode => lookup(REVOCATION_BY_VALUE, value, "Revocation Reason Code");
export const curveOf = (value: number): Curve => lookup(CURVE_BY_VALUE, value, "Recommended Curve");

export function stateOf(value: number): State {
  const state = STATE_BY_VALUE.get(value);
  if (state === undefined) throw invalidField(`State ${value} is not a KMIP state`);
  return state;
}

/** The algorithm's value in `version`, or undefined when that version cannot name it. */
export function algorithmValue(algorithm: CryptographicAlgorithm, version: Version): number | undefined {
  return algorithm === "Ed25519" && version < V2_0 ? undefined : ALGORITHM[algorithm];
}

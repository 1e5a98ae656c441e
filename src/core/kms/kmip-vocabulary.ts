/**
 * KMIP's vocabulary for managed objects (KMIP 1.4 §2–3, 2.0 §4), as the names the API uses. The
 * KMIP binary transport maps these names to their enumeration values; the core never sees numbers
 * other than the usage-mask bits, which KMIP defines as a bit mask.
 */

/** KMIP Object Type (the subset kpki manages). */
export const OBJECT_TYPES = ["SymmetricKey", "PublicKey", "PrivateKey", "SecretData", "OpaqueObject"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** KMIP Cryptographic Algorithm (the subset kpki implements). */
export const CRYPTOGRAPHIC_ALGORITHMS = ["AES", "HMAC-SHA256", "HMAC-SHA384", "HMAC-SHA512", "RSA", "EC", "Ed25519"] as const;
export type CryptographicAlgorithm = (typeof CRYPTOGRAPHIC_ALGORITHMS)[number];

/** KMIP State (§3.22), spelled as the specification spells it. */
export const STATES = ["Pre-Active", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed Compromised"] as const;
export type State = (typeof STATES)[number];

/** KMIP Cryptographic Usage Mask bits (§9.1.3.3.1). */
export const USAGE = {
  Sign: 0x1,
  Verify: 0x2,
  Encrypt: 0x4,
  Decrypt: 0x8,
  WrapKey: 0x10,
  UnwrapKey: 0x20,
  Export: 0x40,
  MACGenerate: 0x80,
  MACVerify: 0x100,
  DeriveKey: 0x200,
  ContentCommitment: 0x400,
  KeyAgreement: 0x800,
  CertificateSign: 0x1000,
  CRLSign: 0x2000,
} as const;
export type UsageName = keyof typeof USAGE;
export const USAGE_NAMES = Object.keys(USAGE) as UsageName[];

/** A usage mask from names. */
export function usageMask(names: readonly UsageName[]): number {
  return names.reduce((mask, name) => mask | USAGE[name], 0);
}

/** The names of the bits set in a mask (unknown bits are dropped). */
export function usageNames(mask: number): UsageName[] {
  return USAGE_NAMES.filter((name) => (mask & USAGE[name]) !== 0);
}

/** KMIP Link Type (§3.35). */
export const LINK_TYPES = ["PublicKeyLink", "PrivateKeyLink", "ReplacementObjectLink", "ReplacedObjectLink"] as const;
export type LinkType = (typeof LINK_TYPES)[number];

/** KMIP Revocation Reason Code (§9.1.3.2.19). */
export const REVOCATION_REASONS = ["Unspecified", "KeyCompromise", "CACompromise", "AffiliationChanged", "Superseded", "CessationOfOperation", "PrivilegeWithdrawn"] as const;
export type RevocationReasonCode = (typeof REVOCATION_REASONS)[number];

/** Whether a revocation reason puts the object into the Compromised state (§3.22). */
export function isCompromise(reason: RevocationReasonCode): boolean {
  return reason === "KeyCompromise" || reason === "CACompromise";
}

/**
 * KMIP Result Reasons the key service reports (names from KMIP 1.4 §9.1.3.2.29 and 2.0 §11.28).
 * Carried in DomainError details so every transport can say precisely what went wrong.
 */
export type KmipResultReason =
  | "Item Not Found"
  | "Invalid Field"
  | "Missing Data"
  | "Feature Not Supported"
  | "Cryptographic Failure"
  | "Illegal Operation"
  | "Permission Denied"
  | "Key Format Type Not Supported"
  | "Sensitive"
  | "Not Extractable"
  | "Object Already Exists"
  | "Wrong Key Lifecycle State"
  | "Incompatible Cryptographic Usage Mask"
  | "Invalid Object Type"
  | "Read Only Attribute"
  | "Attribute Not Found"
  | "Object Destroyed"
  | "Bad Cryptographic Parameters"
  | "Server Limit Exceeded"
  | "General Failure";

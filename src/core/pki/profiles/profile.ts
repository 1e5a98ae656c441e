import type { KeyAlgorithm } from "../../crypto/algorithms.js";
import type { KeyUsage } from "../x509/extensions.js";
import type { GeneralName } from "../x509/general-name.js";

/** Which subject alternative name types a profile accepts and whether one is required. */
export interface SanRule {
  readonly dns: boolean;
  readonly ip: boolean;
  readonly email: boolean;
  readonly uri: boolean;
  /** At least one DNS or IP name must be present (TLS servers are found by name). */
  readonly requireDnsOrIp: boolean;
}

/**
 * What one kind of certificate looks like, as data (cfssl's "profiles", step-ca's templates):
 * key usages, extended key usages, validity, subject and SAN rules. The issuance policy checks a
 * request against it and refuses anything that does not fit; the builder adds KU/EKU from here,
 * never from the CSR.
 */
export interface CertificateProfile {
  readonly name: string;
  readonly description: string;
  /** Key usages for every key type. */
  readonly keyUsage: readonly KeyUsage[];
  /** Added for RSA keys only: keyEncipherment is meaningless for ECDSA/Ed25519 (RFC 8813 §3). */
  readonly rsaKeyUsage: readonly KeyUsage[];
  /** Extended key usage OIDs. */
  readonly extendedKeyUsage: readonly string[];
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly commonName: "required" | "optional";
  readonly sans: SanRule;
  readonly keyAlgorithms: readonly KeyAlgorithm[];
  /**
   * When set, the subject must be exactly this: this CN, these O values (any order), nothing else.
   * Kubernetes identifies users and groups by CN and O, so a role's certificate has fixed ones.
   */
  readonly subject?: { readonly commonName: string; readonly organization: readonly string[] };
  /** When set, every SAN must be one of these (derived from an inventory, e.g. a cluster's nodes). */
  readonly allowedSubjectAltNames?: readonly GeneralName[];
}

/** The profile's key usages for a key of the given algorithm. */
export function keyUsageFor(profile: CertificateProfile, key: KeyAlgorithm): readonly KeyUsage[] {
  return key.startsWith("RSA") ? [...profile.keyUsage, ...profile.rsaKeyUsage] : profile.keyUsage;
}

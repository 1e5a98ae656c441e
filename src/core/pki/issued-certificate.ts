import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { CaId, CertificateId } from "../shared/ids.js";

/** `active` until revoked; expiry is derived from `notAfter`, not stored. */
export type CertificateStatus = "active" | "revoked";

/** One entry of the certificate inventory. */
export interface IssuedCertificate {
  readonly id: CertificateId;
  readonly caId: CaId;
  /** Lower-case hex of the serial number's DER INTEGER content (RFC 5280 §4.1.2.2). */
  readonly serialHex: string;
  readonly profile: string;
  /** RFC 4514 subject string. */
  readonly subject: string;
  readonly commonName?: string;
  /** SANs as `DNS:name`, `IP:addr`, `email:x`, `URI:x` (the openssl/Go display form). */
  readonly subjectAltNames: readonly string[];
  readonly keyAlgorithm: KeyAlgorithm;
  readonly status: CertificateStatus;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly der: Uint8Array;
  readonly fingerprintSha256: string;
  /** Principal id of the caller that asked for it. */
  readonly requestedBy: string;
  /** True when kpki generated the key pair (the private key was returned once, never stored). */
  readonly serverGeneratedKey: boolean;
  readonly idempotencyKey?: string;
  /** SHA-256 of the canonical request, to tell a retry from a different request under the same key. */
  readonly requestHash?: string;
  readonly createdAt: Date;
  readonly revokedAt?: Date;
  readonly revocationReason?: number;
}

import type { AuditLog } from "../shared/audit.js";
import type { SettingsRepository } from "../shared/settings.js";
import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { KeyMaterialRepository } from "../crypto/ports.js";
import type { CaId, CertificateId } from "../shared/ids.js";
import type { Page } from "../shared/page.js";
import type { CaStatus, CertificateAuthority } from "./certificate-authority.js";
import type { CertificateStatus, IssuedCertificate } from "./issued-certificate.js";

/** Storage of certificate authorities and their sealed keys. */
export interface AuthorityRepository {
  /** Inserts a new CA (with its key handle, if any). Fails with `already_exists` on a taken name. */
  create(ca: CertificateAuthority): Promise<void>;
  /** Replaces the mutable fields (status, certificate, chain, validity, serial, key). */
  update(ca: CertificateAuthority): Promise<void>;
  findById(id: CaId): Promise<CertificateAuthority | undefined>;
  findByName(name: string): Promise<CertificateAuthority | undefined>;
  list(): Promise<readonly CertificateAuthority[]>;
  /** The status of each existing CA among `ids` (one narrow read, for the check before an issuance commits). */
  statuses(ids: readonly CaId[]): Promise<ReadonlyMap<CaId, CaStatus>>;
}

/**
 * Filters for the certificate inventory; all optional, combined with AND. The page order is
 * issuance order (id), except with `status: "active"`: soonest expiry first (notAfter, then id),
 * the order an operator renews in, and the one an index can deliver when the matching rows are
 * the most recent ones of a long history.
 */
export interface CertificateQuery {
  readonly caId?: CaId;
  readonly profile?: string;
  readonly commonName?: string;
  readonly status?: CertificateStatus | "expired";
  readonly expiringBefore?: Date;
  /** "now" for the `status` filter (active = not revoked and not yet expired). */
  readonly now: Date;
  readonly limit: number;
  /** Id of the last item of the previous page. */
  readonly after?: CertificateId;
}

/** Storage of the certificate inventory. */
export interface CertificateRepository {
  /**
   * Inserts all or none (one statement, so concurrent issuances cost one round trip); fails with
   * `already_exists` when a serial repeats within its CA or an idempotency key within its requester.
   */
  create(certificates: readonly IssuedCertificate[]): Promise<void>;
  findById(id: CertificateId): Promise<IssuedCertificate | undefined>;
  findByIdempotencyKey(requestedBy: string, idempotencyKey: string): Promise<IssuedCertificate | undefined>;
  findBySerial(caId: CaId, serialHex: string): Promise<IssuedCertificate | undefined>;
  /** One page in the order CertificateQuery describes; `nextCursor` is the last item's id. */
  list(query: CertificateQuery): Promise<Page<IssuedCertificate>>;
  /** Marks an active certificate revoked; false when it was already revoked (nothing changed). */
  markRevoked(id: CertificateId, revokedAt: Date, reasonCode: number): Promise<boolean>;
  /** Marks every active certificate of the CA revoked (its issuer was revoked); returns how many. */
  markAllRevoked(caId: CaId, revokedAt: Date, reasonCode: number): Promise<number>;
  /** Revoked certificates of a CA not expired at `notExpiredAt`, optionally only those revoked at or after `revokedSince`. */
  listRevoked(caId: CaId, filter: { readonly notExpiredAt: Date }): Promise<readonly RevokedEntry[]>;
  /** How many certificates of the CA were ever revoked (never decreases: revocation is final). */
  countRevoked(caId: CaId): Promise<number>;
  /** The earliest notAfter of each CA's active certificates not expired at `now` (CAs with none are absent). */
  earliestActiveNotAfterByCa(now: Date): Promise<ReadonlyMap<CaId, Date>>;
  /** How many active certificates expire after `now` and at or before `before`. */
  countActiveExpiringBetween(now: Date, before: Date): Promise<number>;
}

/** A revoked certificate as CRLs and OCSP need it. */
export interface RevokedEntry {
  readonly serialHex: string;
  readonly revokedAt: Date;
  readonly reasonCode: number;
}

/** A CRL as issued (RFC 5280 §5): complete or delta, with its number. */
export interface CrlRecord {
  readonly caId: CaId;
  readonly number: bigint;
  readonly kind: "full" | "delta";
  /** A complete CRL that later delta CRLs are relative to. */
  readonly isBase: boolean;
  readonly baseNumber?: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** countRevoked() when the CRL was made: a larger count now means the CRL is behind. */
  readonly revokedTotal: number;
  readonly der: Uint8Array;
}

/** The CRLs each CA issued. */
export interface CrlRepository {
  /** Inserts; fails with `conflict` when another writer took the number (the caller retries). */
  create(crl: CrlRecord, now: Date): Promise<void>;
  latest(caId: CaId, kind: "full" | "delta"): Promise<CrlRecord | undefined>;
  latestBase(caId: CaId): Promise<CrlRecord | undefined>;
  /** The highest CRL number the CA used so far (0 when none). */
  highestNumber(caId: CaId): Promise<bigint>;
}

/** The repositories a pki use case may touch inside one transaction. */
export interface PkiRepositories {
  readonly authorities: AuthorityRepository;
  readonly certificates: CertificateRepository;
  readonly crls: CrlRepository;
  readonly keyMaterials: KeyMaterialRepository;
  readonly settings: SettingsRepository;
  readonly audit: AuditLog;
}

/** A key pair made for a leaf certificate: the private key goes back to the caller once. */
export interface EphemeralKeyPair {
  readonly algorithm: KeyAlgorithm;
  /** DER PKCS#8; never stored, never logged. */
  readonly privateKeyPkcs8: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeySpki: Uint8Array;
}

/**
 * Makes key pairs for server-side key generation. Implementations keep a small pool of RSA keys
 * ready so a request does not wait ~300 ms for RSA-2048 generation (ARCHITECTURE.md §5).
 */
export interface EphemeralKeyGenerator {
  generate(algorithm: KeyAlgorithm): Promise<EphemeralKeyPair>;
}

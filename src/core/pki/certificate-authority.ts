import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { KeyHandle } from "../crypto/key-handle.js";
import { DomainError } from "../shared/domain-error.js";
import type { CaId } from "../shared/ids.js";

/** How a CA came to be. */
export type CaOrigin =
  | "generated" // key and certificate made here (root, or intermediate under a kpki parent)
  | "external" // key made here, certificate signed by a CA outside kpki
  | "imported"; // certificate and key brought in by an operator

/**
 * `pending`: key exists, the externally signed certificate is not installed yet (cannot issue).
 * `active`: can issue. `disabled`: kept for chains and inventory, issues nothing.
 */
export type CaStatus = "pending" | "active" | "disabled";

/** A certificate authority as the core sees it. */
export interface CertificateAuthority {
  readonly id: CaId;
  /** Unique, URL-safe name used in paths and on the command line. */
  readonly name: string;
  readonly parentId?: CaId;
  readonly origin: CaOrigin;
  readonly status: CaStatus;
  /** The service's own CAs (root and the intermediate for its TLS and client certificates). */
  readonly internal: boolean;
  readonly keyAlgorithm: KeyAlgorithm;
  /** Absent when the key was removed (offline root) — the CA can then sign nothing. */
  readonly key?: KeyHandle;
  /** DER SubjectPublicKeyInfo of the CA key. */
  readonly publicKeySpki: Uint8Array;
  /** RFC 4514 string of the subject, for display and filters. */
  readonly subject: string;
  /** DER of the subject Name: becomes the issuer Name of what this CA signs. */
  readonly subjectDer: Uint8Array;
  /** SubjectKeyIdentifier: becomes the AuthorityKeyIdentifier of what this CA signs. */
  readonly subjectKeyId: Uint8Array;
  /** Absent while `pending`. */
  readonly certificateDer?: Uint8Array;
  /** The CSR sent to an external CA (origin `external`). */
  readonly csrDer?: Uint8Array;
  /** DER certificates above this CA when its issuer is outside kpki, nearest first. */
  readonly externalChainDer?: readonly Uint8Array[];
  readonly serialHex?: string;
  /** BasicConstraints pathLenConstraint, if any. */
  readonly pathLength?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Set for a Kubernetes cluster's CAs: they sign that cluster's kubeadm profiles and nothing else. */
  readonly clusterId?: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Refuses CAs that cannot sign now: pending, disabled, without a key or without a certificate. */
export function assertCanSign(ca: CertificateAuthority): asserts ca is CertificateAuthority & { key: KeyHandle; notAfter: Date } {
  if (ca.status !== "active") throw new DomainError("wrong_state", `CA ${ca.name} is ${ca.status} and cannot sign`, { field: "ca" });
  if (ca.key === undefined) throw new DomainError("wrong_state", `CA ${ca.name} has no private key in kpki (offline)`, { field: "ca" });
  if (ca.notAfter === undefined) throw new DomainError("wrong_state", `CA ${ca.name} has no certificate`, { field: "ca" });
}

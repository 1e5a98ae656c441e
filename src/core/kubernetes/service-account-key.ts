import { createHash } from "node:crypto";
import { DomainError } from "../shared/domain-error.js";
import type { KeyMaterialId } from "../shared/ids.js";
import type { KubernetesKeyAlgorithm } from "./cluster.js";

// A cluster's service-account key pair as an ordered set of versions, rotated with overlap
// (reference/kubernetes.md §5): kube-apiserver verifies tokens with every key of
// `--service-account-key-file` (sa.pub may hold several PEM blocks) and signs with the one key of
// `--service-account-signing-key-file` (sa.key); kube-controller-manager signs legacy tokens with
// `--service-account-private-key-file` (sa.key too).

/**
 * The life of one version:
 * - `published`: new, in sa.pub only, so every API server learns it before any token carries it;
 * - `signing`: sa.key (and in sa.pub); exactly one version per cluster;
 * - `verifying`: replaced as signer, still in sa.pub until the tokens it signed are gone;
 * - `retired`: out of sa.pub; its private key is destroyed, the public key kept for the record.
 */
export const SERVICE_ACCOUNT_KEY_STATES = ["published", "signing", "verifying", "retired"] as const;
export type ServiceAccountKeyState = (typeof SERVICE_ACCOUNT_KEY_STATES)[number];

/** One version of a cluster's service-account key pair. */
export interface ServiceAccountKeyVersion {
  readonly clusterId: string;
  /** 1, 2, 3… in creation order. */
  readonly version: number;
  /** The sealed private key (key_materials). */
  readonly keyMaterialId: KeyMaterialId;
  readonly algorithm: KubernetesKeyAlgorithm;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeySpki: Uint8Array;
  readonly state: ServiceAccountKeyState;
  readonly createdAt: Date;
  /** When it became the signing key (the switch; the cluster's creation for version 1). */
  readonly signingFrom?: Date;
  /** When the next version replaced it as the signing key. */
  readonly signingUntil?: Date;
  /** Earliest time it may be retired without force: signingUntil + the cluster's overlap. */
  readonly retireAfter?: Date;
  readonly retiredAt?: Date;
}

/** Where a rotation stands: the last step taken (`idle`: none in progress). */
export type RotationStep = "idle" | "published" | "switched";
/** The step that comes next: `publish` starts a rotation. */
export type NextRotationStep = "publish" | "switch" | "retire";

/** A cluster's versions, read as a rotation state. */
export interface ServiceAccountKeySet {
  readonly step: RotationStep;
  readonly nextStep: NextRotationStep;
  /** The version sa.key holds. */
  readonly signing: ServiceAccountKeyVersion;
  /** The versions sa.pub lists, oldest first: published, signing and verifying ones. */
  readonly verification: readonly ServiceAccountKeyVersion[];
  /** Step `published`: the version being introduced. */
  readonly published?: ServiceAccountKeyVersion;
  /** Step `switched`: the replaced version, still verifying until retired. */
  readonly previous?: ServiceAccountKeyVersion;
  /** Every version, oldest first (retired ones included). */
  readonly versions: readonly ServiceAccountKeyVersion[];
}

/**
 * Reads the versions as a rotation state and checks its invariants: exactly one signing version,
 * at most one published or verifying one (never both: one rotation at a time).
 */
export function serviceAccountKeySet(clusterName: string, versions: readonly ServiceAccountKeyVersion[]): ServiceAccountKeySet {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  const inState = (state: ServiceAccountKeyState) => sorted.filter((v) => v.state === state);
  const [signing, ...extraSigning] = inState("signing");
  const published = inState("published");
  const verifying = inState("verifying");
  if (signing === undefined || extraSigning.length > 0 || published.length > 1 || verifying.length > 1 || (published.length > 0 && verifying.length > 0)) {
    throw new DomainError("internal", `the service-account key versions of cluster ${clusterName} are inconsistent (${sorted.map((v) => `${v.version}:${v.state}`).join(", ") || "none"})`);
  }
  const [introduced] = published;
  const [previous] = verifying;
  const step: RotationStep = introduced !== undefined ? "published" : previous !== undefined ? "switched" : "idle";
  return {
    step,
    nextStep: step === "idle" ? "publish" : step === "published" ? "switch" : "retire",
    signing,
    verification: sorted.filter((v) => v.state !== "retired"),
    ...(introduced === undefined ? {} : { published: introduced }),
    ...(previous === undefined ? {} : { previous }),
    versions: sorted,
  };
}

/**
 * The `kid` Kubernetes puts into the tokens a key signs: base64url (no padding) of SHA-256 over
 * the PKIX DER public key (reference §5, `keyIDFromPublicKey` in pkg/serviceaccount/jwt.go).
 */
export function serviceAccountKeyId(publicKeySpki: Uint8Array): string {
  return createHash("sha256").update(publicKeySpki).digest("base64url");
}

/**
 * Shortest overlap: the kubelet refreshes a projected token after 80% of its lifetime or 24 h,
 * whichever comes first (reference §5 step 4), so a key must verify for at least a day after the
 * switch or running pods are left holding tokens nobody accepts.
 */
export const MIN_OVERLAP_SECONDS = 86_400;
/**
 * Default overlap: those 24 h, plus room for the switch's rollout to reach every control-plane
 * node (the overlap counts from kpki's switch, not from the last restart) and for nodes that were
 * down, whose kubelets refresh only when they are back. Seven days covers a week-end and a retry.
 */
export const DEFAULT_OVERLAP_SECONDS = 7 * 86_400;
/** Longest overlap and rotation period accepted (a sanity bound, 5 years). */
export const MAX_KEY_PERIOD_SECONDS = 5 * 365 * 86_400;
/** Shortest automatic rotation period: one rotation takes at least the overlap anyway. */
export const MIN_ROTATION_PERIOD_SECONDS = 86_400;

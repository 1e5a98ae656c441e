import type { KeyMaterialId } from "../shared/ids.js";

/** The static providers whose keys kpki generates and holds (reference §3.4). */
export const STATIC_PROVIDERS = ["aescbc", "aesgcm", "secretbox"] as const;
export type StaticProvider = (typeof STATIC_PROVIDERS)[number];

export function isStaticProvider(value: string): value is StaticProvider {
  return (STATIC_PROVIDERS as readonly string[]).includes(value);
}

/**
 * Bytes of every static key kpki generates (reference §3.4): secretbox takes exactly 32; aesgcm and
 * aescbc take 16, 24 or 32 and the docs ask for 32 — kpki always makes the strongest.
 */
export const STATIC_KEY_BYTES = 32;

/** kube-apiserver's default KMS call timeout (reference §3.2, defaults.go). */
export const DEFAULT_KMS_TIMEOUT_SECONDS = 3;

/**
 * One provider of the EncryptionConfiguration, without secrets: `identity` (no encryption), a KMS v2
 * plugin, or one static key of a static provider (named; its secret is sealed in kpki).
 */
export type ProviderEntry =
  | { readonly type: "identity" }
  | {
      readonly type: "kms";
      /** The provider name: in every record's etcd prefix `k8s:enc:kms:v2:<name>:`, so fixed once data exists. */
      readonly name: string;
      /** `unix:///path.sock`, where `kpki kms-plugin` listens. */
      readonly endpoint: string;
      /** The kpki named key whose versions are the KEKs (`kpki kms-plugin --key`). */
      readonly keyName: string;
      readonly timeoutSeconds: number;
    }
  | { readonly type: StaticProvider; readonly key: string };

export type KmsEntry = Extract<ProviderEntry, { type: "kms" }>;
export type StaticEntry = Extract<ProviderEntry, { type: StaticProvider }>;

export function isStaticEntry(entry: ProviderEntry): entry is StaticEntry {
  return isStaticProvider(entry.type);
}

/**
 * The steps of the rotation runbook, in order (reference §3.5, W-encrypt "Rotate a decryption key"):
 * `added` — the new provider/key second, every API server learns to read it; `promoted` — it is
 * first, new writes use it; `rewrite` — the operator re-writes every object; `removed` — the old one
 * is gone from the file. The next step after `removed` is steady state.
 */
export const ROTATION_STEPS = ["added", "promoted", "rewrite", "removed"] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/**
 * Why a rotation runs: `enable` (from no encryption: `identity` is the old provider), `key` (a new
 * static key of the same provider), `provider` (to another static provider or KMS plugin).
 */
export type RotationKind = "enable" | "key" | "provider";

/** A rotation in progress: replacing `from` by `to`, now at `step`. */
export interface Rotation {
  readonly kind: RotationKind;
  readonly step: RotationStep;
  readonly from: ProviderEntry;
  readonly to: ProviderEntry;
  readonly startedAt: Date;
  readonly updatedAt: Date;
}

/**
 * A cluster's encryption at rest. `provider` encrypts in steady state; during a rotation it is the
 * rotation's `from` until the rotation completes. `version` grows with every change, so a change
 * computed from a stale read is refused instead of skipping a step.
 */
export interface ClusterEncryption {
  readonly clusterId: string;
  /** The `resources` list of the file's one entry: `secrets`, `deployments.apps`, `*.`, `*.*`… */
  readonly resources: readonly string[];
  readonly provider: ProviderEntry;
  readonly rotation?: Rotation;
  /** The number of the next static key name (`key-<n>`); names are never reused. */
  readonly nextKeyNumber: number;
  /**
   * Static providers only: the `start-static-key-rotations` job starts a key rotation (runbook step
   * `added`) once the key in use is this old. Absent: rotations start by hand only. A KMS provider's
   * KEK rotates with its named key's own period instead.
   */
  readonly keyRotationPeriodSeconds?: number;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A static key: its name in the file, and its secret sealed in kpki. */
export interface EncryptionKey {
  readonly id: string;
  readonly clusterId: string;
  readonly name: string;
  readonly provider: StaticProvider;
  readonly keyMaterialId: KeyMaterialId;
  /** `retired`: out of the file for good (kept sealed for restores of older etcd backups). */
  readonly state: "active" | "retired";
  readonly createdAt: Date;
  readonly retiredAt?: Date;
}

/** Bounds of a static key rotation period: at least a day (each rotation means two rolling restarts and a rewrite), at most ten years. */
export const MIN_KEY_ROTATION_PERIOD_SECONDS = 86_400;
export const MAX_KEY_ROTATION_PERIOD_SECONDS = 3650 * 86_400;

/**
 * When a steady static setup's key rotation is due: the key in use was made `period` ago (a key is
 * made when its rotation starts, so the period runs from one start to the next). Undefined when no
 * automatic rotation applies: no period, a rotation in progress, or no static key in use.
 */
export function keyRotationDueAt(setup: ClusterEncryption, keys: readonly EncryptionKey[]): Date | undefined {
  const provider = setup.provider;
  if (setup.keyRotationPeriodSeconds === undefined || setup.rotation !== undefined || !isStaticEntry(provider)) return undefined;
  const inUse = keys.find((key) => key.name === provider.key);
  return inUse === undefined ? undefined : new Date(inUse.createdAt.getTime() + setup.keyRotationPeriodSeconds * 1000);
}

/** The file's providers, in order, for the setup's current step. */
export function fileEntries(setup: Pick<ClusterEncryption, "provider" | "rotation">): readonly ProviderEntry[] {
  const rotation = setup.rotation;
  if (rotation === undefined) return [setup.provider];
  switch (rotation.step) {
    case "added":
      return [rotation.from, rotation.to];
    case "promoted":
    case "rewrite":
      return [rotation.to, rotation.from];
    case "removed":
      return [rotation.to];
  }
}

/** A provider entry in words, for runbook texts and audit details. */
export function describeEntry(entry: ProviderEntry): string {
  switch (entry.type) {
    case "identity":
      return "identity (no encryption)";
    case "kms":
      return `KMS v2 plugin ${entry.name} (named key ${entry.keyName})`;
    default:
      return `${entry.type} key ${entry.key}`;
  }
}

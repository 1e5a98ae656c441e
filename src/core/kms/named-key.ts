import type { State } from "./kmip-vocabulary.js";

/** Algorithms a named key (encryption as a service) can have: AES-GCM with a 256- or 128-bit key. */
export const NAMED_KEY_ALGORITHMS = ["AES-256-GCM", "AES-128-GCM"] as const;
export type NamedKeyAlgorithm = (typeof NAMED_KEY_ALGORITHMS)[number];

/**
 * A named key for encryption as a service (Vault transit's model, on KMIP objects): each version is
 * a managed symmetric key linked to the next by Re-key; encryption uses the current version,
 * decryption any version from `minDecryptionVersion` up that is not destroyed.
 */
export interface NamedKey {
  readonly name: string;
  readonly algorithm: NamedKeyAlgorithm;
  readonly currentVersion: number;
  readonly minDecryptionVersion: number;
  /** Rotate automatically this often (run by the scheduler); absent: only on request. */
  readonly rotatePeriodSeconds?: number;
  readonly lastRotatedAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Per-version use, for rotation reports (which versions still decrypt data). */
export interface KeyVersionUsage {
  readonly version: number;
  readonly uid: string;
  /** The version's KMIP state as stored; with the dates below it gives the effective state (key-state.ts). */
  readonly state: State;
  readonly activationDate?: Date;
  readonly deactivationDate?: Date;
  readonly encryptCount: number;
  readonly decryptCount: number;
  readonly lastEncryptAt?: Date;
  readonly lastDecryptAt?: Date;
}

/** Names: like CA names, they appear in URLs and ciphertexts. */
export const NAMED_KEY_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

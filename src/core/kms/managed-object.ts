import type { KeyHandle } from "../crypto/key-handle.js";
import type { CryptographicAlgorithm, LinkType, ObjectType, RevocationReasonCode, State } from "./kmip-vocabulary.js";

/** A KMIP Link attribute: this object's relation to another. */
export interface ObjectLink {
  readonly type: LinkType;
  readonly uid: string;
}

/** Where a named key version stands (encryption as a service). */
export interface KeyVersionRef {
  readonly name: string;
  readonly version: number;
}

/**
 * A managed cryptographic object with its KMIP attributes. The key material itself is either held
 * by the crypto backend (`key`, sealed under the master key; removed by Destroy) or, for public keys,
 * the public key (`publicKeySpki`, not secret). Metadata outlives Destroy.
 */
export interface ManagedObject {
  /** KMIP Unique Identifier. */
  readonly uid: string;
  readonly objectType: ObjectType;
  /** KMIP Cryptographic Algorithm (absent for secret data and opaque objects). */
  readonly algorithm?: CryptographicAlgorithm;
  /** KMIP Cryptographic Length in bits. */
  readonly length?: number;
  /** EC curve ("P-256", "P-384") for EC keys. */
  readonly curve?: "P-256" | "P-384";
  /** KMIP Cryptographic Usage Mask. */
  readonly usageMask: number;
  /** The stored state; the effective state also depends on the activation/deactivation dates (key-state.ts). */
  readonly state: State;
  /** KMIP Name attributes (text strings). */
  readonly names: readonly string[];
  readonly initialDate: Date;
  readonly activationDate?: Date;
  readonly deactivationDate?: Date;
  readonly destroyDate?: Date;
  readonly compromiseDate?: Date;
  readonly compromiseOccurrenceDate?: Date;
  readonly revocationReason?: { readonly code: RevocationReasonCode; readonly message?: string };
  readonly links: readonly ObjectLink[];
  /** KMIP Sensitive: the value may never be returned in clear. */
  readonly sensitive: boolean;
  /** KMIP Extractable: the value may be returned at all (Get). */
  readonly extractable: boolean;
  /** Custom attributes, names starting with `x-`. */
  readonly customAttributes: Readonly<Record<string, string>>;
  readonly lastChangeDate: Date;
  /** Sealed material, absent for public keys and after Destroy. */
  readonly key?: KeyHandle;
  /** Public keys: DER SubjectPublicKeyInfo. Private keys: the matching public key, for Verify. */
  readonly publicKeySpki?: Uint8Array;
  /** Set when this object is a version of a named key. */
  readonly version?: KeyVersionRef;
  /** Principal that created it. */
  readonly createdBy: string;
}

/** Custom attribute names (KMIP: vendor/extension attributes are prefixed; kpki uses `x-`). */
export const CUSTOM_ATTRIBUTE = /^x-[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

import type { KeyFormat } from "./key-material-formats.js";
import type { ObjectType } from "./kmip-vocabulary.js";
import type { ManagedObject } from "./managed-object.js";

/** Attributes a client may set when creating or registering an object. */
export interface ObjectAttributes {
  readonly names?: readonly string[];
  readonly usageMask?: number;
  /** Activate now (default false: Pre-Active, as KMIP). */
  readonly activate?: boolean;
  readonly activationDate?: Date;
  readonly deactivationDate?: Date;
  readonly sensitive?: boolean;
  /** The transport decides the default: REST false (safe), KMIP true (the specification's). */
  readonly extractable: boolean;
  readonly customAttributes?: Readonly<Record<string, string>>;
}

/** KMIP Create: a symmetric key (AES, HMAC) or secret data. */
export interface CreateRequest extends ObjectAttributes {
  readonly objectType: "SymmetricKey" | "SecretData";
  readonly algorithm?: "AES" | "HMAC-SHA256" | "HMAC-SHA384" | "HMAC-SHA512";
  /** Bits: AES 128/192/256 (default 256); HMAC default = hash size; secret data default 256. */
  readonly length?: number;
}

/** KMIP Create Key Pair: RSA 2048–4096, EC P-256/P-384, Ed25519 as linked private and public objects. */
export interface CreateKeyPairRequest extends Omit<ObjectAttributes, "usageMask"> {
  readonly algorithm: "RSA" | "EC" | "Ed25519";
  /** RSA bits (default 2048) or EC curve size 256/384 (default 256). */
  readonly length?: number;
  readonly privateUsageMask?: number;
  readonly publicUsageMask?: number;
}

/** KMIP Register: existing material in one of the accepted formats. */
export interface RegisterRequest extends ObjectAttributes {
  readonly objectType: ObjectType;
  readonly algorithm?: "AES" | "HMAC-SHA256" | "HMAC-SHA384" | "HMAC-SHA512";
  readonly format: KeyFormat;
  readonly value: string;
}

/** A Get answer: the object and its value in the chosen format (text: base64, PEM or JWK JSON). */
export interface ObjectValue {
  readonly object: ManagedObject;
  readonly format: KeyFormat;
  readonly value: string;
}

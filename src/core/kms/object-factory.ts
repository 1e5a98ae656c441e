import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { SecretAlgorithm } from "../crypto/secret-algorithms.js";
import { newId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { KeyDescription } from "./key-material-formats.js";
import type { CryptographicAlgorithm } from "./kmip-vocabulary.js";
import { kmsError } from "./kms-error.js";
import { CUSTOM_ATTRIBUTE, type ManagedObject } from "./managed-object.js";
import type { CreateKeyPairRequest, ObjectAttributes } from "./object-requests.js";
import { assertUsageMask, defaultUsageMask } from "./usage-rules.js";

const MAX_NAMES = 16;
const MAX_CUSTOM_ATTRIBUTES = 64;

/**
 * Builds new managed objects with validated client attributes and KMIP's initial values (state,
 * dates, links), without storing anything: fresh objects, key-pair halves linked to each other, and
 * the successor of a re-keyed object.
 */
export class ObjectFactory {
  constructor(private readonly random: RandomSource) {}


  build(attributes: ObjectAttributes, fields: Pick<ManagedObject, "objectType"> & Partial<ManagedObject>, now: Date): ManagedObject {
    const names = attributes.names ?? [];
    if (names.length > MAX_NAMES || names.some((name) => name === "" || name.length > 255)) throw kmsError("invalid_input", "Invalid Field", `names: at most ${MAX_NAMES}, each 1–255 characters`, "names");
    const custom = attributes.customAttributes ?? {};
    if (Object.keys(custom).length > MAX_CUSTOM_ATTRIBUTES) throw kmsError("invalid_input", "Invalid Field", `customAttributes: at most ${MAX_CUSTOM_ATTRIBUTES}`, "customAttributes");
    for (const [name, value] of Object.entries(custom)) {
      if (!CUSTOM_ATTRIBUTE.test(name)) throw kmsError("invalid_input", "Invalid Field", `customAttributes: ${name} must start with x- (letters, digits, . _ -)`, "customAttributes");
      if (value.length > 1024) throw kmsError("invalid_input", "Invalid Field", `customAttributes: ${name} is longer than 1024 characters`, "customAttributes");
    }
    const usageMask = attributes.usageMask ?? defaultUsageMask(fields.objectType, fields.algorithm);
    assertUsageMask(usageMask, fields.objectType, fields.algorithm);
    const activateNow = attributes.activate === true || (attributes.activationDate !== undefined && attributes.activationDate.getTime() <= now.getTime());
    if (attributes.deactivationDate !== undefined && attributes.activationDate !== undefined && attributes.deactivationDate < attributes.activationDate) {
      throw kmsError("invalid_input", "Invalid Field", "deactivationDate: before the activation date", "deactivationDate");
    }
    return {
      uid: newId<string>(now, this.random),
      usageMask,
      state: activateNow ? "Active" : "Pre-Active",
      names: [...new Set(names)],
      initialDate: now,
      ...(activateNow ? { activationDate: attributes.activationDate ?? now } : attributes.activationDate === undefined ? {} : { activationDate: attributes.activationDate }),
      ...(attributes.deactivationDate === undefined ? {} : { deactivationDate: attributes.deactivationDate }),
      links: [],
      sensitive: attributes.sensitive ?? false,
      extractable: attributes.extractable,
      customAttributes: { ...custom },
      lastChangeDate: now,
      createdBy: "",
      ...fields,
    };
  }

  pair(request: CreateKeyPairRequest, description: KeyDescription, handle: ManagedObject["key"], spki: Uint8Array, now: Date): [ManagedObject, ManagedObject] {
    const shape = { algorithm: description.algorithm, length: description.length, ...(description.curve === undefined ? {} : { curve: description.curve }), publicKeySpki: spki };
    const privateKey = this.build({ ...request, ...(request.privateUsageMask === undefined ? {} : { usageMask: request.privateUsageMask }) }, { objectType: "PrivateKey", ...shape, ...(handle === undefined ? {} : { key: handle }) }, now);
    const publicKey = this.build({ ...request, extractable: true, sensitive: false, ...(request.publicUsageMask === undefined ? {} : { usageMask: request.publicUsageMask }) }, { objectType: "PublicKey", ...shape }, now);
    return [{ ...privateKey, links: [{ type: "PublicKeyLink", uid: publicKey.uid }] }, { ...publicKey, links: [{ type: "PrivateKeyLink", uid: privateKey.uid }] }];
  }

  /** The replacement of `old`: same kind, attributes and names, new uid and key, linked back. */
  successor(old: ManagedObject, state: string, key: ManagedObject["key"], now: Date, offsetSeconds: number | undefined, extra: Partial<Pick<ManagedObject, "version">> = {}, publicKeySpki?: Uint8Array): ManagedObject {
    if (offsetSeconds !== undefined && (!Number.isInteger(offsetSeconds) || offsetSeconds < 0)) throw kmsError("invalid_input", "Invalid Field", "offsetSeconds: a non-negative integer", "offsetSeconds");
    const activationDate = offsetSeconds !== undefined ? new Date(now.getTime() + offsetSeconds * 1000) : state === "Active" ? now : undefined;
    const active = activationDate !== undefined && activationDate.getTime() <= now.getTime();
    const { key: _oldKey, activationDate: _a, deactivationDate: _d, destroyDate: _x, compromiseDate: _c, compromiseOccurrenceDate: _o, revocationReason: _r, version: _v, ...kept } = old;
    return {
      ...kept,
      uid: newId<string>(now, this.random),
      state: active ? "Active" : "Pre-Active",
      initialDate: now,
      ...(activationDate === undefined ? {} : { activationDate }),
      links: [{ type: "ReplacedObjectLink", uid: old.uid }],
      lastChangeDate: now,
      ...(key === undefined ? {} : { key }),
      ...(publicKeySpki === undefined ? {} : { publicKeySpki }),
      ...extra,
    };
  }
}

/** The backend algorithm of a key pair request. */
export function keyPairAlgorithm(algorithm: CreateKeyPairRequest["algorithm"], length: number | undefined): KeyAlgorithm {
  switch (algorithm) {
    case "RSA": {
      const bits = length ?? 2048;
      if (![2048, 3072, 4096].includes(bits)) throw kmsError("invalid_input", "Invalid Field", "length: RSA 2048, 3072 or 4096", "length");
      return `RSA-${bits}` as KeyAlgorithm;
    }
    case "EC": {
      const bits = length ?? 256;
      if (bits !== 256 && bits !== 384) throw kmsError("invalid_input", "Invalid Field", "length: EC 256 (P-256) or 384 (P-384)", "length");
      return bits === 256 ? "ECDSA-P256" : "ECDSA-P384";
    }
    case "Ed25519":
      return "Ed25519";
    default:
      throw kmsError("invalid_input", "Invalid Field", "algorithm: RSA, EC or Ed25519", "algorithm");
  }
}

export function describeKeyAlgorithm(algorithm: KeyAlgorithm): KeyDescription {
  if (algorithm.startsWith("RSA")) return { algorithm: "RSA", length: Number(algorithm.slice(4)) };
  if (algorithm === "Ed25519") return { algorithm: "Ed25519", length: 256 };
  return algorithm === "ECDSA-P256" ? { algorithm: "EC", length: 256, curve: "P-256" } : { algorithm: "EC", length: 384, curve: "P-384" };
}

export function secretAlgorithm(algorithm: CryptographicAlgorithm): SecretAlgorithm {
  if (algorithm === "AES" || algorithm === "HMAC-SHA256" || algorithm === "HMAC-SHA384" || algorithm === "HMAC-SHA512") return algorithm;
  throw kmsError("invalid_input", "Invalid Object Type", `${algorithm} is not a symmetric algorithm`);
}

import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { Clock } from "../shared/clock.js";
import { isDomainError } from "../shared/domain-error.js";
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from "../shared/page.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { decodeAsymmetric, decodeSecret, encodePrivate, encodePublic, encodeSecret, type KeyFormat } from "./key-material-formats.js";
import { activated, assertAllowed, destroyed, effectiveState, revoked } from "./key-state.js";
import { isCompromise, type ObjectType, type RevocationReasonCode } from "./kmip-vocabulary.js";
import { kmsError } from "./kms-error.js";
import type { ManagedObject } from "./managed-object.js";
import type { CreateKeyPairRequest, CreateRequest, ObjectValue, RegisterRequest } from "./object-requests.js";
import { applyAttributeChange, attributesOf, type AttributeChange, type AttributeValue } from "./object-attributes.js";
import type { ObjectCache } from "./object-cache.js";
import type { RecentDecryptionGuard } from "./recent-decryption-guard.js";
import type { KmsRepositories, LocateQuery } from "./ports.js";
import { describeKeyAlgorithm, keyPairAlgorithm, ObjectFactory, secretAlgorithm } from "./object-factory.js";
import { defaultUsageMask } from "./usage-rules.js";

const HMAC_BITS: Readonly<Record<string, number>> = { "HMAC-SHA256": 256, "HMAC-SHA384": 384, "HMAC-SHA512": 512 };

/**
 * The KMIP object lifecycle and attributes: Create, Create Key Pair, Register, Get, Get Attributes,
 * Add/Modify/Delete Attribute, Locate, Activate, Revoke, Destroy, Re-key, Re-key Key Pair. Every
 * change is audited in its transaction; key material stays sealed in the crypto backend.
 */
export class ObjectService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KmsRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly objects: ObjectCache;
      /** Refuses to destroy a named-key version that still decrypts data, unless forced. */
      readonly recentDecryptions: RecentDecryptionGuard;
    },
  ) {
    this.factory = new ObjectFactory(deps.random);
  }

  private readonly factory: ObjectFactory;

  /**
   * KMIP Create. `internal` is for other key-service use cases (named keys): a version reference and
   * more writes for the same transaction.
   */
  async create(
    context: RequestContext,
    request: CreateRequest,
    internal: { version?: ManagedObject["version"]; alsoInTransaction?: (repositories: KmsRepositories) => Promise<void> } = {},
  ): Promise<ManagedObject> {
    const now = this.deps.clock.now();
    if (request.objectType === "SymmetricKey") {
      const algorithm = request.algorithm;
      if (algorithm === undefined) throw kmsError("invalid_input", "Missing Data", "algorithm: a symmetric key needs AES or HMAC-SHA256/384/512", "algorithm");
      const length = request.length ?? (algorithm === "AES" ? 256 : (HMAC_BITS[algorithm] ?? 256));
      const key = await this.deps.crypto.generateSecret(algorithm, length).catch(withReason("length"));
      const object = this.factory.build(request, { objectType: "SymmetricKey", algorithm, length, key, ...(internal.version === undefined ? {} : { version: internal.version }) }, now);
      return this.store(context, "create", [object], internal.alsoInTransaction).then(first);
    }
    if (request.algorithm !== undefined) throw kmsError("invalid_input", "Invalid Field", "algorithm: secret data has no algorithm", "algorithm");
    const length = request.length ?? 256;
    const key = await this.deps.crypto.generateSecret("DATA", length).catch(withReason("length"));
    return this.store(context, "create", [this.factory.build(request, { objectType: "SecretData", length, key }, now)]).then(first);
  }

  async createKeyPair(context: RequestContext, request: CreateKeyPairRequest): Promise<{ privateKey: ManagedObject; publicKey: ManagedObject }> {
    const now = this.deps.clock.now();
    const keyAlgorithm = keyPairAlgorithm(request.algorithm, request.length);
    const pair = await this.deps.crypto.generateKeyPair(keyAlgorithm);
    const description = describeKeyAlgorithm(keyAlgorithm);
    const [privateKey, publicKey] = this.factory.pair(request, description, pair.handle, pair.publicKeySpki, now);
    await this.store(context, "create-key-pair", [privateKey, publicKey]);
    return { privateKey, publicKey };
  }

  async register(context: RequestContext, request: RegisterRequest): Promise<ManagedObject> {
    const now = this.deps.clock.now();
    switch (request.objectType) {
      case "SymmetricKey": {
        if (request.algorithm === undefined) throw kmsError("invalid_input", "Missing Data", "algorithm: a symmetric key needs AES or HMAC-SHA256/384/512", "algorithm");
        const raw = decodeSecret(request.format, request.value, "value");
        const key = await this.deps.crypto.importSecret(request.algorithm, raw).catch(withReason("value"));
        return this.store(context, "register", [this.factory.build(request, { objectType: "SymmetricKey", algorithm: request.algorithm, length: raw.length * 8, key }, now)]).then(first);
      }
      case "SecretData":
      case "OpaqueObject": {
        if (request.algorithm !== undefined) throw kmsError("invalid_input", "Invalid Field", `algorithm: ${request.objectType} has no algorithm`, "algorithm");
        const raw = decodeSecret(request.format === "jwk" ? "raw" : request.format, request.value, "value");
        const key = await this.deps.crypto.importSecret("DATA", raw).catch(withReason("value"));
        return this.store(context, "register", [this.factory.build(request, { objectType: request.objectType, length: raw.length * 8, key }, now)]).then(first);
      }
      case "PrivateKey":
      case "PublicKey": {
        const material = decodeAsymmetric(request.format, request.value, "value");
        if ((material.kind === "private") !== (request.objectType === "PrivateKey")) {
          throw kmsError("invalid_input", "Invalid Object Type", `value: the material is a ${material.kind} key, but objectType is ${request.objectType}`, "value");
        }
        const fields = { objectType: request.objectType, algorithm: material.description.algorithm, length: material.description.length, ...(material.description.curve === undefined ? {} : { curve: material.description.curve }), publicKeySpki: material.spki };
        if (material.kind === "public") return this.store(context, "register", [this.factory.build(request, fields, now)]).then(first);
        const imported = await this.deps.crypto.importPrivateKey(material.pkcs8);
        return this.store(context, "register", [this.factory.build(request, { ...fields, key: imported.handle }, now)]).then(first);
      }
    }
  }

  /** KMIP Get: the value, only when the object is extractable and not sensitive (public keys always). */
  async get(context: RequestContext, uid: string, format?: KeyFormat): Promise<ObjectValue> {
    const object = await this.find(uid);
    const now = this.deps.clock.now();
    assertAllowed("Get", effectiveState(object, now));
    if (object.objectType !== "PublicKey") {
      if (object.sensitive) throw kmsError("permission_denied", "Sensitive", `object ${uid} is Sensitive: its value is never returned in clear`, "uid");
      if (!object.extractable) throw kmsError("permission_denied", "Not Extractable", `object ${uid} is not Extractable`, "uid");
    }
    const chosen = format ?? defaultFormat(object.objectType);
    const value = await this.encodeValue(object, chosen);
    await this.audit(context, "key.export", object, now, { format: chosen });
    return { object, format: chosen, value };
  }

  /** The object itself (metadata), or `not_found` (KMIP Item Not Found). */
  async find(uid: string): Promise<ManagedObject> {
    const object = await this.deps.uow.read((r) => r.managedObjects.findByUid(uid));
    if (object === undefined) throw kmsError("not_found", "Item Not Found", `object ${uid} does not exist`, "uid");
    return object;
  }

  /** KMIP Get Attributes (all, or the named ones). */
  async getAttributes(uid: string, names?: readonly string[]): Promise<Record<string, AttributeValue>> {
    const all = attributesOf(await this.find(uid), this.deps.clock.now());
    if (names === undefined || names.length === 0) return all;
    return Object.fromEntries(names.flatMap((name) => (Object.hasOwn(all, name) ? [[name, all[name] as AttributeValue]] : [])));
  }

  /** KMIP Get Attribute List: the names of the attributes the object has. */
  async getAttributeList(uid: string): Promise<string[]> {
    return Object.keys(await this.getAttributes(uid));
  }

  /** KMIP Add / Modify / Delete Attribute. */
  async changeAttribute(context: RequestContext, uid: string, change: AttributeChange): Promise<ManagedObject> {
    return this.mutate(context, uid, `attribute.${change.action}`, (object, now) => {
      assertAllowed("ModifyAttribute", effectiveState(object, now));
      return applyAttributeChange(object, change, now);
    }, { attribute: change.name });
  }

  /**
   * Writes the state that activation and deactivation dates have already made effective, so
   * stored states (and Locate by state) stay exact. Reads always use the effective state anyway.
   */
  async applyLifecycleDates(context: RequestContext, limit = 1000): Promise<number> {
    const now = this.deps.clock.now();
    const lagging = await this.deps.uow.read((r) => r.managedObjects.listLaggingState(now, limit));
    for (const object of lagging) {
      await this.mutate(context, object.uid, "state-by-date", (current) => ({ ...current, state: effectiveState(current, now) }), { from: object.state });
    }
    return lagging.length;
  }

  /** KMIP Locate. */
  async locate(query: Omit<LocateQuery, "now" | "limit"> & { limit?: number }): Promise<Page<ManagedObject>> {
    const limit = query.limit ?? PAGE_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) throw kmsError("invalid_input", "Invalid Field", `limit: 1–${PAGE_LIMIT_MAX}`, "limit");
    return this.deps.uow.read((r) => r.managedObjects.locate({ ...query, limit, now: this.deps.clock.now() }));
  }

  async activate(context: RequestContext, uid: string): Promise<ManagedObject> {
    return this.mutate(context, uid, "activate", (object, now) => ({ ...object, state: activated(effectiveState(object, now)), activationDate: object.activationDate !== undefined && object.activationDate.getTime() <= now.getTime() ? object.activationDate : now }));
  }

  /** KMIP Revoke: compromise reasons → Compromised (with Compromise Date), others → Deactivated. */
  async revoke(context: RequestContext, uid: string, reason: { code: RevocationReasonCode; message?: string; compromiseOccurrenceDate?: Date }): Promise<ManagedObject> {
    return this.mutate(
      context,
      uid,
      "revoke",
      (object, now) => {
        const state = revoked(effectiveState(object, now), reason.code);
        return {
          ...object,
          state,
          revocationReason: { code: reason.code, ...(reason.message === undefined ? {} : { message: reason.message }) },
          ...(isCompromise(reason.code) ? { compromiseDate: now, compromiseOccurrenceDate: reason.compromiseOccurrenceDate ?? now } : { deactivationDate: object.deactivationDate !== undefined && object.deactivationDate.getTime() <= now.getTime() ? object.deactivationDate : now }),
        };
      },
      { reason: reason.code },
    );
  }

  /**
   * KMIP Destroy: refused while Active; erases the key material, keeps the metadata. A named-key
   * version that decrypted data within the recent-use window is kept unless `force` (the audit
   * record then says it was forced and when the version last decrypted).
   */
  async destroy(context: RequestContext, uid: string, options: { force?: boolean } = {}): Promise<ManagedObject> {
    // Most objects are no named-key version: one transaction reads, checks and writes. A version
    // needs the recent-use guard first, which reads usage on its own: the first transaction finds
    // that out before writing anything, and the destroy runs again with the guard's answer.
    const destroyOnce = (guarded: { lastDecryptAt?: Date } | undefined) =>
      this.mutate(
        context,
        uid,
        "destroy",
        (object, now) => {
          const state = destroyed(effectiveState(object, now)); // an Active key is refused for its state first (KMIP's reason)
          if (object.version !== undefined && guarded === undefined) throw new GuardNeeded(object.version);
          const { key: _erased, ...rest } = object;
          return { ...rest, state, destroyDate: now };
        },
        guarded?.lastDecryptAt === undefined ? {} : { forced: "true", lastDecryptAt: guarded.lastDecryptAt.toISOString() },
      );
    try {
      return await destroyOnce(undefined);
    } catch (error) {
      if (!(error instanceof GuardNeeded)) throw error;
      const { name, version } = error.version;
      const forcedOver = await this.deps.recentDecryptions.check(name, (usage) => usage.uid === uid, { action: `destroy version ${version} of named key ${name}`, force: options.force === true, field: "uid" });
      const lastDecryptAt = forcedOver[0]?.lastDecryptAt;
      return destroyOnce(lastDecryptAt === undefined ? {} : { lastDecryptAt });
    }
  }

  /**
   * KMIP Re-key: a new symmetric key with the same attributes replaces this one (Replacement /
   * Replaced links); the Names move to the new key (KMIP 1.4 §4.4). `offsetSeconds` sets the new
   * key's activation (now + offset); without it the new key is Active if the old one was.
   */
  async rekey(
    context: RequestContext,
    uid: string,
    options: {
      offsetSeconds?: number;
      extra?: Partial<Pick<ManagedObject, "version">>;
      /** Also deactivate the replaced key (revoke: Superseded), as a named key's rotation does. */
      supersede?: boolean;
      /** More writes for the same transaction (a named key's new current version). */
      alsoInTransaction?: (repositories: KmsRepositories) => Promise<void>;
    } = {},
  ): Promise<ManagedObject> {
    const now = this.deps.clock.now();
    const old = await this.find(uid);
    const state = effectiveState(old, now);
    assertAllowed("ReKey", state);
    if (old.objectType !== "SymmetricKey" || old.algorithm === undefined || old.length === undefined) {
      throw kmsError("invalid_input", "Invalid Object Type", `Re-key applies to symmetric keys; use Re-key Key Pair for ${old.objectType}`, "uid");
    }
    const key = await this.deps.crypto.generateSecret(secretAlgorithm(old.algorithm), old.length);
    const replacement = this.factory.successor(old, state, key, now, options.offsetSeconds, options.extra);
    const superseded: ManagedObject =
      options.supersede === true && state === "Active" ? { ...old, state: revoked(state, "Superseded"), revocationReason: { code: "Superseded" }, deactivationDate: now } : old;
    await this.storeSuccession(context, "rekey", superseded, [replacement], now, undefined, options.alsoInTransaction);
    return replacement;
  }

  /** KMIP Re-key Key Pair: a new pair replacing the pair this private key belongs to. */
  async rekeyKeyPair(context: RequestContext, privateUid: string, options: { offsetSeconds?: number } = {}): Promise<{ privateKey: ManagedObject; publicKey: ManagedObject }> {
    const now = this.deps.clock.now();
    const old = await this.find(privateUid);
    const state = effectiveState(old, now);
    assertAllowed("ReKey", state);
    if (old.objectType !== "PrivateKey" || old.algorithm === undefined) throw kmsError("invalid_input", "Invalid Object Type", "Re-key Key Pair takes the private key of a pair", "uid");
    const keyAlgorithm = keyPairAlgorithm(old.algorithm as CreateKeyPairRequest["algorithm"], old.length);
    const pair = await this.deps.crypto.generateKeyPair(keyAlgorithm);
    const newPrivate = this.factory.successor(old, state, pair.handle, now, options.offsetSeconds, {}, pair.publicKeySpki);
    const oldPublicUid = old.links.find((link) => link.type === "PublicKeyLink")?.uid;
    const oldPublic = oldPublicUid === undefined ? undefined : await this.deps.uow.read((r) => r.managedObjects.findByUid(oldPublicUid));
    const newPublic: ManagedObject = {
      ...this.factory.successor(oldPublic ?? { ...old, objectType: "PublicKey", usageMask: defaultUsageMask("PublicKey", old.algorithm), names: [] }, state, undefined, now, options.offsetSeconds, {}, pair.publicKeySpki),
      objectType: "PublicKey",
      sensitive: false,
      extractable: true,
      links: [{ type: "PrivateKeyLink", uid: newPrivate.uid }, ...(oldPublic === undefined ? [] : [{ type: "ReplacedObjectLink" as const, uid: oldPublic.uid }])],
    };
    const linkedPrivate: ManagedObject = { ...newPrivate, links: [...newPrivate.links, { type: "PublicKeyLink", uid: newPublic.uid }] };
    await this.storeSuccession(context, "rekey-key-pair", old, [linkedPrivate, newPublic], now, oldPublic);
    return { privateKey: linkedPrivate, publicKey: newPublic };
  }

  // ---- storage ----

  private async store(context: RequestContext, action: string, objects: readonly ManagedObject[], alsoInTransaction?: (repositories: KmsRepositories) => Promise<void>): Promise<ManagedObject[]> {
    const stored = objects.map((object) => ({ ...object, createdBy: context.principal.id }));
    const now = stored[0]?.initialDate ?? this.deps.clock.now();
    await this.deps.uow.run(async (r) => {
      for (const object of stored) {
        await r.managedObjects.create(object);
        await this.auditIn(r, context, `key.${action}`, object, now);
      }
      await alsoInTransaction?.(r);
    });
    return stored;
  }

  /** Stores a Re-key: the new object(s), and the old one(s) losing their names and linking forward. */
  private async storeSuccession(
    context: RequestContext,
    action: string,
    old: ManagedObject,
    created: readonly ManagedObject[],
    now: Date,
    oldPublic?: ManagedObject,
    alsoInTransaction?: (repositories: KmsRepositories) => Promise<void>,
  ): Promise<void> {
    const [first, second] = created;
    if (first === undefined) return;
    // The old objects (two for a key pair) in uid order: the order the usage flush locks rows in.
    const replaced = [
      { object: old, by: first },
      ...(oldPublic !== undefined && second !== undefined ? [{ object: oldPublic, by: second }] : []),
    ].sort((a, b) => (a.object.uid < b.object.uid ? -1 : a.object.uid > b.object.uid ? 1 : 0));
    await this.deps.uow.run(async (r) => {
      for (const object of created) {
        const stored = { ...object, createdBy: context.principal.id };
        await r.managedObjects.create(stored);
        await this.auditIn(r, context, `key.${action}`, stored, now, { replaces: object === first ? old.uid : (oldPublic?.uid ?? null) });
      }
      for (const { object, by } of replaced) {
        await r.managedObjects.update({ ...object, names: [], links: [...object.links, { type: "ReplacementObjectLink", uid: by.uid }], lastChangeDate: now });
        this.deps.objects.invalidate(object.uid);
      }
      await alsoInTransaction?.(r);
    });
  }

  /** Reads, changes and writes one object in a transaction, with its audit record. */
  private async mutate(context: RequestContext, uid: string, action: string, change: (object: ManagedObject, now: Date) => ManagedObject, details: Record<string, string> = {}): Promise<ManagedObject> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async (r) => {
      const object = await r.managedObjects.findForUpdate(uid);
      if (object === undefined) throw kmsError("not_found", "Item Not Found", `object ${uid} does not exist`, "uid");
      const changed = { ...change(object, now), lastChangeDate: now };
      await r.managedObjects.update(changed, object);
      this.deps.objects.invalidate(uid);
      await this.auditIn(r, context, `key.${action}`, changed, now, details);
      return changed;
    });
  }

  private async audit(context: RequestContext, action: string, object: ManagedObject, now: Date, details: Record<string, string> = {}): Promise<void> {
    await this.deps.uow.run((r) => this.auditIn(r, context, action, object, now, details));
  }

  private auditIn(r: KmsRepositories, context: RequestContext, action: string, object: ManagedObject, now: Date, details: Record<string, string | null> = {}): Promise<void> {
    return r.audit.record(
      { actor: context.principal.id, action, target: `key:${object.uid}`, result: "success", requestId: context.requestId, details: { objectType: object.objectType, state: object.state, ...details } },
      now,
    );
  }

  private async encodeValue(object: ManagedObject, format: KeyFormat): Promise<string> {
    if (object.objectType === "PublicKey") {
      if (object.publicKeySpki === undefined) throw kmsError("internal", "General Failure", `public key ${object.uid} has no value`);
      return encodePublic(object.publicKeySpki, format);
    }
    if (object.key === undefined) throw kmsError("wrong_state", "Object Destroyed", `object ${object.uid} has no key material`, "uid");
    if (object.objectType === "PrivateKey") return encodePrivate(await this.deps.crypto.exportPrivateKey(object.key), format);
    return encodeSecret(await this.deps.crypto.exportSecret(object.key), format, object.objectType);
  }
}

/**
 * Destroy met a named-key version, which the recent-use guard must clear first: thrown inside the
 * transaction before any write (it rolls back having changed nothing) and caught by destroy().
 */
class GuardNeeded extends Error {
  constructor(readonly version: NonNullable<ManagedObject["version"]>) {
    super(`destroying version ${version.version} of named key ${version.name} needs the recent-use check`);
  }
}

function first<T>(items: readonly T[]): T {
  const item = items[0];
  if (item === undefined) throw new Error("nothing stored");
  return item;
}

function defaultFormat(objectType: ObjectType): KeyFormat {
  return objectType === "PrivateKey" ? "pkcs8" : objectType === "PublicKey" ? "spki" : "raw";
}


/**
 * The crypto backend refuses key lengths it cannot make or take (invalid_input on `length`); the
 * key service names the KMIP reason (Invalid Field) and the field the client actually sent.
 */
function withReason(field: "length" | "value"): (error: unknown) => never {
  return (error: unknown) => {
    if (isDomainError(error) && error.code === "invalid_input") {
      const message = error.message.replace(/^length: /, "");
      throw kmsError("invalid_input", "Invalid Field", `${field}: ${message}`, field);
    }
    throw error;
  };
}

import type { Clock } from "../shared/clock.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { KeyOperationsService } from "./key-operations-service.js";
import { effectiveState } from "./key-state.js";
import type { State } from "./kmip-vocabulary.js";
import { kmsError } from "./kms-error.js";
import { NAMED_KEY_ALGORITHMS, NAMED_KEY_NAME, type KeyVersionUsage, type NamedKey, type NamedKeyAlgorithm } from "./named-key.js";
import { decodeNamedCiphertext, encodeNamedCiphertext, namedKeyAad } from "./named-key-ciphertext.js";
import { namedKeyUsageReport, type NamedKeyUsageReport } from "./named-key-usage-report.js";
import type { ObjectService } from "./object-service.js";
import type { KmsRepositories } from "./ports.js";
import type { RecentDecryptionGuard } from "./recent-decryption-guard.js";

/** The named key record is reused this long between reads (a rotation elsewhere shows within it). */
const TTL_MILLIS = 2_000;
const MIN_ROTATE_PERIOD_SECONDS = 3600;

export interface CreateNamedKeyRequest {
  readonly name: string;
  readonly algorithm?: NamedKeyAlgorithm;
  readonly rotatePeriodSeconds?: number;
}

/** A data key for envelope encryption: the wrapped form to store, and the plaintext unless only the wrapped one was asked for. */
export interface DataKey {
  readonly ciphertext: string;
  readonly plaintext?: Uint8Array;
}

/**
 * Encryption as a service on named keys: encrypt with the current version, decrypt with any
 * version from `minDecryptionVersion` that is not destroyed, rewrap, data keys, rotation. Each version
 * is a managed AES key (Re-key links them; the replaced version is deactivated, so it can still
 * decrypt but never encrypt).
 */
export class NamedKeyService {
  private readonly keys = new Map<string, { key: NamedKey; until: number }>();
  private readonly versionUids = new Map<string, string>();

  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KmsRepositories>;
      readonly objects: ObjectService;
      readonly operations: KeyOperationsService;
      readonly clock: Clock;
      /** Refuses to retire a version (raise minDecryptionVersion above it) that still decrypts data, unless forced. */
      readonly recentDecryptions: RecentDecryptionGuard;
    },
  ) {}

  async create(context: RequestContext, request: CreateNamedKeyRequest): Promise<NamedKey> {
    if (!NAMED_KEY_NAME.test(request.name)) throw kmsError("invalid_input", "Invalid Field", "name: 1–63 characters of a-z, 0-9, '.', '_' and '-'", "name");
    const algorithm = request.algorithm ?? "AES-256-GCM";
    if (!(NAMED_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) throw kmsError("invalid_input", "Invalid Field", `algorithm: one of ${NAMED_KEY_ALGORITHMS.join(", ")}`, "algorithm");
    assertRotatePeriod(request.rotatePeriodSeconds);
    if ((await this.deps.uow.read((r) => r.namedKeys.findByName(request.name))) !== undefined) {
      throw kmsError("already_exists", "Object Already Exists", `named key ${request.name} already exists`, "name");
    }
    const now = this.deps.clock.now();
    const key: NamedKey = {
      name: request.name,
      algorithm,
      currentVersion: 1,
      minDecryptionVersion: 1,
      ...(request.rotatePeriodSeconds === undefined ? {} : { rotatePeriodSeconds: request.rotatePeriodSeconds }),
      lastRotatedAt: now,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.objects.create(
      context,
      { objectType: "SymmetricKey", algorithm: "AES", length: algorithm === "AES-256-GCM" ? 256 : 128, names: [request.name], activate: true, extractable: false },
      {
        version: { name: request.name, version: 1 },
        alsoInTransaction: async (r) => {
          await r.namedKeys.create(key);
          await r.audit.record({ actor: context.principal.id, action: "named-key.create", target: `named-key:${key.name}`, result: "success", requestId: context.requestId, details: { algorithm } }, now);
        },
      },
    );
    return key;
  }

  /** The key and each version's usage, with its effective state now. */
  async get(name: string): Promise<{ key: NamedKey; versions: readonly KeyVersionUsage[] }> {
    const now = this.deps.clock.now();
    return this.deps.uow.read(async (r) => {
      const key = await r.namedKeys.findByName(name);
      if (key === undefined) throw notFound(name);
      return { key, versions: (await r.managedObjects.listVersionUsage(name)).map((usage) => ({ ...usage, state: effectiveState(usage, now) })) };
    });
  }

  /**
   * Which versions still decrypt data within `windowSeconds` (default: the recent-use window), for
   * the KEK migration after a rotation: what must be rewrapped before old versions are retired.
   */
  async usageReport(name: string, windowSeconds = this.deps.recentDecryptions.windowSeconds): Promise<NamedKeyUsageReport> {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw kmsError("invalid_input", "Invalid Field", "windowDays: a positive number of days", "windowDays");
    const key = await this.deps.uow.read((r) => r.namedKeys.findByName(name));
    if (key === undefined) throw notFound(name);
    const versions = await this.deps.recentDecryptions.versionUsage(name);
    return namedKeyUsageReport(key, versions, this.deps.clock.now(), windowSeconds);
  }

  async list(): Promise<readonly NamedKey[]> {
    return this.deps.uow.read((r) => r.namedKeys.list());
  }

  /**
   * Changes the minimum decryption version and/or the rotation period (null: no automatic rotation).
   * Raising the minimum retires the versions below it: refused while one of them decrypted data
   * within the recent-use window, unless `force` (audited as forced).
   */
  async update(context: RequestContext, name: string, changes: { minDecryptionVersion?: number; rotatePeriodSeconds?: number | null }, options: { force?: boolean } = {}): Promise<NamedKey> {
    if (changes.rotatePeriodSeconds !== null) assertRotatePeriod(changes.rotatePeriodSeconds);
    const before = await this.deps.uow.read((r) => r.namedKeys.findByName(name));
    if (before === undefined) throw notFound(name);
    const wanted = changes.minDecryptionVersion;
    if (wanted !== undefined) assertMinDecryptionVersion(wanted, before.currentVersion);
    const forcedOver =
      wanted !== undefined && wanted > before.minDecryptionVersion
        ? await this.deps.recentDecryptions.check(name, (usage) => usage.version >= before.minDecryptionVersion && usage.version < wanted && usage.version < before.currentVersion, {
            action: `raise the minimum decryption version of ${name} to ${wanted}`,
            force: options.force === true,
            field: "minDecryptionVersion",
          })
        : [];
    const now = this.deps.clock.now();
    const updated = await this.deps.uow.run(async (r) => {
      const key = await r.namedKeys.findByName(name);
      if (key === undefined) throw notFound(name);
      const min = changes.minDecryptionVersion ?? key.minDecryptionVersion;
      assertMinDecryptionVersion(min, key.currentVersion);
      // The check above saw this minimum; one raised meanwhile could retire versions it did not check.
      if (key.minDecryptionVersion !== before.minDecryptionVersion) throw kmsError("conflict", "General Failure", `the minimum decryption version of ${name} changed concurrently; retry`, "minDecryptionVersion");
      const { rotatePeriodSeconds: _old, ...rest } = key;
      const period = changes.rotatePeriodSeconds === undefined ? key.rotatePeriodSeconds : (changes.rotatePeriodSeconds ?? undefined);
      const next: NamedKey = { ...rest, minDecryptionVersion: min, ...(period === undefined ? {} : { rotatePeriodSeconds: period }), updatedAt: now };
      await r.namedKeys.update(next);
      const forced: Record<string, string | boolean> =
        forcedOver.length === 0 ? {} : { forced: true, recentlyDecryptedVersions: forcedOver.map((usage) => `${usage.version}@${usage.lastDecryptAt?.toISOString() ?? "?"}`).join(",") };
      await r.audit.record({ actor: context.principal.id, action: "named-key.update", target: `named-key:${name}`, result: "success", requestId: context.requestId, details: { minDecryptionVersion: min, rotatePeriodSeconds: period ?? null, ...forced } }, now);
      return next;
    });
    this.keys.delete(name);
    return updated;
  }

  /** Rotation: Re-key the current version; the new one encrypts from now on, the old one only decrypts. */
  async rotate(context: RequestContext, name: string): Promise<NamedKey> {
    const current = await this.deps.uow.read((r) => r.namedKeys.findByName(name));
    if (current === undefined) throw notFound(name);
    const currentUid = await this.versionUid(name, current.currentVersion);
    const now = this.deps.clock.now();
    const next: NamedKey = { ...current, currentVersion: current.currentVersion + 1, lastRotatedAt: now, updatedAt: now };
    await this.deps.objects.rekey(context, currentUid, {
      // Active at once, whatever the old version's state: rotation is also how a compromised or
      // expired key is replaced, and a Pre-Active version 2 could not encrypt at all.
      offsetSeconds: 0,
      extra: { version: { name, version: next.currentVersion } },
      supersede: true,
      alsoInTransaction: async (r) => {
        const latest = await r.namedKeys.findByName(name);
        if (latest?.currentVersion !== current.currentVersion) throw kmsError("conflict", "General Failure", `named key ${name} was rotated concurrently; retry`, "name");
        await r.namedKeys.update(next);
        await r.audit.record({ actor: context.principal.id, action: "named-key.rotate", target: `named-key:${name}`, result: "success", requestId: context.requestId, details: { version: next.currentVersion } }, now);
      },
    });
    this.keys.delete(name);
    return next;
  }

  async encrypt(context: RequestContext, name: string, plaintext: Uint8Array, aadContext?: Uint8Array): Promise<string> {
    const key = await this.key(name);
    const uid = await this.versionUid(name, key.currentVersion);
    const result = await this.deps.operations.encrypt(context, { uid, plaintext, mode: "AES-GCM", aad: namedKeyAad(name, key.currentVersion, aadContext) });
    if (result.iv === undefined || result.tag === undefined) throw kmsError("internal", "General Failure", "AES-GCM returned no IV or tag");
    return encodeNamedCiphertext({ name, version: key.currentVersion, iv: result.iv, ciphertext: result.ciphertext, tag: result.tag });
  }

  async decrypt(context: RequestContext, ciphertext: string, aadContext?: Uint8Array): Promise<Uint8Array> {
    const decoded = decodeNamedCiphertext(ciphertext);
    const key = await this.key(decoded.name);
    if (decoded.version > key.currentVersion) throw kmsError("invalid_input", "Invalid Field", `ciphertext: version ${decoded.version} of ${decoded.name} does not exist`, "ciphertext");
    if (decoded.version < key.minDecryptionVersion) {
      throw kmsError("policy_violation", "Permission Denied", `ciphertext: version ${decoded.version} of ${decoded.name} is below the minimum decryption version ${key.minDecryptionVersion}`, "ciphertext");
    }
    const uid = await this.versionUid(decoded.name, decoded.version);
    return this.deps.operations.decrypt(context, { uid, ciphertext: decoded.ciphertext, mode: "AES-GCM", iv: decoded.iv, tag: decoded.tag, aad: namedKeyAad(decoded.name, decoded.version, aadContext) });
  }

  /** Re-encrypts under the current version; the plaintext never leaves the service. */
  async rewrap(context: RequestContext, ciphertext: string, aadContext?: Uint8Array): Promise<string> {
    const { name } = decodeNamedCiphertext(ciphertext);
    const plaintext = await this.decrypt(context, ciphertext, aadContext);
    try {
      return await this.encrypt(context, name, plaintext, aadContext);
    } finally {
      plaintext.fill(0);
    }
  }

  /** A fresh AES data key wrapped under the named key (and in clear too, unless `wrappedOnly`). */
  async generateDataKey(context: RequestContext, name: string, options: { bits?: 128 | 256; wrappedOnly?: boolean; aadContext?: Uint8Array } = {}): Promise<DataKey> {
    const bits = options.bits ?? 256;
    if (bits !== 128 && bits !== 256) throw kmsError("invalid_input", "Invalid Field", "bits: 128 or 256", "bits");
    const plaintext = this.deps.operations.rng(bits / 8);
    const ciphertext = await this.encrypt(context, name, plaintext, options.aadContext);
    if (options.wrappedOnly === true) {
      plaintext.fill(0);
      return { ciphertext };
    }
    return { ciphertext, plaintext };
  }

  /**
   * The version that encrypts now, its managed object's uid and effective state (for health checks
   * such as the KMS plugin's Status): the key record as encryption sees it (cached), the state read fresh.
   */
  async currentVersion(name: string): Promise<{ version: number; uid: string; state: State }> {
    const key = await this.key(name);
    const uid = await this.versionUid(name, key.currentVersion);
    const object = await this.deps.objects.find(uid);
    return { version: key.currentVersion, uid, state: effectiveState(object, this.deps.clock.now()) };
  }

  /** The managed object uid of one version (`not_found` when the key has no such version). */
  async uidOfVersion(name: string, version: number): Promise<string> {
    return this.versionUid(name, version);
  }

  /** Named keys whose automatic rotation is due at `now` (for the scheduler). */
  async rotationDue(now: Date): Promise<readonly string[]> {
    const keys = await this.deps.uow.read((r) => r.namedKeys.list());
    return keys.filter((key) => key.rotatePeriodSeconds !== undefined && key.lastRotatedAt.getTime() + key.rotatePeriodSeconds * 1000 <= now.getTime()).map((key) => key.name);
  }

  private async key(name: string): Promise<NamedKey> {
    const now = this.deps.clock.now().getTime();
    const cached = this.keys.get(name);
    if (cached !== undefined && cached.until > now) return cached.key;
    const key = await this.deps.uow.read((r) => r.namedKeys.findByName(name));
    if (key === undefined) throw notFound(name);
    this.keys.set(name, { key, until: now + TTL_MILLIS });
    return key;
  }

  /** The UID of a version; the mapping never changes, so it is remembered for good. */
  private async versionUid(name: string, version: number): Promise<string> {
    const cacheKey = `${name}:${version}`;
    const cached = this.versionUids.get(cacheKey);
    if (cached !== undefined) return cached;
    const object = await this.deps.uow.read((r) => r.managedObjects.findVersion(name, version));
    if (object === undefined) throw kmsError("not_found", "Item Not Found", `version ${version} of named key ${name} does not exist`, "ciphertext");
    if (this.versionUids.size > 100_000) this.versionUids.clear();
    this.versionUids.set(cacheKey, object.uid);
    return object.uid;
  }
}

function assertMinDecryptionVersion(min: number, currentVersion: number): void {
  if (!Number.isInteger(min) || min < 1 || min > currentVersion) throw kmsError("invalid_input", "Invalid Field", `minDecryptionVersion: 1–${currentVersion} (the current version)`, "minDecryptionVersion");
}

function assertRotatePeriod(seconds: number | undefined): void {
  if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < MIN_ROTATE_PERIOD_SECONDS)) {
    throw kmsError("invalid_input", "Invalid Field", `rotatePeriodSeconds: an integer of at least ${MIN_ROTATE_PERIOD_SECONDS}`, "rotatePeriodSeconds");
  }
}

function notFound(name: string) {
  return kmsError("not_found", "Item Not Found", `named key ${name} does not exist`, "name");
}

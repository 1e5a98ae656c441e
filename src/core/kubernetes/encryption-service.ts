import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { newId, type KeyMaterialId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { Cluster } from "./cluster.js";
import type { ClusterService } from "./cluster-service.js";
import {
  describeEntry,
  fileEntries,
  isStaticEntry,
  keyRotationDueAt,
  STATIC_KEY_BYTES,
  type ClusterEncryption,
  type EncryptionKey,
  type KmsEntry,
  type ProviderEntry,
  type RotationStep,
  type StaticProvider,
} from "./encryption-at-rest.js";
import { encryptionConfiguration, type EncryptionConfigurationDocument } from "./encryption-config-document.js";
import { requestedKeyRotationPeriod, requestedProvider, requestedResources, type ConfigureEncryptionRequest, type RequestedProvider } from "./encryption-request.js";
import { advanceRotation, beginRotation, nextAction, type NextAction } from "./encryption-runbook.js";
import type { EncryptionRepositories } from "./ports.js";
import { skipIfMovedOn } from "./unattended-step.js";

/** A cluster's encryption at rest as the API shows it: no secret in it. */
export interface EncryptionState {
  readonly cluster: Cluster;
  readonly setup: ClusterEncryption;
  /** Every static key the cluster had, retired ones included, oldest first. */
  readonly keys: readonly EncryptionKey[];
  /** The file's providers in order, for the current step. */
  readonly entries: readonly ProviderEntry[];
  readonly nextAction: NextAction;
  /** When the `start-static-key-rotations` job starts the next key rotation (a static setup with a period, steady). */
  readonly keyRotationDueAt?: Date;
  readonly warnings: readonly string[];
}

/** The rendered file: what kube-apiserver reads, and whether it holds static keys. */
export interface RenderedEncryptionConfig {
  readonly state: EncryptionState;
  readonly document: EncryptionConfigurationDocument;
  readonly containsSecrets: boolean;
}

/** One change of a setup, written by `save`. */
interface SetupChange {
  readonly cluster: Cluster;
  readonly before: ClusterEncryption;
  readonly after: ClusterEncryption;
  readonly key?: NewKey | undefined;
  readonly action: string;
  readonly details: Readonly<Record<string, string>>;
  readonly alsoInTransaction?: (r: EncryptionRepositories) => Promise<void>;
}

/** A static key made for a setup, stored with it in its transaction. */
interface NewKey {
  readonly key: EncryptionKey;
  readonly store: (r: EncryptionRepositories) => Promise<void>;
}

/**
 * Encryption at rest for a cluster's kube-apiservers: keeps the setup (KMS v2 plugin with a named
 * key, or static keys kpki generates and keeps sealed like every other secret), renders the
 * EncryptionConfiguration (reference §3.4) and walks the operator through the rotation runbook
 * (reference §3.5) one confirmed step at a time. Every change and every export of the file is audited
 * in its transaction.
 */
export class ClusterEncryptionService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<EncryptionRepositories>;
      readonly clusters: ClusterService;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
    },
  ) {}

  /**
   * Sets the provider. First time: with existing unencrypted data (default) an `enable` rotation
   * starts from `identity`; without data the file encrypts at once. Later: the same static provider
   * is a no-op, a KMS endpoint or timeout changes in place, anything else starts a `provider`
   * rotation. Refused while a rotation is in progress, and for a change of resources.
   */
  async configure(context: RequestContext, clusterName: string, request: ConfigureEncryptionRequest): Promise<EncryptionState> {
    const cluster = await this.deps.clusters.get(clusterName);
    const target = requestedProvider(request);
    const resources = requestedResources(request);
    const period = requestedKeyRotationPeriod(request);
    const current = await this.deps.uow.read((r) => r.clusterEncryption.find(cluster.id));
    if (target.type === "kms") await this.assertNamedKeyExists(target.entry.keyName);
    const now = this.deps.clock.now();
    if (current === undefined) {
      const existingData = request.existingData ?? "unencrypted";
      const created = target.type === "static" ? await this.newKey(cluster, 1, target.provider, now) : undefined;
      const entry: ProviderEntry = target.type === "kms" ? target.entry : { type: target.provider, key: created?.key.name ?? "" };
      const base: ClusterEncryption = { clusterId: cluster.id, resources, provider: entry, nextKeyNumber: created === undefined ? 1 : 2, ...periodSetting(period ?? null), version: 1, createdAt: now, updatedAt: now };
      const setup = existingData === "none" ? base : beginRotation({ ...base, provider: { type: "identity" } }, "enable", entry, now, cluster.name);
      await concurrently(cluster, () =>
        this.deps.uow.run(async (r) => {
          await created?.store(r);
          await r.clusterEncryption.create(setup);
          await this.audit(r, context, cluster, "cluster.encryption.configure", now, { provider: describeEntry(entry), resources: resources.join(","), existingData });
        }),
      );
      return this.get(cluster.name);
    }
    if (request.existingData !== undefined) throw new DomainError("invalid_input", "existingData: applies to the first configuration only", { field: "existingData" });
    if (current.rotation !== undefined) {
      throw new DomainError("conflict", `cluster ${cluster.name}: a ${current.rotation.kind} rotation is in progress (step ${current.rotation.step}); finish it before changing the provider`);
    }
    if (request.resources !== undefined && resources.join("\n") !== current.resources.join("\n")) {
      throw new DomainError(
        "unsupported",
        `resources: fixed at ${current.resources.join(", ")} once configured (data of a removed resource would become unreadable, and an added one's data is not encrypted yet)`,
        { field: "resources" },
      );
    }
    // A KMS target has no static key: a period set for the static provider it replaces ends with it.
    const newPeriod = target.type === "kms" ? null : period === undefined ? (current.keyRotationPeriodSeconds ?? null) : period;
    const periodChanged = newPeriod !== (current.keyRotationPeriodSeconds ?? null);
    const withPeriod: ClusterEncryption = { ...withoutPeriod(current), ...periodSetting(newPeriod) };
    const periodDetails: Readonly<Record<string, string>> = periodChanged ? { keyRotationPeriodSeconds: newPeriod === null ? "off" : String(newPeriod) } : {};
    const change = this.planChange(cluster, current, target);
    if (change === "unchanged") {
      if (!periodChanged) return this.get(cluster.name);
      // Only the period: the file does not change, so nothing to roll out.
      await this.save(context, { cluster, before: current, after: { ...withPeriod, updatedAt: now }, action: "cluster.encryption.update", details: periodDetails });
      return this.get(cluster.name);
    }
    const key = "newStatic" in change ? await this.newKey(cluster, current.nextKeyNumber, change.newStatic, now) : undefined;
    const to: ProviderEntry = "entry" in change ? change.entry : { type: change.newStatic, key: key?.key.name ?? "" };
    const changed: ClusterEncryption =
      change.kind === "in-place"
        ? { ...withPeriod, provider: to, updatedAt: now }
        : beginRotation({ ...withPeriod, nextKeyNumber: current.nextKeyNumber + (key === undefined ? 0 : 1) }, "provider", to, now, cluster.name);
    await this.save(context, {
      cluster,
      before: current,
      after: changed,
      key,
      action: change.kind === "in-place" ? "cluster.encryption.update" : "cluster.encryption.rotation.start",
      details: { from: describeEntry(current.provider), to: describeEntry(to), ...periodDetails },
    });
    const state = await this.get(cluster.name);
    return change.kind === "in-place" ? { ...state, warnings: [...state.warnings, "the file changed: copy it to every control-plane node and restart every kube-apiserver"] } : state;
  }

  /** The setup, its keys and the next action; `not_found` when the cluster has none. */
  async get(clusterName: string): Promise<EncryptionState> {
    const cluster = await this.deps.clusters.get(clusterName);
    const { setup, keys } = await this.deps.uow.read(async (r) => ({ setup: await r.clusterEncryption.find(cluster.id), keys: await r.clusterEncryption.listKeys(cluster.id) }));
    if (setup === undefined) throw notConfigured(cluster.name);
    const entries = fileEntries(setup);
    const aesgcm = entries[0]?.type === "aesgcm";
    const dueAt = keyRotationDueAt(setup, keys);
    return {
      cluster,
      setup,
      keys,
      entries,
      nextAction: nextAction(setup, cluster.name),
      ...(dueAt === undefined ? {} : { keyRotationDueAt: dueAt }),
      warnings: aesgcm ? ["aesgcm encrypts new writes: its keys must be rotated before 200,000 writes (reference §3.4); prefer aescbc, secretbox or kms"] : [],
    };
  }

  /**
   * Starts a key rotation for every steady static setup whose key in use is older than its period.
   * Only the runbook's first step is taken unattended: it adds the new key second in the file, which
   * changes nothing until the operator rolls the file out; promoting it before every API server can
   * read it would make the ones that cannot fail to read new writes, and kpki cannot see them.
   * Returns the clusters whose rotation started.
   */
  async startDueRotations(context: RequestContext, now: Date): Promise<readonly string[]> {
    const setups = await this.deps.uow.read((r) => r.clusterEncryption.listWithKeyRotationPeriod());
    if (setups.length === 0) return [];
    const names = new Map((await this.deps.clusters.list()).map((cluster) => [cluster.id, cluster.name]));
    const started: string[] = [];
    for (const setup of setups) {
      const keys = await this.deps.uow.read((r) => r.clusterEncryption.listKeys(setup.clusterId));
      const dueAt = keyRotationDueAt(setup, keys);
      const name = names.get(setup.clusterId);
      if (dueAt === undefined || dueAt.getTime() > now.getTime() || name === undefined) continue;
      if (await skipIfMovedOn(() => this.startRotation(context, name))) started.push(name);
    }
    return started;
  }

  /** Starts a static key rotation: a new key of the same provider, added second (reference §3.5 step 1). */
  async startRotation(context: RequestContext, clusterName: string): Promise<EncryptionState> {
    const state = await this.get(clusterName);
    const { cluster, setup } = state;
    if (setup.rotation !== undefined) throw new DomainError("conflict", `cluster ${cluster.name}: a ${setup.rotation.kind} rotation is already in progress (step ${setup.rotation.step})`);
    const provider = setup.provider;
    if (!isStaticEntry(provider)) {
      throw new DomainError(
        "wrong_state",
        provider.type === "kms"
          ? `cluster ${cluster.name} encrypts through the KMS v2 plugin ${provider.name}: rotate its key encryption key with kpki key named rotate ${provider.keyName} (no kube-apiserver restart; reference §3.5), or configure another provider`
          : `cluster ${cluster.name} has no key to rotate`,
      );
    }
    const now = this.deps.clock.now();
    const key = await this.newKey(cluster, setup.nextKeyNumber, provider.type, now);
    const to: ProviderEntry = { type: provider.type, key: key.key.name };
    const changed = beginRotation({ ...setup, nextKeyNumber: setup.nextKeyNumber + 1 }, "key", to, now, cluster.name);
    await this.save(context, { cluster, before: setup, after: changed, key, action: "cluster.encryption.rotation.start", details: { from: describeEntry(provider), to: describeEntry(to) } });
    return this.get(cluster.name);
  }

  /** Confirms the current step and moves to the next (retiring the old key when it leaves the file). */
  async advance(context: RequestContext, clusterName: string, completedStep?: RotationStep): Promise<EncryptionState> {
    const { cluster, setup } = await this.get(clusterName);
    const now = this.deps.clock.now();
    const advanced = advanceRotation(setup, now, cluster.name, completedStep);
    const removed = advanced.removed;
    await this.save(context, {
      cluster,
      before: setup,
      after: advanced.setup,
      action: "cluster.encryption.rotation.advance",
      details: { kind: setup.rotation?.kind ?? "", completed: advanced.completed, step: advanced.setup.rotation?.step ?? "steady", ...(removed === undefined ? {} : { removed: describeEntry(removed) }) },
      alsoInTransaction: async (r) => {
        if (removed !== undefined && isStaticEntry(removed)) await r.clusterEncryption.retireKey(cluster.id, removed.key, now);
      },
    });
    return this.get(cluster.name);
  }

  /**
   * The EncryptionConfiguration for the current step. Static keys leave kpki here (kube-apiserver
   * reads them from disk), so every render is an audited export.
   */
  async render(context: RequestContext, clusterName: string): Promise<RenderedEncryptionConfig> {
    const state = await this.get(clusterName);
    const secrets = new Map<string, string>();
    for (const entry of state.entries) {
      if (!isStaticEntry(entry)) continue;
      const key = state.keys.find((candidate) => candidate.name === entry.key);
      const stored = key === undefined ? undefined : await this.deps.uow.read((r) => r.keyMaterials.findById(key.keyMaterialId));
      if (stored === undefined) throw new DomainError("internal", `static key ${entry.key} of cluster ${state.cluster.name} is missing`);
      const raw = await this.deps.crypto.exportSecret(stored.handle);
      if (raw.length !== STATIC_KEY_BYTES) throw new DomainError("internal", `static key ${entry.key} has ${raw.length} bytes, not ${STATIC_KEY_BYTES}`);
      secrets.set(entry.key, Buffer.from(raw).toString("base64"));
      raw.fill(0);
    }
    const document = encryptionConfiguration(state.setup.resources, state.entries, (name) => secrets.get(name) ?? "");
    const now = this.deps.clock.now();
    await this.deps.uow.run((r) =>
      this.audit(r, context, state.cluster, "cluster.encryption-config.export", now, { step: state.setup.rotation?.step ?? "steady", containsSecrets: secrets.size > 0, keys: [...secrets.keys()].join(",") }),
    );
    return { state, document, containsSecrets: secrets.size > 0 };
  }

  /** How a steady setup changes to reach `target`. */
  private planChange(cluster: Cluster, current: ClusterEncryption, target: RequestedProvider): "unchanged" | { kind: "in-place"; entry: KmsEntry } | { kind: "provider"; entry: KmsEntry } | { kind: "provider"; newStatic: StaticProvider } {
    const provider = current.provider;
    if (target.type === "static") {
      if (provider.type === target.provider) return "unchanged";
      return { kind: "provider", newStatic: target.provider };
    }
    const entry = target.entry;
    if (provider.type !== "kms") return { kind: "provider", entry };
    if (provider.name === entry.name) {
      if (provider.keyName !== entry.keyName) {
        throw new DomainError(
          "conflict",
          `KMS provider ${provider.name} of cluster ${cluster.name} uses named key ${provider.keyName}: its records name that key's versions, so the key cannot change under the same provider name; give a new pluginName to rotate to another provider`,
          { field: "keyName" },
        );
      }
      if (provider.endpoint === entry.endpoint && provider.timeoutSeconds === entry.timeoutSeconds) return "unchanged";
      return { kind: "in-place", entry };
    }
    if (provider.endpoint === entry.endpoint && provider.keyName !== entry.keyName) {
      throw new DomainError("invalid_input", `endpoint: ${entry.endpoint} is the socket of the plugin for named key ${provider.keyName}, which the old provider keeps using during the rotation; give the new plugin its own socket`, { field: "endpoint" });
    }
    return { kind: "provider", entry };
  }

  /** Writes a changed setup (and a new key) if nobody changed it since `before` was read, with its audit entry. */
  private async save(context: RequestContext, change: SetupChange): Promise<void> {
    const { cluster, before, after } = change;
    await concurrently(cluster, () =>
      this.deps.uow.run(async (r) => {
        await change.key?.store(r);
        if (!(await r.clusterEncryption.update({ ...after, version: before.version + 1 }, before.version))) throw changedConcurrently(cluster);
        await change.alsoInTransaction?.(r);
        await this.audit(r, context, cluster, change.action, after.updatedAt, change.details);
      }),
    );
  }

  /** A new static key, sealed by the crypto backend; stored by the caller's transaction. */
  private async newKey(cluster: Cluster, number: number, provider: StaticProvider, now: Date): Promise<NewKey> {
    const handle = await this.deps.crypto.generateSecret("DATA", STATIC_KEY_BYTES * 8);
    const id = newId<string>(now, this.deps.random);
    const key: EncryptionKey = { id, clusterId: cluster.id, name: `key-${number}`, provider, keyMaterialId: `enc-key:${id}` as KeyMaterialId, state: "active", createdAt: now };
    return {
      key,
      store: async (r) => {
        // A static key has no public half: key_materials stores an empty value (as managed secrets do).
        await r.keyMaterials.create({ id: key.keyMaterialId, handle, publicKeySpki: new Uint8Array(0) }, now);
        await r.clusterEncryption.createKey(key);
      },
    };
  }

  private async assertNamedKeyExists(name: string): Promise<void> {
    if ((await this.deps.uow.read((r) => r.namedKeys.findByName(name))) === undefined) {
      throw new DomainError("invalid_input", `keyName: named key ${name} does not exist (create it first: kpki key named create ${name})`, { field: "keyName" });
    }
  }

  private async audit(r: EncryptionRepositories, context: RequestContext, cluster: Cluster, action: string, at: Date, details: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    await r.audit.record({ actor: context.principal.id, action, target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { name: cluster.name, ...details } }, at);
  }
}

function changedConcurrently(cluster: Cluster): DomainError {
  return new DomainError("conflict", `cluster ${cluster.name}: encryption at rest changed while this request ran; read it again and retry`);
}

/**
 * Runs a write that a concurrent one may beat: the loser hits a unique key (the setup row, or the
 * name of the key both made) or a changed version, and is told to read again — nothing it did stays.
 */
async function concurrently<T>(cluster: Cluster, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof DomainError && error.code === "already_exists") throw changedConcurrently(cluster);
    throw error;
  }
}

/** The stored form of a period setting: the field present only when a period is set. */
function periodSetting(period: number | null): Pick<ClusterEncryption, "keyRotationPeriodSeconds"> {
  return period === null ? {} : { keyRotationPeriodSeconds: period };
}

function withoutPeriod(setup: ClusterEncryption): ClusterEncryption {
  const { keyRotationPeriodSeconds: _period, ...rest } = setup;
  return rest;
}

function notConfigured(cluster: string): DomainError {
  return new DomainError("not_found", `cluster ${cluster} has no encryption at rest configured (PUT /v1/clusters/${cluster}/encryption, or kpki kubernetes encryption-config set ${cluster})`);
}


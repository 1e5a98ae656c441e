import { createPrivateKey } from "node:crypto";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import { x509 } from "../pki/index.js";
import type { Clock } from "../shared/clock.js";
import { DomainError, invalidInput } from "../shared/domain-error.js";
import type { KeyMaterialId } from "../shared/ids.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { KUBERNETES_KEY_ALGORITHMS, type Cluster, type KubernetesKeyAlgorithm } from "./cluster.js";
import type { ClusterService } from "./cluster-service.js";
import type { KubernetesRepositories } from "./ports.js";
import { skipIfMovedOn } from "./unattended-step.js";
import { serviceAccountKeyId, serviceAccountKeySet, type NextRotationStep, type ServiceAccountKeySet, type ServiceAccountKeyVersion } from "./service-account-key.js";

/** A cluster's service-account keys and where their rotation stands. */
export interface ServiceAccountKeyStatus extends ServiceAccountKeySet {
  readonly cluster: Cluster;
}

/** sa.key and sa.pub for the current step, as kubeadm writes them (reference §1.4, §5). */
export interface ServiceAccountKeyFiles {
  /** sa.key: the signing version's private key, PKCS#1 (RSA) or SEC1 (ECDSA) PEM. */
  readonly privateKeyPem: string;
  /** sa.pub: one PKIX `PUBLIC KEY` block per verification version, oldest first. */
  readonly publicKeyPem: string;
  readonly signingVersion: number;
  readonly verificationVersions: readonly number[];
  readonly step: ServiceAccountKeySet["step"];
}

/** Options of a rotation step. */
export interface AdvanceRequest {
  /** Retire before the overlap has passed. */
  readonly force?: boolean;
  /** The step the caller means to take; refused when another one is next (a retried request does not take two). */
  readonly step?: Exclude<NextRotationStep, "publish">;
}

/** What one step did. */
export interface AdvanceResult {
  readonly step: Exclude<NextRotationStep, "publish">;
  readonly status: ServiceAccountKeyStatus;
}

/**
 * Rotates a cluster's service-account signing key with overlap, as reference/kubernetes.md §5
 * describes it, one operator-confirmed step at a time (kpki cannot see whether the files reached
 * every node and the components were restarted):
 * 1. publish: a new version is created; sa.pub lists old and new, sa.key is still the old one;
 * 2. switch: sa.key is the new version; sa.pub still lists both, so tokens the old key signed
 *    keep verifying;
 * 3. retire: once the overlap has passed since the switch (or forced), the old public key leaves
 *    sa.pub and its private key is destroyed.
 * Steps are compare-and-set state changes, so a concurrent or repeated step is refused, not
 * applied twice.
 */
export class ServiceAccountKeyService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<KubernetesRepositories>;
      readonly clusters: ClusterService;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
    },
  ) {}

  async status(clusterName: string): Promise<ServiceAccountKeyStatus> {
    const cluster = await this.deps.clusters.get(clusterName);
    const versions = await this.deps.uow.read((r) => r.serviceAccountKeys.listByCluster(cluster.id));
    return { cluster, ...serviceAccountKeySet(cluster.name, versions) };
  }

  /** The public key of the signing version (what a fresh sa.key's public half must be). */
  async signingPublicKey(clusterName: string): Promise<Uint8Array> {
    return (await this.status(clusterName)).signing.publicKeySpki;
  }

  /** sa.pub: every version kube-apiserver must accept now, one PEM block each, oldest first. */
  async verificationPublicKeysPem(clusterName: string): Promise<string> {
    return publicKeysPem((await this.status(clusterName)).verification);
  }

  /** Step 1 (publish): creates the next version; refused while a rotation is in progress. */
  async start(context: RequestContext, clusterName: string, request: { keyAlgorithm?: KubernetesKeyAlgorithm } = {}): Promise<ServiceAccountKeyStatus> {
    const cluster = await this.deps.clusters.get(clusterName);
    const algorithm = request.keyAlgorithm ?? cluster.keyAlgorithm;
    if (!(KUBERNETES_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) throw invalidInput("keyAlgorithm", `must be one of ${KUBERNETES_KEY_ALGORITHMS.join(", ")}`);
    const before = serviceAccountKeySet(cluster.name, await this.deps.uow.read((r) => r.serviceAccountKeys.listByCluster(cluster.id)));
    assertIdle(cluster, before);
    // Generated outside the transaction (RSA takes a while); stored only if the rotation may start.
    const pair = await this.deps.crypto.generateKeyPair(algorithm);
    const now = this.deps.clock.now();
    await this.deps.uow.run(async (r) => {
      const current = serviceAccountKeySet(cluster.name, await r.serviceAccountKeys.listByCluster(cluster.id));
      assertIdle(cluster, current);
      const version = Math.max(...current.versions.map((v) => v.version)) + 1;
      // Named by the key's kid, so two concurrent starts never collide on the key material itself.
      const keyMaterialId = `sa-key:${cluster.id}:${serviceAccountKeyId(pair.publicKeySpki)}` as KeyMaterialId;
      await r.keyMaterials.create({ id: keyMaterialId, handle: pair.handle, publicKeySpki: pair.publicKeySpki }, now);
      // (clusterId, version) is unique: of two concurrent starts, the second fails here with `conflict`.
      await r.serviceAccountKeys.create({ clusterId: cluster.id, version, keyMaterialId, algorithm, publicKeySpki: pair.publicKeySpki, state: "published", createdAt: now });
      await r.audit.record(
        { actor: context.principal.id, action: "cluster.service-account-key.publish", target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { name: cluster.name, version, algorithm } },
        now,
      );
    });
    return this.status(clusterName);
  }

  /** The next step: switch (after publish) or retire (after switch). */
  async advance(context: RequestContext, clusterName: string, request: AdvanceRequest = {}): Promise<AdvanceResult> {
    const cluster = await this.deps.clusters.get(clusterName);
    const step = await this.advanceAt(context, cluster, request, this.deps.clock.now());
    return { step, status: await this.status(clusterName) };
  }

  /**
   * Retires every verifying version whose overlap has ended by `now` (the scheduled job). The only
   * step taken unattended: publish and switch change what the API servers must hold, and only the
   * operator knows when the files reached them.
   */
  async retireDue(context: RequestContext, now: Date): Promise<readonly string[]> {
    const due = await this.deps.uow.read((r) => r.serviceAccountKeys.listRetirementDue(now));
    const retired: string[] = [];
    for (const name of due) {
      const cluster = await this.deps.clusters.get(name);
      // An operator (or another replica) may have taken the step since the list was read.
      if (await skipIfMovedOn(() => this.advanceAt(context, cluster, { step: "retire" }, now))) retired.push(name);
    }
    return retired;
  }

  /**
   * Starts (publishes) a rotation for every cluster with a rotation period whose signing key has
   * signed that long and which has no rotation in progress. Publishing only adds a key to sa.pub:
   * safe to do unattended; the switch stays the operator's.
   */
  async startDue(context: RequestContext, now: Date): Promise<readonly string[]> {
    const started: string[] = [];
    for (const cluster of await this.deps.clusters.list()) {
      if (cluster.serviceAccountKeyRotationPeriodSeconds === null) continue;
      const set = serviceAccountKeySet(cluster.name, await this.deps.uow.read((r) => r.serviceAccountKeys.listByCluster(cluster.id)));
      const since = set.signing.signingFrom ?? set.signing.createdAt;
      if (set.step !== "idle" || since.getTime() + cluster.serviceAccountKeyRotationPeriodSeconds * 1000 > now.getTime()) continue;
      if (await skipIfMovedOn(() => this.start(context, cluster.name))) started.push(cluster.name);
    }
    return started;
  }

  /**
   * sa.key and sa.pub for the current step. sa.key has to leave kpki (the API server and the
   * controller manager read it from disk), so each export is an audited key use.
   */
  async exportFiles(context: RequestContext, clusterName: string): Promise<ServiceAccountKeyFiles> {
    const status = await this.status(clusterName);
    const { cluster, signing } = status;
    const stored = await this.deps.uow.read((r) => r.keyMaterials.findById(signing.keyMaterialId));
    if (stored === undefined) throw new DomainError("internal", `the signing service-account key (version ${signing.version}) of cluster ${cluster.name} is missing`);
    const pkcs8 = await this.deps.crypto.exportPrivateKey(stored.handle);
    const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    // kubeadm's encodings (reference §1.1): RSA → PKCS#1, ECDSA → SEC1.
    const privateKeyPem = key.export({ type: key.asymmetricKeyType === "rsa" ? "pkcs1" : "sec1", format: "pem" }).toString();
    const now = this.deps.clock.now();
    await this.deps.uow.run((r) =>
      r.audit.record(
        { actor: context.principal.id, action: "cluster.service-account-key.export", target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { name: cluster.name, version: signing.version } },
        now,
      ),
    );
    return {
      privateKeyPem,
      publicKeyPem: publicKeysPem(status.verification),
      signingVersion: signing.version,
      verificationVersions: status.verification.map((v) => v.version),
      step: status.step,
    };
  }

  private async advanceAt(context: RequestContext, cluster: Cluster, request: AdvanceRequest, now: Date): Promise<Exclude<NextRotationStep, "publish">> {
    return this.deps.uow.run(async (r) => {
      const set = serviceAccountKeySet(cluster.name, await r.serviceAccountKeys.listByCluster(cluster.id));
      if (set.nextStep === "publish") {
        throw new DomainError("wrong_state", `no rotation of cluster ${cluster.name}'s service-account key is in progress; start one first`);
      }
      if (request.step !== undefined && request.step !== set.nextStep) {
        throw new DomainError("wrong_state", `the next step of cluster ${cluster.name}'s service-account key rotation is ${set.nextStep}, not ${request.step}`, { field: "step" });
      }
      const changed = (ok: boolean) => {
        if (!ok) throw new DomainError("conflict", `cluster ${cluster.name}'s service-account keys changed while this step ran; look at them again and retry`);
      };
      const audit = (action: string, details: Record<string, string | number | boolean>) =>
        r.audit.record({ actor: context.principal.id, action, target: `cluster:${cluster.id}`, result: "success", requestId: context.requestId, details: { name: cluster.name, ...details } }, now);

      if (set.nextStep === "switch") {
        const incoming = set.published;
        if (incoming === undefined) throw new DomainError("internal", "published version missing");
        const retireAfter = new Date(now.getTime() + cluster.serviceAccountKeyOverlapSeconds * 1000);
        changed(await r.serviceAccountKeys.transition(cluster.id, set.signing.version, "signing", { state: "verifying", signingUntil: now, retireAfter }));
        changed(await r.serviceAccountKeys.transition(cluster.id, incoming.version, "published", { state: "signing", signingFrom: now }));
        await audit("cluster.service-account-key.switch", { from: set.signing.version, to: incoming.version, retireAfter: retireAfter.toISOString() });
        return "switch";
      }

      const outgoing = set.previous;
      if (outgoing === undefined) throw new DomainError("internal", "verifying version missing");
      const early = outgoing.retireAfter !== undefined && outgoing.retireAfter.getTime() > now.getTime();
      if (early && request.force !== true) {
        throw new DomainError(
          "wrong_state",
          `version ${outgoing.version} of cluster ${cluster.name}'s service-account key verifies until ${outgoing.retireAfter?.toISOString() ?? "?"}: tokens it signed may still be in use (the kubelet refreshes projected tokens within 24 h of the switch; Secret-based tokens must be recreated). Retire it then, or force it`,
        );
      }
      changed(await r.serviceAccountKeys.transition(cluster.id, outgoing.version, "verifying", { state: "retired", retiredAt: now }));
      // The retired key will never sign or verify again: its private half goes.
      await r.serviceAccountKeys.destroyPrivateKey(outgoing.keyMaterialId, now);
      await audit("cluster.service-account-key.retire", { version: outgoing.version, forced: early });
      return "retire";
    });
  }
}

function assertIdle(cluster: Cluster, set: ServiceAccountKeySet): void {
  if (set.step !== "idle") {
    throw new DomainError("conflict", `a rotation of cluster ${cluster.name}'s service-account key is in progress (step ${set.step}; next: ${set.nextStep}); finish it before starting another`);
  }
}

/** sa.pub as kube-apiserver reads `--service-account-key-file`: concatenated PKIX PEM blocks. */
function publicKeysPem(versions: readonly ServiceAccountKeyVersion[]): string {
  return versions.map((v) => x509.pemEncode("PUBLIC KEY", v.publicKeySpki)).join("");
}

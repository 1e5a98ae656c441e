import type { TokenService } from "../access/token-service.js";
import type { HierarchyService } from "../pki/hierarchy-service.js";
import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import type { RequestContext } from "../shared/request-context.js";
import type { SettingsRepository } from "../shared/settings.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";

/** Names of the CAs the service makes for itself on first start. */
export const ROOT_CA_NAME = "kpki-root";
export const INTERNAL_CA_NAME = "kpki-internal";

const CLAIM = "bootstrap.claimed_by";
const DONE = "bootstrap.completed_at";
/** How long after a claim other replicas wait for it to complete before taking over. */
const WAIT_MILLIS = 60_000;

export interface BootstrapOutcome {
  /** True when this process did the bootstrap (false: it had been done before, or by another replica). */
  readonly performed: boolean;
  /** The bootstrap admin token, when this process made a random one (print once, never store). */
  readonly adminToken?: string;
}

/**
 * First start on an empty database: the organisation root CA, the internal intermediate that
 * issues the service's own TLS and client certificates, and the bootstrap admin token. Safe when
 * several replicas start together: one claims the bootstrap, the others wait for it.
 */
export class BootstrapService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<{ readonly settings: SettingsRepository }>;
      readonly hierarchy: HierarchyService;
      readonly tokens: TokenService;
      readonly clock: Clock;
      readonly instanceId: string;
      readonly sleep: (millis: number) => Promise<void>;
      readonly rootCaTtlSeconds: number;
    },
  ) {}

  async ensureBootstrapped(context: RequestContext, presetAdminToken: string | undefined): Promise<BootstrapOutcome> {
    if (await this.isBootstrapped()) return { performed: false };
    const now = this.deps.clock.now();
    const claimed = await this.deps.uow
      .run((r) => r.settings.claim(CLAIM, `${this.deps.instanceId} ${now.toISOString()}`, now))
      .catch((error: unknown) => {
        if (error instanceof DomainError && error.code === "already_exists") return false;
        throw error;
      });
    if (!claimed && (await this.waitForOtherReplica())) return { performed: false };
    // Either we hold the claim, or its holder vanished mid-way (crashed): every step below is
    // skipped when already done, so finishing someone else's bootstrap is safe.
    if ((await this.findCa(ROOT_CA_NAME)) === undefined) {
      await this.deps.hierarchy.create(context, {
        name: ROOT_CA_NAME,
        type: "root",
        subject: { commonName: "kpki root CA", organization: ["kpki"] },
        keyAlgorithm: "ECDSA-P384",
        ttlSeconds: this.deps.rootCaTtlSeconds,
        internal: true,
      });
    }
    if ((await this.findCa(INTERNAL_CA_NAME)) === undefined) {
      await this.deps.hierarchy.create(context, {
        name: INTERNAL_CA_NAME,
        type: "intermediate",
        parent: ROOT_CA_NAME,
        subject: { commonName: "kpki internal CA", organization: ["kpki"] },
        keyAlgorithm: "ECDSA-P256",
        pathLength: 0,
        internal: true,
      });
    }
    const presetExists = presetAdminToken !== undefined && (await this.deps.tokens.exists(presetAdminToken));
    const created = presetExists ? undefined : await this.deps.tokens.createBootstrapToken(context, presetAdminToken);
    await this.deps.uow.run((r) => r.settings.set(DONE, this.deps.clock.now().toISOString(), this.deps.clock.now()));
    return { performed: true, ...(presetAdminToken === undefined && created !== undefined ? { adminToken: created.secret } : {}) };
  }

  /** Whether the first start has finished (root CA, internal CA and admin token exist). */
  async isBootstrapped(): Promise<boolean> {
    return (await this.deps.uow.read((r) => r.settings.get(DONE))) !== undefined;
  }

  private async findCa(name: string) {
    try {
      return await this.deps.hierarchy.get(name);
    } catch (error) {
      if (error instanceof DomainError && error.code === "not_found") return undefined;
      throw error;
    }
  }

  /** True once another replica finished; false if it did not finish in time (then we take over). */
  private async waitForOtherReplica(): Promise<boolean> {
    const claim = (await this.deps.uow.read((r) => r.settings.get(CLAIM))) ?? "";
    const claimedAt = Date.parse(claim.split(" ")[1] ?? "");
    const deadline = (Number.isNaN(claimedAt) ? this.deps.clock.now().getTime() : claimedAt) + WAIT_MILLIS;
    while (this.deps.clock.now().getTime() < deadline) {
      if (await this.isBootstrapped()) return true;
      await this.deps.sleep(250);
    }
    return false;
  }
}

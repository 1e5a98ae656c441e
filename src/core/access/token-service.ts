import { createHash, timingSafeEqual } from "node:crypto";
import type { AuditLog } from "../shared/audit.js";
import type { Clock } from "../shared/clock.js";
import { DomainError, invalidInput } from "../shared/domain-error.js";
import { newId, type TokenId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { ApiToken, TokenRepository } from "./api-token.js";
import type { RequestContext } from "../shared/request-context.js";
import type { Principal } from "./principal.js";
import { isRole, type Role } from "./roles.js";
import { validateScope } from "./scope.js";

/** The repositories token use cases touch. */
export interface AccessRepositories {
  readonly tokens: TokenRepository;
  readonly audit: AuditLog;
}

/** What a new token looks like to its creator: the secret appears here and nowhere else. */
export interface CreatedToken {
  readonly token: ApiToken;
  readonly secret: string;
}

export interface CreateTokenRequest {
  readonly name: string;
  readonly role: Role;
  /** Required for a scoped role, refused for an unscoped one (scope.ts validateScope). */
  readonly scope?: unknown;
  readonly ttlSeconds?: number;
}

/** Prefix of every token kpki makes, so secret scanners can recognise a leaked one. */
export const TOKEN_PREFIX = "kpki_";
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,63}$/;
/** How long a successful authentication is remembered before the store is asked again. */
const CACHE_MILLIS = 5_000;
/** lastUsedAt is written at most this often per token, to keep writes off the request path. */
const LAST_USED_RESOLUTION_MILLIS = 5 * 60_000;

/** Lower-case hex SHA-256 of a token: the only form in which tokens are stored. */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Issues, lists and revokes API tokens, and turns a presented bearer token into a Principal. */
export class TokenService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<AccessRepositories>;
      readonly clock: Clock;
      readonly random: RandomSource;
    },
  ) {}

  /** Creates a token; the returned secret is shown once and never stored. */
  async create(context: RequestContext, request: CreateTokenRequest): Promise<CreatedToken> {
    if (!TOKEN_NAME.test(request.name)) throw invalidInput("name", "1–64 characters: letters, digits, space and ._:@-");
    if (!isRole(request.role)) throw invalidInput("role", "not a kpki role");
    if (request.ttlSeconds !== undefined && (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 60)) {
      throw invalidInput("ttlSeconds", "must be an integer of at least 60");
    }
    const secret = this.newSecret();
    return this.store(context, request, secret);
  }

  /**
   * Stores the bootstrap admin token on first start: `presetSecret` (KPKI_BOOTSTRAP_TOKEN) or a new
   * random one. Returns the secret so the caller can print it once.
   */
  async createBootstrapToken(context: RequestContext, presetSecret?: string): Promise<CreatedToken> {
    return this.store(context, { name: "bootstrap-admin", role: "admin" }, presetSecret ?? this.newSecret());
  }

  /** Whether a token with exactly this secret exists (used to report a stale KPKI_BOOTSTRAP_TOKEN). */
  async exists(secret: string): Promise<boolean> {
    return (await this.deps.uow.read((r) => r.tokens.findByHash(hashToken(secret)))) !== undefined;
  }

  /** Removes tokens that expired more than `graceSeconds` ago (their hashes serve no purpose any more). */
  async purgeExpired(context: RequestContext, graceSeconds: number): Promise<number> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async (r) => {
      const count = await r.tokens.deleteExpiredBefore(new Date(now.getTime() - graceSeconds * 1000));
      if (count > 0) await r.audit.record({ actor: context.principal.id, action: "token.purge-expired", target: "tokens", result: "success", requestId: context.requestId, details: { count } }, now);
      return count;
    });
  }

  async list(): Promise<readonly ApiToken[]> {
    return this.deps.uow.read((r) => r.tokens.list());
  }

  async revoke(context: RequestContext, id: TokenId): Promise<ApiToken> {
    const now = this.deps.clock.now();
    const revoked = await this.deps.uow.run(async (r) => {
      const token = await r.tokens.findById(id);
      if (token === undefined) throw new DomainError("not_found", `token ${id} does not exist`);
      if (token.revokedAt !== undefined) return token;
      await r.tokens.markRevoked(id, now);
      await r.audit.record(
        { actor: context.principal.id, action: "token.revoke", target: `token:${id}`, result: "success", requestId: context.requestId, details: { name: token.name } },
        now,
      );
      return { ...token, revokedAt: now };
    });
    this.cache.clear();
    return revoked;
  }

  /**
   * Resolves a presented bearer token. Unknown, revoked and expired tokens are all refused with
   * the same message, so a caller learns nothing about which tokens exist.
   */
  async authenticate(secret: string): Promise<Principal> {
    const tokenHash = hashToken(secret);
    const nowMillis = this.deps.clock.now().getTime();
    const cached = this.cache.get(tokenHash);
    if (cached !== undefined && cached.until > nowMillis) return cached.principal;
    const token = await this.deps.uow.read((r) => r.tokens.findByHash(tokenHash));
    // The lookup is by hash; compare again in constant time so that no code path depends on a
    // short-circuiting string comparison of secret-derived values.
    const valid =
      token !== undefined &&
      timingSafeEqual(Buffer.from(token.tokenHash, "hex"), Buffer.from(tokenHash, "hex")) &&
      token.revokedAt === undefined &&
      (token.expiresAt === undefined || token.expiresAt.getTime() > nowMillis);
    if (!valid) {
      this.cache.delete(tokenHash);
      throw new DomainError("unauthenticated", "invalid, expired or revoked token");
    }
    const principal: Principal = { id: `token:${token.id}`, kind: "token", role: token.role, ...(token.scope === undefined ? {} : { scope: token.scope }), displayName: token.name };
    const until = Math.min(nowMillis + CACHE_MILLIS, token.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
    this.cache.set(tokenHash, { principal, until });
    if (this.cache.size > 10_000) this.cache.clear();
    if (token.lastUsedAt === undefined || nowMillis - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MILLIS) {
      await this.deps.uow.run((r) => r.tokens.markUsed(token.id, new Date(nowMillis)));
    }
    return principal;
  }

  private newSecret(): string {
    return TOKEN_PREFIX + Buffer.from(this.deps.random.bytes(32)).toString("base64url");
  }

  private async store(context: RequestContext, request: CreateTokenRequest, secret: string): Promise<CreatedToken> {
    const now = this.deps.clock.now();
    const scope = validateScope(request.role, request.scope);
    const token: ApiToken = {
      id: newId<TokenId>(now, this.deps.random),
      name: request.name,
      tokenHash: hashToken(secret),
      role: request.role,
      ...(scope === undefined ? {} : { scope }),
      createdBy: context.principal.id,
      createdAt: now,
      expiresAt: request.ttlSeconds === undefined ? undefined : new Date(now.getTime() + request.ttlSeconds * 1000),
    };
    await this.deps.uow.run(async (r) => {
      if ((await r.tokens.findByHash(token.tokenHash)) !== undefined) {
        throw new DomainError("already_exists", "a token with this secret already exists");
      }
      await r.tokens.create(token);
      await r.audit.record(
        { actor: context.principal.id, action: "token.create", target: `token:${token.id}`, result: "success", requestId: context.requestId, details: { name: token.name, role: token.role, ...(scope === undefined ? {} : { scope: JSON.stringify(scope) }) } },
        now,
      );
    });
    return { token, secret };
  }
}

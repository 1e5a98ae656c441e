import type { TokenId } from "../shared/ids.js";
import type { Role } from "./roles.js";
import type { Scope } from "./scope.js";

/** A stored API token: everything but the token itself, of which only a SHA-256 is kept. */
export interface ApiToken {
  readonly id: TokenId;
  readonly name: string;
  /** Lower-case hex SHA-256 of the full token string. */
  readonly tokenHash: string;
  readonly role: Role;
  /** What a scoped role covers (validated when the token was created); absent for unscoped roles. */
  readonly scope?: Scope;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt?: Date;
  readonly revokedAt?: Date;
  readonly lastUsedAt?: Date;
}

/** Storage of API tokens. */
export interface TokenRepository {
  create(token: ApiToken): Promise<void>;
  findByHash(tokenHash: string): Promise<ApiToken | undefined>;
  findById(id: TokenId): Promise<ApiToken | undefined>;
  list(): Promise<readonly ApiToken[]>;
  markRevoked(id: TokenId, at: Date): Promise<void>;
  markUsed(id: TokenId, at: Date): Promise<void>;
  /** Deletes tokens that expired before `cutoff`; returns how many. */
  deleteExpiredBefore(cutoff: Date): Promise<number>;
}

import type { ApiToken, Role, Scope, TokenRepository } from "../../core/access/index.js";
import type { TokenId } from "../../core/shared/ids.js";
import type { ApiToken as TokenRow } from "./generated/sqlite/client.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

/**
 * The stored scope: its JSON, `{}` for none (the column predates scopes). Validated when the token
 * was created; a scoped role whose stored scope lacks a field is refused by authorize anyway.
 */
function scopeOf(text: string): Scope | undefined {
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) return undefined;
  return parsed;
}

function toDomain(row: TokenRow): ApiToken {
  const scope = scopeOf(row.scope);
  return {
    id: row.id as TokenId,
    name: row.name,
    tokenHash: row.tokenHash,
    role: row.role as Role,
    ...(scope === undefined ? {} : { scope }),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt }),
    ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt }),
    ...(row.lastUsedAt === null ? {} : { lastUsedAt: row.lastUsedAt }),
  };
}

/** API tokens in `api_tokens` (hashes only). */
export class PrismaTokenRepository implements TokenRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async create(token: ApiToken): Promise<void> {
    await uniquely(
      () =>
        this.db.apiToken.create({
          data: {
            id: token.id,
            name: token.name,
            tokenHash: token.tokenHash,
            role: token.role,
            scope: JSON.stringify(token.scope ?? {}),
            createdBy: token.createdBy,
            createdAt: token.createdAt,
            expiresAt: token.expiresAt ?? null,
          },
        }),
      "a token with this secret already exists",
    );
  }

  async findByHash(tokenHash: string): Promise<ApiToken | undefined> {
    const row = await this.db.apiToken.findUnique({ where: { tokenHash } });
    return row === null ? undefined : toDomain(row);
  }

  async findById(id: TokenId): Promise<ApiToken | undefined> {
    const row = await this.db.apiToken.findUnique({ where: { id } });
    return row === null ? undefined : toDomain(row);
  }

  async list(): Promise<readonly ApiToken[]> {
    return (await this.db.apiToken.findMany({ orderBy: { id: "asc" } })).map(toDomain);
  }

  async markRevoked(id: TokenId, at: Date): Promise<void> {
    await this.db.apiToken.update({ where: { id }, data: { revokedAt: at } });
  }

  async deleteExpiredBefore(cutoff: Date): Promise<number> {
    return (await this.db.apiToken.deleteMany({ where: { expiresAt: { lt: cutoff } } })).count;
  }

  async markUsed(id: TokenId, at: Date): Promise<void> {
    await this.db.apiToken.update({ where: { id }, data: { lastUsedAt: at } });
  }
}

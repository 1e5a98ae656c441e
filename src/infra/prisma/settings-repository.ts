import type { SettingsRepository } from "../../core/shared/settings.js";
import type { DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

/** Installation facts in `kpki_meta`. */
export class PrismaSettingsRepository implements SettingsRepository {
  constructor(private readonly db: DatabaseTransaction) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.db.meta.findUnique({ where: { key } }))?.value;
  }

  async set(key: string, value: string, at: Date): Promise<void> {
    await this.db.meta.upsert({ where: { key }, create: { key, value, updatedAt: at }, update: { value, updatedAt: at } });
  }

  async claim(key: string, value: string, at: Date): Promise<boolean> {
    if ((await this.db.meta.findUnique({ where: { key } })) !== null) return false;
    // A concurrent claimer that passed the check too fails here with already_exists, which aborts
    // its transaction (as PostgreSQL requires after an error) instead of being swallowed.
    await uniquely(() => this.db.meta.create({ data: { key, value, updatedAt: at } }), `${key} was claimed concurrently`);
    return true;
  }
}

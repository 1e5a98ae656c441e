import type { DatabaseTarget } from "../prisma/database-url.js";
import type { BackupSession } from "./backup-session.js";
import { openPostgresqlSession } from "./postgresql-backup-session.js";
import { openSqliteSession } from "./sqlite-backup-session.js";

/** Opens a backup or restore session on the target's provider. */
export function openBackupSession(target: DatabaseTarget): Promise<BackupSession> {
  return target.provider === "sqlite" ? openSqliteSession(target.filename) : openPostgresqlSession(target.url);
}

import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { DomainError } from "../../core/shared/domain-error.js";
import { MASTER_KEY_CHECK_SETTING } from "../crypto/master-key-check.js";
import type { MasterKey } from "../crypto/master-key.js";
import type { DatabaseTarget } from "../prisma/database-url.js";
import { Migrator, migrationNames } from "../prisma/migrator.js";
import { CONTENT_FORMAT, contentLines, type BackupHeader, type TableSummary } from "./backup-content.js";
import { META_TABLE } from "./backup.js";
import type { BackupSession } from "./backup-session.js";
import { openBackupSession } from "./open-backup-session.js";
import { UnsupportedColumnError, checkPortable, foreignKeyOrder, type CatalogTable, type PortableValue } from "./catalog.js";
import { BackupIntegrityError, openSealed } from "./sealed-stream.js";

export interface RestoreOptions {
  readonly target: DatabaseTarget;
  readonly masterKey: MasterKey;
  readonly inFile: string;
  /** Replace existing data (wiped in the same transaction as the restore). */
  readonly force: boolean;
  readonly progress: (line: string) => void;
}

export interface RestoreResult {
  readonly header: BackupHeader;
  readonly rows: number;
}

/** Rows inserted per statement batch while streaming a table. */
const BATCH_ROWS = 500;

/**
 * Restores a backup into the target database: checks the file's key and migration head before
 * touching anything, migrates the target to the backup's head, then in ONE transaction refuses a
 * non-empty database (unless `force`: it wipes it), inserts every table in foreign-key order while
 * checking each segment's GCM tag and each table's row count and SHA-256, moves the counters past
 * the restored ids, and commits; an older backup's data is then migrated to this build's head. Any
 * failure of the restore rolls it all back.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { target, masterKey, progress } = options;
  if (!existsSync(options.inFile)) throw new DomainError("not_found", `${options.inFile} does not exist`);
  const stream = createReadStream(options.inFile);
  try {
    return await restoreFrom(stream, options);
  } catch (error) {
    if (error instanceof BackupIntegrityError) throw new DomainError("invalid_input", `restore refused: ${error.message}; nothing was changed`, {}, { cause: error });
    if (error instanceof UnsupportedColumnError) throw new DomainError("unsupported", `restore refused: ${error.message}; nothing was changed`, {}, { cause: error });
    throw error;
  } finally {
    stream.destroy();
  }

  async function restoreFrom(source: AsyncIterable<Buffer>, { inFile, force }: RestoreOptions): Promise<RestoreResult> {
    const sealed = await openSealed(source);
    if (sealed.preamble.masterKeyId !== masterKey.id) {
      throw new DomainError(
        "permission_denied",
        `${inFile} is sealed under master key ${sealed.preamble.masterKeyId}, but the configured master key is ${masterKey.id}: configure that key (after a master-key rotation it is the file master.key.retired-${sealed.preamble.masterKeyId}); nothing was changed`,
      );
    }
    const lines = contentLines(sealed.segments(masterKey))[Symbol.asyncIterator]();
    const next = async (): Promise<unknown> => {
      const line = await lines.next();
      if (line.done === true) throw new BackupIntegrityError("the backup content ends early");
      try {
        return JSON.parse(line.value);
      } catch {
        throw new BackupIntegrityError("a backup line is not JSON");
      }
    };
    const header = parseHeader(await next(), masterKey.id);
    const buildMigrations = migrationNames(target.provider);
    checkMigrations(header, buildMigrations);
    const buildHead = buildMigrations.at(-1);
    progress(`restoring a backup of ${header.createdAt} (kpki ${header.kpkiVersion}, ${header.provider}, migration ${header.migrationHead}) into ${target.provider}`);

    // The target is brought to the backup's migration head, where its tables are the backup's; an
    // older backup's data is migrated to this build's head after the restore commits.
    if (target.provider === "sqlite") mkdirSync(path.dirname(target.filename), { recursive: true, mode: 0o700 });
    await withMigrator(target, progress, async (migrator) => {
      const targetHead = (await migrator.status()).filter((entry) => entry.applied).at(-1)?.name;
      if (targetHead !== undefined && targetHead > header.migrationHead) {
        throw new DomainError(
          "conflict",
          `the backup is at migration ${header.migrationHead}, older than this database's ${targetHead}: restore it into a new, empty database (it is migrated to ${buildHead ?? "?"} afterwards); nothing was changed`,
        );
      }
      await migrator.migrate({ upTo: header.migrationHead });
    });

    const session = await openBackupSession(target);
    let total = 0;
    try {
      await session.beginWrite();
      const tables = foreignKeyOrder(await session.catalog());
      checkTables(header, tables);
      await refuseExistingData(session, tables, force);
      await session.deleteAll(tables);
      const byName = new Map(tables.map((table) => [table.name, table]));
      for (const summary of header.tables) {
        const start = await next();
        if (!isObject(start) || start.kind !== "table" || start.name !== summary.name) throw new BackupIntegrityError(`expected the rows of ${summary.name}`);
        const table = byName.get(summary.name);
        if (table === undefined) throw new BackupIntegrityError(`unknown table ${summary.name}`);
        const rows = await restoreTable(session, table, summary, lines);
        total += rows;
        progress(`  ${table.name}: ${rows} rows`);
      }
      const trailer = await next();
      if (!isObject(trailer) || trailer.kind !== "trailer") throw new BackupIntegrityError("the backup has no trailer");
      if (!(await lines.next()).done) throw new BackupIntegrityError("content after the trailer");
      await session.resetCounters(tables);
      await session.checkForeignKeys();
      await session.commit();
    } catch (error) {
      await session.rollback();
      throw error;
    } finally {
      await session.close();
    }
    if (header.migrationHead !== buildHead) {
      progress(`migrating the restored data from ${header.migrationHead} to ${buildHead ?? "?"}`);
      await withMigrator(target, progress, (migrator) => migrator.migrate());
    }
    return { header, rows: total };
  }
}

async function withMigrator<T>(target: DatabaseTarget, progress: (line: string) => void, fn: (migrator: Migrator) => Promise<T>): Promise<T> {
  const migrator = new Migrator({ database: target, log: progress });
  try {
    return await fn(migrator);
  } finally {
    await migrator.close();
  }
}

/** Streams one table's rows into the database, checking them against its end line and the header. */
async function restoreTable(session: BackupSession, table: CatalogTable, summary: TableSummary, lines: AsyncIterator<string>): Promise<number> {
  // Row lines are hashed exactly as written, so they are read here one by one.
  const hash = createHash("sha256");
  let batch: PortableValue[][] = [];
  let rows = 0;
  for (;;) {
    const line = await lines.next();
    if (line.done === true) throw new BackupIntegrityError(`the rows of ${table.name} end early`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.value);
    } catch {
      throw new BackupIntegrityError(`a row of ${table.name} is not JSON`);
    }
    if (!Array.isArray(parsed)) {
      if (!isObject(parsed) || parsed.kind !== "end" || parsed.name !== table.name) throw new BackupIntegrityError(`the rows of ${table.name} are not closed`);
      await session.insert(table, batch);
      const sha256 = hash.digest("hex");
      if (parsed.rows !== rows || parsed.sha256 !== sha256 || summary.rows !== rows) {
        throw new BackupIntegrityError(`${table.name}: ${rows} rows with SHA-256 ${sha256}, but the backup records ${String(parsed.rows)} rows with ${String(parsed.sha256)}`);
      }
      return rows;
    }
    if (parsed.length !== table.columns.length) throw new BackupIntegrityError(`a row of ${table.name} has ${parsed.length} values for ${table.columns.length} columns`);
    const row = parsed as PortableValue[];
    table.columns.forEach((column, i) => checkPortable(column.type, row[i] ?? null, `${table.name}.${column.name}`));
    hash.update(line.value);
    rows += 1;
    batch.push(row);
    if (batch.length >= BATCH_ROWS) {
      await session.insert(table, batch);
      batch = [];
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseHeader(value: unknown, masterKeyId: string): BackupHeader {
  if (!isObject(value) || value.kind !== "header") throw new BackupIntegrityError("the backup does not start with a header");
  if (value.format !== CONTENT_FORMAT) throw new UnsupportedColumnError(`content format ${String(value.format)} is not one this kpki reads (${CONTENT_FORMAT})`);
  const { migrations, tables } = value;
  if (!Array.isArray(migrations) || !migrations.every((name) => typeof name === "string") || !Array.isArray(tables) || value.masterKeyId !== masterKeyId) {
    throw new BackupIntegrityError("the backup header is malformed");
  }
  for (const table of tables) {
    if (!isObject(table) || typeof table.name !== "string" || typeof table.rows !== "number" || !Array.isArray(table.columns)) throw new BackupIntegrityError("the backup header is malformed");
  }
  return value as unknown as BackupHeader;
}

/**
 * A backup from a newer kpki has tables this build does not know: refused. One from an older kpki
 * (its migrations a prefix of this build's) is restored at its head and migrated afterwards.
 */
function checkMigrations(header: BackupHeader, buildMigrations: readonly string[]): void {
  const unknown = header.migrations.filter((name) => !buildMigrations.includes(name));
  if (unknown.length > 0) {
    throw new UnsupportedColumnError(`the backup was made by a newer kpki (${header.kpkiVersion}): migration ${unknown.join(", ")} is not known to this build; restore it with that version or later`);
  }
  if (header.migrations.some((name, i) => buildMigrations[i] !== name) || header.migrations.at(-1) !== header.migrationHead) {
    throw new BackupIntegrityError(`the backup's migrations (${header.migrations.join(", ")}) are not a beginning of this build's`);
  }
}

/** The backup's tables and columns must be exactly the target's (same migration head, so they are unless something is off). */
function checkTables(header: BackupHeader, tables: readonly CatalogTable[]): void {
  const describe = (name: string, columns: readonly { name: string; type: string }[]) => `${name}(${columns.map((column) => `${column.name} ${column.type}`).join(", ")})`;
  const theirs = header.tables.map((table) => describe(table.name, table.columns)).sort();
  const ours = tables.map((table) => describe(table.name, table.columns)).sort();
  const missing = ours.filter((entry) => !theirs.includes(entry));
  const extra = theirs.filter((entry) => !ours.includes(entry));
  if (missing.length > 0 || extra.length > 0) {
    throw new UnsupportedColumnError(`the backup's tables do not match this database's: ${[...extra.map((entry) => `backup has ${entry}`), ...missing.map((entry) => `database has ${entry}`)].join("; ")}`);
  }
}

/**
 * A database counts as empty when no table has rows, apart from the master-key check value that a
 * first open records (the restore replaces it with the backup's).
 */
async function refuseExistingData(session: BackupSession, tables: readonly CatalogTable[], force: boolean): Promise<void> {
  const occupied: string[] = [];
  for (const table of tables) {
    let count = await session.count(table);
    if (table.name === META_TABLE && count === 1) {
      const keyIndex = table.columns.findIndex((column) => column.name === "key");
      for await (const row of session.rows(table)) if (row[keyIndex] === MASTER_KEY_CHECK_SETTING) count = 0;
    }
    if (count > 0) occupied.push(`${table.name} ${count}`);
  }
  if (occupied.length > 0 && !force) {
    throw new DomainError("conflict", `the database is not empty (rows: ${occupied.join(", ")}): restore does not overwrite data; --force wipes it first, in the same transaction; nothing was changed`);
  }
}

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { DomainError } from "../../core/shared/domain-error.js";
import { MASTER_KEY_CHECK_SETTING, masterKeyCheckId, masterKeyOpensCheck } from "../crypto/master-key-check.js";
import type { MasterKey } from "../crypto/master-key.js";
import type { DatabaseTarget } from "../prisma/database-url.js";
import { CONTENT_FORMAT, contentLine, type BackupHeader, type Trailer } from "./backup-content.js";
import type { BackupSession } from "./backup-session.js";
import { openBackupSession } from "./open-backup-session.js";
import { UnsupportedColumnError, foreignKeyOrder, orderSelfReferences, type CatalogTable, type PortableValue } from "./catalog.js";
import { SealedWriter } from "./sealed-stream.js";

/** The table of small installation facts, among them the master-key check value (prisma/schema.prisma `Meta`). */
export const META_TABLE = "kpki_meta";

export interface BackupOptions {
  readonly target: DatabaseTarget;
  readonly masterKey: MasterKey;
  readonly outFile: string;
  readonly kpkiVersion: string;
  readonly clock?: () => Date;
  readonly progress: (line: string) => void;
}

export interface BackupResult {
  readonly file: string;
  readonly header: BackupHeader;
}

/**
 * Writes a sealed backup of every table of the database, read in one snapshot, to `outFile`
 * (written as `<outFile>.partial` with mode 0600, renamed when complete). Changes nothing in the database.
 */
export async function writeBackup(options: BackupOptions): Promise<BackupResult> {
  const { outFile, masterKey, progress } = options;
  if (existsSync(outFile)) throw new DomainError("already_exists", `${outFile} exists: kpki backup does not overwrite a file; choose another name`);
  const partial = `${outFile}.partial`;
  const session = await openBackupSession(options.target);
  let file: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await session.beginSnapshot();
    const tables = foreignKeyOrder(await session.catalog());
    await assertKeyOpensData(session, tables, masterKey);
    const migrations = await session.appliedMigrations();
    const migrationHead = migrations.at(-1);
    if (migrationHead === undefined) throw new DomainError("invalid_input", "the database has no applied migrations: there is nothing to back up");
    const counts = new Map<string, number>();
    for (const table of tables) counts.set(table.name, await session.count(table));
    const header: BackupHeader = {
      kind: "header",
      format: CONTENT_FORMAT,
      kpkiVersion: options.kpkiVersion,
      provider: options.target.provider,
      createdAt: (options.clock ?? (() => new Date()))().toISOString(),
      masterKeyId: masterKey.id,
      migrations,
      migrationHead,
      tables: tables.map((table) => ({ name: table.name, columns: table.columns.map(({ name, type }) => ({ name, type })), rows: counts.get(table.name) ?? 0 })),
    };
    // Created afresh so the mode is 0600 whatever a crashed earlier run left behind.
    await rm(partial, { force: true });
    file = await open(partial, "wx", 0o600);
    const handle = file;
    const writer = await SealedWriter.open(masterKey, async (chunk) => {
      await handle.write(chunk);
    });
    await writer.write(contentLine(header));
    const summaries: Trailer["tables"][number][] = [];
    for (const table of tables) {
      await writer.write(contentLine({ kind: "table", name: table.name }));
      const hash = createHash("sha256");
      let rows = 0;
      const emit = async (row: PortableValue[]) => {
        const line = contentLine(row);
        hash.update(line);
        rows += 1;
        await writer.write(line);
      };
      if (table.foreignKeys.some((reference) => reference.table === table.name)) {
        // A table that references itself is small (CAs): its rows are ordered parent-first in memory.
        const all: PortableValue[][] = [];
        for await (const row of session.rows(table)) all.push(row);
        for (const row of orderSelfReferences(table, all)) await emit(row);
      } else {
        for await (const row of session.rows(table)) await emit(row);
      }
      if (rows !== counts.get(table.name)) throw new UnsupportedColumnError(`${table.name}: read ${rows} rows but counted ${counts.get(table.name) ?? 0} in the same snapshot`);
      const sha256 = hash.digest("hex");
      await writer.write(contentLine({ kind: "end", name: table.name, rows, sha256 }));
      summaries.push({ name: table.name, rows, sha256 });
      progress(`  ${table.name}: ${rows} rows`);
    }
    await writer.write(contentLine({ kind: "trailer", tables: summaries }));
    await writer.finish();
    await file.sync();
    await file.close();
    file = undefined;
    await session.commit();
    await rename(partial, outFile);
    return { file: outFile, header };
  } catch (error) {
    await session.rollback();
    await file?.close();
    await rm(partial, { force: true });
    if (error instanceof UnsupportedColumnError) throw new DomainError("unsupported", `backup refused: ${error.message}`, {}, { cause: error });
    throw error;
  } finally {
    await session.close();
  }
}

/** The backup is sealed under the configured key: it must be the key the data's keys are sealed under. */
async function assertKeyOpensData(session: BackupSession, tables: readonly CatalogTable[], masterKey: MasterKey): Promise<void> {
  const meta = tables.find((table) => table.name === META_TABLE);
  if (meta === undefined) throw new UnsupportedColumnError(`the database has no ${META_TABLE} table`);
  const keyIndex = meta.columns.findIndex((column) => column.name === "key");
  const valueIndex = meta.columns.findIndex((column) => column.name === "value");
  for await (const row of session.rows(meta)) {
    const value = row[valueIndex];
    if (row[keyIndex] === MASTER_KEY_CHECK_SETTING && typeof value === "string" && !masterKeyOpensCheck(masterKey, value)) {
      throw new DomainError(
        "permission_denied",
        `the configured master key ${masterKey.id} does not open this database (its keys are sealed under ${masterKeyCheckId(value) ?? "?"}): configure that key to back it up`,
      );
    }
  }
}

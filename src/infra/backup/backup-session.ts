import type { CatalogTable, PortableValue } from "./catalog.js";

/**
 * One connection to the database for a backup or a restore, through the raw driver: it controls the
 * transaction exactly (a read snapshot, or one write transaction) and converts between the driver's
 * values and the portable ones of the file.
 */
export interface BackupSession {
  /** Starts a read-only snapshot: every later read sees the database as of this moment. */
  beginSnapshot(): Promise<void>;
  /** Starts the one write transaction of a restore. */
  beginWrite(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Every table but the migrator's own (recorded in the header, not copied: the target has its own), with columns, primary key and foreign keys. */
  catalog(): Promise<CatalogTable[]>;
  /** Names of the applied migrations, in order. */
  appliedMigrations(): Promise<string[]>;
  count(table: CatalogTable): Promise<number>;
  /** The rows in primary-key order, as portable values in the table's column order. */
  rows(table: CatalogTable): AsyncIterable<PortableValue[]>;
  insert(table: CatalogTable, rows: readonly (readonly PortableValue[])[]): Promise<void>;
  /** Removes every row of these tables (given in foreign-key order). */
  deleteAll(tables: readonly CatalogTable[]): Promise<void>;
  /** Makes counters (AUTOINCREMENT, SERIAL) continue after the highest restored value. */
  resetCounters(tables: readonly CatalogTable[]): Promise<void>;
  /** Refuses to commit rows that break a foreign key (where the database defers the check). */
  checkForeignKeys(): Promise<void>;
  close(): Promise<void>;
}

// What a backup covers comes from the database's own catalog (the tables the migrations created),
// not from a list written here: a table added by a future migration is backed up without a change to
// this code, and a column of a type this code cannot carry between SQLite and PostgreSQL stops the
// backup instead of being skipped.

/** The column types of the Prisma schema, as both providers store them (prisma/migrations/*). */
export type ColumnType = "text" | "int" | "bigint" | "bool" | "datetime" | "bytes";

/**
 * A value as the backup carries it, the same whichever database it came from: text and numbers as
 * JSON, BigInt as a decimal string, DateTime as ISO 8601 UTC with milliseconds, Bytes as base64.
 */
export type PortableValue = string | number | boolean | null;

export interface CatalogColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** Filled from a counter (SQLite AUTOINCREMENT, PostgreSQL SERIAL): the counter must continue after restore. */
  readonly serial: boolean;
}

export interface ForeignKey {
  readonly columns: readonly string[];
  readonly table: string;
  readonly referencedColumns: readonly string[];
}

export interface CatalogTable {
  readonly name: string;
  readonly columns: readonly CatalogColumn[];
  readonly primaryKey: readonly string[];
  readonly foreignKeys: readonly ForeignKey[];
}

/** A column type the backup cannot carry faithfully: refuse rather than lose data. */
export class UnsupportedColumnError extends Error {
  override readonly name = "UnsupportedColumnError";
}

/**
 * Orders tables so every table comes after the tables it references (foreign keys), alphabetically
 * among equals: inserting in this order never points at a missing row, deleting in reverse never
 * leaves a dangling one. A reference to itself (a CA's parent) is handled row by row (orderSelfReferences).
 */
export function foreignKeyOrder(tables: readonly CatalogTable[]): CatalogTable[] {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const ordered: CatalogTable[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: CatalogTable, path: readonly string[]) => {
    const seen = state.get(table.name);
    if (seen === "done") return;
    if (seen === "visiting") throw new UnsupportedColumnError(`foreign keys form a cycle (${[...path, table.name].join(" → ")}): no insertion order exists`);
    state.set(table.name, "visiting");
    for (const reference of table.foreignKeys) {
      const target = byName.get(reference.table);
      if (target === undefined) throw new UnsupportedColumnError(`${table.name} references ${reference.table}, which is not in the database`);
      if (target.name !== table.name) visit(target, [...path, table.name]);
    }
    state.set(table.name, "done");
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(table, []);
  return ordered;
}

/**
 * Sorts rows of a table that references itself so a referenced row comes first (a parent CA before
 * its children); otherwise keeps their order.
 */
export function orderSelfReferences(table: CatalogTable, rows: readonly PortableValue[][]): PortableValue[][] {
  const self = table.foreignKeys.filter((reference) => reference.table === table.name);
  if (self.length === 0) return [...rows];
  const index = (column: string) => table.columns.findIndex((candidate) => candidate.name === column);
  const keyOf = (row: readonly PortableValue[], columns: readonly string[]) => JSON.stringify(columns.map((column) => row[index(column)]));
  const byKey = new Map<string, PortableValue[][]>();
  for (const reference of self) {
    for (const row of rows) {
      const key = `${reference.referencedColumns.join(",")}:${keyOf(row, reference.referencedColumns)}`;
      byKey.set(key, [...(byKey.get(key) ?? []), row]);
    }
  }
  const placed = new Set<PortableValue[]>();
  const out: PortableValue[][] = [];
  const place = (row: PortableValue[], depth: number) => {
    if (placed.has(row)) return;
    if (depth > rows.length) throw new UnsupportedColumnError(`rows of ${table.name} reference each other in a cycle`);
    for (const reference of self) {
      const values = reference.columns.map((column) => row[index(column)]);
      if (values.some((value) => value === null)) continue;
      for (const parent of byKey.get(`${reference.referencedColumns.join(",")}:${JSON.stringify(values)}`) ?? []) if (parent !== row) place(parent, depth + 1);
    }
    placed.add(row);
    out.push(row);
  };
  for (const row of rows) place(row, 0);
  return out;
}

/** ISO 8601 UTC with milliseconds, from a driver's DateTime text (or epoch milliseconds). */
export function portableDateTime(value: string | number | bigint | Date, where: string): string {
  const date = value instanceof Date ? value : typeof value === "string" ? new Date(/(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value.replace(" ", "T")}Z`) : new Date(Number(value));
  if (Number.isNaN(date.getTime())) throw new UnsupportedColumnError(`${where}: ${String(value)} is not a date and time`);
  return date.toISOString();
}

/** Checks that a value read from the file has the JSON shape its column type expects. */
export function checkPortable(type: ColumnType, value: PortableValue, where: string): void {
  if (value === null) return;
  const ok =
    type === "int"
      ? typeof value === "number" && Number.isSafeInteger(value)
      : type === "bool"
        ? typeof value === "boolean"
        : type === "bigint"
          ? typeof value === "string" && /^-?\d+$/.test(value)
          : type === "datetime"
            ? typeof value === "string" && !Number.isNaN(Date.parse(value))
            : typeof value === "string";
  if (!ok) throw new UnsupportedColumnError(`${where}: ${JSON.stringify(value)} is not a ${type}`);
}

/** Double-quoted SQL identifier (both dialects). Names come from the catalog, never from the file alone. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

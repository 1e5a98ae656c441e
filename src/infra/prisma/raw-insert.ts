/**
 * Rows per raw multi-row INSERT. Bind parameters are limited (SQLite 32,766, PostgreSQL 65,535);
 * 500 rows of the widest table we insert this way (certificates, 18 columns) is 9,000.
 */
export const MAX_ROWS_PER_INSERT = 500;

/** `items` in consecutive slices of at most `size`, in order. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { CliError, EXIT } from "./exit-codes.js";

/** Where the CLI writes: injectable so tests capture output. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Reads a file named on the command line, or fails with a usage error naming it. */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new CliError(`cannot read ${what} file ${path}`, EXIT.usage);
  }
}

/**
 * Writes an output file. Private keys get mode 0600. Existing files are kept unless `force`:
 * overwriting a key by accident is the kind of mistake a PKI tool must not make.
 */
export function writeOutputFile(path: string, content: string, options: { secret?: boolean; force?: boolean } = {}): void {
  if (!options.force && existsSync(path)) throw new CliError(`${path} exists; refusing to overwrite it (use --force)`, EXIT.conflict);
  writeFileSync(path, content, { mode: options.secret ? 0o600 : 0o644 });
}

/** "90d", "12h", "30m", "45s" or plain seconds → seconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (match === null) throw new CliError(`${option}: expected a duration like 90d, 12h, 30m or seconds, got ${text}`, EXIT.usage);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] ?? ""] ?? 1;
  return Number(match[1]) * unit;
}

/** Left-aligned columns for listings. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")).join("\n") + "\n";
}

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
 * Refuses, before any request is sent, when an output file exists and `force` is not set:
 * overwriting a key by accident is the kind of mistake a PKI tool must not make, and checking only
 * after the server issued would throw away a certificate (and a key that is returned only once).
 */
export function assertWritable(paths: readonly string[], force: boolean): void {
  if (force) return;
  const existing = paths.find((path) => existsSync(path));
  if (existing !== undefined) throw new CliError(`${existing} exists; refusing to overwrite it (use --force)`, EXIT.conflict);
}

/**
 * Writes an output file atomically (temporary file, then rename), never leaving a half-written
 * file. Private keys get mode 0600. Existing files are kept unless `force`. Text is written as
 * UTF-8, bytes as they are.
 */
export function writeOutputFile(path: string, content: string | Uint8Array, options: { secret?: boolean; force?: boolean } = {}): void {
  assertWritable([path], options.force === true);
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, content, { mode: options.secret ? 0o600 : 0o644, flag: "wx" });
  try {
    if (!options.force && existsSync(path)) throw new CliError(`${path} exists; refusing to overwrite it (use --force)`, EXIT.conflict);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
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

import { readFileSync } from "node:fs";
import { writeOutputFile, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";

// Binary data of the `kpki key` commands: read from a file or stdin, sent as base64, written back
// as raw bytes to a file or as base64 on stdout (a terminal is no place for raw bytes).

/** The bytes of `path`, or of stdin when `path` is absent or `-`. */
export function readData(path: string | undefined, what: string): Buffer {
  try {
    return path === undefined || path === "-" ? readFileSync(0) : readFileSync(path);
  } catch {
    throw new CliError(`cannot read ${what} from ${path === undefined || path === "-" ? "stdin" : path}`, EXIT.usage);
  }
}

/** Like `readData` for an optional file: undefined when no file is named. */
export function readOptionalData(path: string | undefined, what: string): Buffer | undefined {
  return path === undefined ? undefined : readData(path, what);
}

/** Base64 of bytes, as the API takes them. */
export const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/**
 * Writes base64 data from the API: decoded to `out` (mode 0600 when secret; an existing file is kept
 * unless `force`), or as base64 on stdout.
 */
export function writeData(io: CliOutput, data: string, options: { out?: string; secret?: boolean; force?: boolean }): void {
  if (options.out === undefined) {
    io.out(`${data}\n`);
    return;
  }
  writeOutputFile(options.out, Buffer.from(data, "base64"), { secret: options.secret === true, force: options.force === true });
}

/** `x-name=value` options as a custom attribute map. */
export function customAttributes(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const equals = pair.indexOf("=");
      if (equals < 1) throw new CliError(`--attribute: expected x-name=value, got ${pair}`, EXIT.usage);
      return [pair.slice(0, equals), pair.slice(equals + 1)];
    }),
  );
}

/** A comma-separated list option (`Encrypt,Decrypt`). */
export function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/** Repeatable option collector. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

import { readFileSync } from "node:fs";
import { isDomainError } from "../../../core/shared/domain-error.js";
import { CliError, EXIT } from "../exit-codes.js";

// Turning what goes wrong with a file of the kubeadm tree into one precise line naming the file.

/** A usage error (exit 2) about `file`: "<file>: <reason>". */
export function fileProblem(file: string, reason: string): CliError {
  return new CliError(`${file}: ${reason}`, EXIT.usage);
}

/** The reason in a thrown error, without the core's "<field>: " prefix (the file name replaces it). */
export function reasonOf(error: unknown): string {
  if (isDomainError(error)) {
    const field = error.detail.field;
    return field !== undefined && error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The file's text, or undefined when it does not exist; any other failure (a directory, no permission) is reported. */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EISDIR") throw fileProblem(file, "is a directory, expected a file");
    throw fileProblem(file, `cannot be read (${code ?? reasonOf(error)})`);
  }
}

/** The file's bytes, or undefined when it does not exist (same reporting as `readIfExists`). */
export function readBytesIfExists(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EISDIR") throw fileProblem(file, "is a directory, expected a file");
    throw fileProblem(file, `cannot be read (${code ?? reasonOf(error)})`);
  }
}

import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeSync, type Stats } from "node:fs";
import path from "node:path";
import { CliError, EXIT } from "../exit-codes.js";
import { reasonOf } from "./file-problems.js";

// All-or-nothing replacement of a set of files. Each new file is written beside its target
// (temporary name, fsync), the files it replaces are kept as hard-linked backups, then everything is
// renamed into place; if any step fails, what was renamed is put back, so the directories end up
// as they were. A crash between two renames can leave a mix, never a half-written file.

/** A file the caller wants to exist with this content and mode. */
export interface PlannedFile {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

/** What applying a planned file does. */
export type FileAction = "create" | "replace" | "unchanged";

/** A planned file and what applying it does to the current tree. */
export interface FileChange extends PlannedFile {
  readonly action: FileAction;
}

/** Options of `applyChanges`. */
export interface ApplyOptions {
  /** Files to delete in the same transaction (e.g. the CSRs once signed). */
  readonly remove?: readonly string[];
  /** Mode of directories that have to be created (default 0700). */
  readonly directoryMode?: number;
}

/**
 * Compares each planned file with what is on disk: absent → create, same bytes and mode →
 * unchanged, otherwise replace. A target that exists but is not a regular file is refused.
 */
export function planChanges(files: readonly PlannedFile[]): FileChange[] {
  const seen = new Set<string>();
  return files.map((file) => {
    if (seen.has(file.path)) throw new CliError(`internal: ${file.path} is planned twice`, EXIT.failure);
    seen.add(file.path);
    const current = statOrUndefined(file.path);
    if (current === undefined) return { ...file, action: "create" };
    if (!current.isFile()) throw new CliError(`${file.path} exists and is not a regular file; refusing to replace it`, EXIT.conflict);
    const same = (current.mode & 0o777) === file.mode && readFileSync(file.path).equals(file.content);
    return { ...file, action: same ? "unchanged" : "replace" };
  });
}

/**
 * Checks, before anything is asked of the server, that each path can later be created or
 * replaced: absent or a regular file, under directories (or nothing) rather than other files.
 */
export function assertReplaceable(paths: readonly string[]): void {
  for (const file of paths) {
    const current = statOrUndefined(file);
    if (current !== undefined && !current.isFile()) throw new CliError(`${file} exists and is not a regular file; refusing to replace it`, EXIT.conflict);
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const parent = statOrUndefined(dir);
      if (parent === undefined) continue;
      if (!parent.isDirectory()) throw new CliError(`${dir} exists and is not a directory`, EXIT.conflict);
      break;
    }
  }
}

/** Writes every created or replaced file and removes `options.remove`, all or nothing. */
export function applyChanges(changes: readonly FileChange[], options: ApplyOptions = {}): void {
  const pending = changes.filter((change) => change.action !== "unchanged");
  const remove = options.remove ?? [];
  const createdDirectories: string[] = [];
  const staged = new Map<string, string>(); // target → temporary file
  const backups = new Map<string, string>(); // target → hard link to its previous content
  const installed: string[] = []; // targets renamed into place or removed, in order
  try {
    for (const change of pending) {
      ensureDirectory(path.dirname(change.path), options.directoryMode ?? 0o700, createdDirectories);
      staged.set(change.path, stage(change));
    }
    for (const target of [...pending.filter((c) => c.action === "replace").map((c) => c.path), ...remove]) backups.set(target, keepBackup(target));
    for (const change of pending) {
      renameSync(staged.get(change.path) ?? "", change.path);
      staged.delete(change.path);
      installed.push(change.path);
    }
    for (const target of remove) {
      rmSync(target);
      installed.push(target);
    }
  } catch (error) {
    const unrestored = rollBack(installed, backups);
    for (const temporary of staged.values()) rmSync(temporary, { force: true });
    for (const [target, backup] of backups) if (!unrestored.includes(target)) rmSync(backup, { force: true });
    for (const dir of createdDirectories.reverse()) tryRemoveEmptyDirectory(dir);
    const kept = unrestored.map((target) => `${target} (previous content kept in ${backups.get(target) ?? "?"})`);
    throw new CliError(
      `writing the files failed, ${kept.length === 0 ? "nothing was changed" : `and could not restore ${kept.join(", ")}`}: ${reasonOf(error)}`,
      error instanceof CliError ? error.exitCode : EXIT.failure,
    );
  }
  for (const backup of backups.values()) rmSync(backup, { force: true });
  for (const dir of new Set([...pending.map((c) => path.dirname(c.path)), ...remove.map((r) => path.dirname(r))])) syncDirectory(dir);
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file; the caller reports that parent when it gets to it.
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new CliError(`${file}: cannot be inspected (${reasonOf(error)})`, EXIT.failure);
  }
}

function sibling(target: string, kind: "new" | "old"): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.kpki-${kind}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Writes the new content under a temporary name in the target's directory, with its exact mode, and fsyncs it. */
function stage(change: FileChange): string {
  const temporary = sibling(change.path, "new");
  const fd = openSync(temporary, "wx", change.mode);
  try {
    let offset = 0;
    while (offset < change.content.length) offset += writeSync(fd, change.content, offset);
    fchmodSync(fd, change.mode); // the umask may have narrowed the mode given to open
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  return temporary;
}

/** A second name for the current content (a copy where hard links are not possible). */
function keepBackup(target: string): string {
  const backup = sibling(target, "old");
  try {
    linkSync(target, backup);
  } catch {
    copyFileSync(target, backup);
    // copyFileSync keeps the mode on Linux; the content is what matters for a restore.
  }
  return backup;
}

/** Undoes installed renames and removals in reverse order; returns the targets it could not restore. */
function rollBack(installed: readonly string[], backups: ReadonlyMap<string, string>): string[] {
  const failed: string[] = [];
  for (const target of [...installed].reverse()) {
    const backup = backups.get(target);
    try {
      if (backup === undefined) rmSync(target, { force: true });
      else renameSync(backup, target);
    } catch {
      failed.push(target);
    }
  }
  return failed;
}

function ensureDirectory(dir: string, mode: number, created: string[]): void {
  const current = statOrUndefined(dir);
  if (current !== undefined) {
    if (!current.isDirectory()) throw new CliError(`${dir} exists and is not a directory`, EXIT.conflict);
    return;
  }
  ensureDirectory(path.dirname(dir), mode, created);
  mkdirSync(dir, { mode });
  created.push(dir);
  chmodSync(dir, mode); // exact, whatever the umask
}

function tryRemoveEmptyDirectory(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (someone else wrote there) or already gone: leave it
  }
}

/** fsync a directory so the renames in it survive a crash (best effort: not every platform allows it). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // directories cannot be opened for fsync on some platforms; the data itself was synced
  }
}

/** "<action padded to 9> <path>": the plan line format (`create    /etc/kubernetes/pki/apiserver.crt`). */
export function actionLine(action: string, file: string): string {
  return `${action.padEnd(9)} ${file}`;
}

/** One plan line per change, then one per removal. */
export function describeChanges(changes: readonly FileChange[], removals: readonly string[] = []): string[] {
  return [...changes.map((change) => actionLine(change.action, change.path)), ...removals.map((file) => actionLine("remove", file))];
}

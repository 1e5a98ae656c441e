import { createHash, createSecretKey, type KeyObject } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { inspect } from "node:util";
import { DomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";

/** A master key is an AES-256 key: exactly 32 bytes. */
export const MASTER_KEY_BYTES = 32;
/** Domain separation for the public key id, so the id is never a hash of the bare key. */
const ID_PREFIX = "kpki-master-key-id:";
/** A master key file holds 44 base64 characters and a newline; anything far larger is not one. */
const MAX_FILE_BYTES = 1024;
const HOW_TO_GENERATE = "generate one with: openssl rand -base64 32";
const REDACTED = "[redacted]";

/**
 * The key-encryption key that seals every private key at rest (ARCHITECTURE.md §3).
 * The bytes live only inside a node:crypto secret KeyObject; printing, inspecting or
 * JSON-serialising a MasterKey shows its id and never the key.
 */
export class MasterKey {
  /** First 16 hex chars of SHA-256("kpki-master-key-id:" ‖ key): safe to show, log and store. */
  readonly id: string;
  readonly #secret: KeyObject;

  private constructor(secret: KeyObject, id: string) {
    this.#secret = secret;
    this.id = id;
  }

  /** Wraps 32 key bytes (copied; the caller may wipe its buffer afterwards). */
  static fromBytes(bytes: Uint8Array): MasterKey {
    if (bytes.length !== MASTER_KEY_BYTES) {
      throw masterKeyError("invalid_input", `a master key is exactly ${MASTER_KEY_BYTES} bytes, got ${bytes.length}`);
    }
    const id = createHash("sha256").update(ID_PREFIX).update(bytes).digest("hex").slice(0, 16);
    return new MasterKey(createSecretKey(Buffer.from(bytes)), id);
  }

  /** A new random master key. */
  static generate(random: RandomSource): MasterKey {
    const bytes = random.bytes(MASTER_KEY_BYTES);
    try {
      return MasterKey.fromBytes(bytes);
    } finally {
      bytes.fill(0);
    }
  }

  /** The AES-256 key object; for the sealing functions only (sealing.ts), never for display. */
  cipherKey(): KeyObject {
    return this.#secret;
  }

  toJSON(): { id: string; key: string } {
    return { id: this.id, key: REDACTED };
  }

  toString(): string {
    return `MasterKey(${this.id})`;
  }

  [inspect.custom](): string {
    return `MasterKey { id: '${this.id}', key: ${REDACTED} }`;
  }
}

/**
 * The master keys the service holds: `current` seals everything new; `previous` keys only open
 * blobs sealed before a rotation, until `CryptoBackend.reseal` has moved them to `current`.
 */
export interface MasterKeyRing {
  readonly current: MasterKey;
  readonly previous: readonly MasterKey[];
}

/** Builds a ring; refuses a key listed twice (it would make the rotation state ambiguous). */
export function createMasterKeyRing(current: MasterKey, previous: readonly MasterKey[] = []): MasterKeyRing {
  const seen = new Set([current.id]);
  for (const key of previous) {
    if (seen.has(key.id)) throw masterKeyError("invalid_input", `master key ${key.id} appears twice in the key ring`);
    seen.add(key.id);
  }
  return Object.freeze({ current, previous: Object.freeze([...previous]) });
}

/** The ring key with this id, if the ring has it. */
export function findMasterKey(ring: MasterKeyRing, id: string): MasterKey | undefined {
  if (ring.current.id === id) return ring.current;
  return ring.previous.find((key) => key.id === id);
}

/** Where a master key comes from: an environment variable's value or a key file. */
export type MasterKeySource = { readonly kind: "env"; readonly base64: string } | { readonly kind: "file"; readonly path: string };

/**
 * Loads a master key. Every failure is one line that says what to fix and never contains any
 * of the key text. A key file must be a regular file with no permission for group or others.
 */
export async function loadMasterKey(source: MasterKeySource): Promise<MasterKey> {
  if (source.kind === "env") return parseMasterKey(source.base64, "the master key from the environment");
  return parseMasterKey(await readKeyFile(source.path), `master key file ${source.path}`);
}

/**
 * Creates a new key file: exclusive create (never overwrites), mode 0600, file and directory
 * fsynced so a crash cannot leave the service with data sealed under a key that was not saved.
 */
export async function createMasterKeyFile(path: string, random: RandomSource): Promise<MasterKey> {
  const bytes = Buffer.from(random.bytes(MASTER_KEY_BYTES));
  const key = MasterKey.fromBytes(bytes);
  const text = `${bytes.toString("base64")}\n`;
  bytes.fill(0);
  let file;
  try {
    file = await open(path, "wx", 0o600);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") {
      throw masterKeyError("already_exists", `master key file ${path} already exists; refusing to overwrite it`);
    }
    throw masterKeyError("unavailable", `master key file ${path} cannot be created (${errnoCode(error) ?? "error"})`, error);
  }
  try {
    await file.chmod(0o600); // the mode given to open() is filtered by the umask; be explicit
    await file.writeFile(text, "utf8");
    await file.sync();
    await file.close();
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw masterKeyError("unavailable", `master key file ${path} cannot be written (${errnoCode(error) ?? "error"})`, error);
  }
  await fsyncDirectory(dirname(path));
  return key;
}

async function readKeyFile(path: string): Promise<string> {
  let file;
  try {
    file = await open(path, fsConstants.O_RDONLY);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") throw masterKeyError("not_found", `master key file ${path} does not exist`);
    throw masterKeyError("unavailable", `master key file ${path} cannot be opened (${code ?? "error"})`, error);
  }
  try {
    // fstat on the open descriptor: the file checked is the file read, even through symlinks.
    const stat = await file.stat();
    if (!stat.isFile()) throw masterKeyError("invalid_input", `master key file ${path} is not a regular file`);
    const mode = stat.mode & 0o777;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      const octal = mode.toString(8).padStart(4, "0");
      throw masterKeyError(
        "invalid_input",
        `master key file ${path} has mode ${octal}, which lets group or others access it; run chmod 600 ${path}`,
      );
    }
    if (stat.size > MAX_FILE_BYTES) {
      throw masterKeyError("invalid_input", `master key file ${path} is ${stat.size} bytes; expected base64 of ${MASTER_KEY_BYTES} bytes`);
    }
    return await file.readFile("utf8");
  } finally {
    await file.close();
  }
}

/** Strict base64 of exactly 32 bytes, optionally followed by one newline. */
function parseMasterKey(text: string, what: string): MasterKey {
  const body = text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
  if (body.length === 0) throw masterKeyError("invalid_input", `${what} is empty; ${HOW_TO_GENERATE}`);
  const bytes = Buffer.from(body, "base64");
  try {
    // Node's decoder skips junk silently; only a canonical round trip proves the text was base64.
    if (!STRICT_BASE64.test(body) || bytes.toString("base64") !== body) {
      throw masterKeyError("invalid_input", `${what} is not valid base64; ${HOW_TO_GENERATE}`);
    }
    if (bytes.length !== MASTER_KEY_BYTES) {
      throw masterKeyError(
        "invalid_input",
        `${what} decodes to ${bytes.length} bytes; a master key is exactly ${MASTER_KEY_BYTES} bytes (${HOW_TO_GENERATE})`,
      );
    }
    return MasterKey.fromBytes(bytes);
  } finally {
    bytes.fill(0);
  }
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

async function fsyncDirectory(path: string): Promise<void> {
  if (process.platform === "win32") return; // directories cannot be opened for fsync there
  const directory = await open(path, fsConstants.O_RDONLY);
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

function masterKeyError(code: DomainError["code"], message: string, cause?: unknown): DomainError {
  return new DomainError(code, message, { field: "masterKey" }, cause === undefined ? undefined : { cause });
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

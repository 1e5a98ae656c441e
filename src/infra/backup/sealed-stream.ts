import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { MasterKey } from "../crypto/master-key.js";

// A backup file is sealed as a whole with AES-256-GCM in fixed-size segments (the "STREAM"
// construction of Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption and its
// Nonce-Reuse Misuse-Resistance", CRYPTO 2015): every segment is authenticated before a byte of it
// is used, a counter in the nonce refuses reordered or dropped segments, and a final flag refuses a
// truncated file. The key is derived per file with HKDF-SHA256 (RFC 5869) from the master key and a
// random salt, so one master key never encrypts two files under the same key and nonce.
//
//   <preamble JSON>\n                       clear: format, cipher, master key id, salt (AAD of every segment)
//   repeat: u32 BE length ‖ ciphertext ‖ 16-byte GCM tag

/** The clear first line of a backup file: what is needed to open it, nothing about its content. */
export interface BackupPreamble {
  readonly format: "kpki-backup";
  readonly version: 1;
  readonly cipher: "AES-256-GCM-STREAM";
  readonly kdf: "HKDF-SHA256";
  /** The master key the file is sealed under (and the keys inside it are sealed under). */
  readonly masterKeyId: string;
  /** HKDF salt, base64 (32 random bytes). */
  readonly salt: string;
}

/** The file is not a kpki backup, was altered, or is cut short; restore refuses it. */
export class BackupIntegrityError extends Error {
  override readonly name = "BackupIntegrityError";
}

const HKDF_INFO = "kpki backup v1 AES-256-GCM-STREAM";
const SEGMENT_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const LENGTH_BYTES = 4;
/** The preamble is a short line; anything longer is not a kpki backup. */
const MAX_PREAMBLE_BYTES = 1024;

function segmentKey(masterKey: MasterKey, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey.cipherKey(), salt, HKDF_INFO, 32));
}

/** 96-bit nonce: 32-bit final flag ‖ 64-bit segment counter. */
function segmentNonce(counter: bigint, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(final ? 1 : 0, 0);
  nonce.writeBigUInt64BE(counter, 4);
  return nonce;
}

/** Seals text as it is written; `finish` writes the final segment. Output goes to `sink`. */
export class SealedWriter {
  readonly #key: Buffer;
  readonly #aad: Buffer;
  readonly #sink: (chunk: Buffer) => Promise<void>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #counter = 0n;

  private constructor(key: Buffer, aad: Buffer, sink: (chunk: Buffer) => Promise<void>) {
    this.#key = key;
    this.#aad = aad;
    this.#sink = sink;
  }

  /** Writes the preamble and returns a writer for the sealed content. */
  static async open(masterKey: MasterKey, sink: (chunk: Buffer) => Promise<void>): Promise<SealedWriter> {
    const salt = randomBytes(32);
    const preamble: BackupPreamble = { format: "kpki-backup", version: 1, cipher: "AES-256-GCM-STREAM", kdf: "HKDF-SHA256", masterKeyId: masterKey.id, salt: salt.toString("base64") };
    const line = Buffer.from(`${JSON.stringify(preamble)}\n`, "utf8");
    await sink(line);
    return new SealedWriter(segmentKey(masterKey, salt), line, sink);
  }

  async write(text: string): Promise<void> {
    const bytes = Buffer.from(text, "utf8");
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    while (this.#pendingBytes > SEGMENT_BYTES) {
      const all = Buffer.concat(this.#pending);
      await this.#seal(all.subarray(0, SEGMENT_BYTES), false);
      const rest = all.subarray(SEGMENT_BYTES);
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
  }

  /** Seals what is left as the final segment (possibly empty). */
  async finish(): Promise<void> {
    await this.#seal(Buffer.concat(this.#pending), true);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#key.fill(0);
  }

  async #seal(plaintext: Buffer, final: boolean): Promise<void> {
    const cipher = createCipheriv("aes-256-gcm", this.#key, segmentNonce(this.#counter, final));
    cipher.setAAD(this.#aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(ciphertext.length, 0);
    await this.#sink(Buffer.concat([length, ciphertext, cipher.getAuthTag()]));
    this.#counter += 1n;
  }
}

/** Reads bytes from an async source on demand. */
class ByteReader {
  readonly #source: AsyncIterator<Buffer>;
  #buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Fills the buffer to at least `bytes` (fewer only at the end of the source). */
  async #fill(bytes: number): Promise<void> {
    while (this.#buffer.length < bytes && !this.#done) {
      const next = await this.#source.next();
      if (next.done === true) this.#done = true;
      else this.#buffer = Buffer.concat([this.#buffer, next.value]);
    }
  }

  async readLine(max: number): Promise<Buffer | undefined> {
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline >= 0 && newline < max) {
        const line = this.#buffer.subarray(0, newline + 1);
        this.#buffer = this.#buffer.subarray(newline + 1);
        return line;
      }
      if (this.#buffer.length >= max || this.#done) return undefined;
      await this.#fill(this.#buffer.length + 1);
    }
  }

  /** Exactly `bytes` bytes, or undefined at a clean end, or throws when cut short. */
  async read(bytes: number): Promise<Buffer | undefined> {
    await this.#fill(bytes);
    if (this.#buffer.length === 0 && this.#done) return undefined;
    if (this.#buffer.length < bytes) throw new BackupIntegrityError("the backup file is cut short");
    const chunk = this.#buffer.subarray(0, bytes);
    this.#buffer = this.#buffer.subarray(bytes);
    return chunk;
  }
}

/** Reads and checks the clear preamble of a backup file. */
async function readPreamble(reader: ByteReader): Promise<{ preamble: BackupPreamble; line: Buffer }> {
  const line = await reader.readLine(MAX_PREAMBLE_BYTES);
  const notBackup = () => new BackupIntegrityError("not a kpki backup file (no kpki-backup preamble)");
  if (line === undefined) throw notBackup();
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.toString("utf8"));
  } catch {
    throw notBackup();
  }
  if (typeof parsed !== "object" || parsed === null || !("format" in parsed) || parsed.format !== "kpki-backup") throw notBackup();
  const fields = parsed as Record<string, unknown>;
  if (fields.version !== 1 || fields.cipher !== "AES-256-GCM-STREAM" || fields.kdf !== "HKDF-SHA256") {
    throw new BackupIntegrityError(`backup format version ${String(fields.version)} (${String(fields.cipher)}) is not one this kpki reads (version 1)`);
  }
  if (typeof fields.masterKeyId !== "string" || typeof fields.salt !== "string" || Buffer.from(fields.salt, "base64").length !== 32) throw notBackup();
  return { preamble: { format: "kpki-backup", version: 1, cipher: "AES-256-GCM-STREAM", kdf: "HKDF-SHA256", masterKeyId: fields.masterKeyId, salt: fields.salt }, line };
}

/** An opened backup file: its preamble, and (given the master key) its authenticated content. */
export interface SealedReader {
  readonly preamble: BackupPreamble;
  /** The plaintext, segment by segment, each authenticated before it is yielded; throws on any alteration. */
  segments(masterKey: MasterKey): AsyncGenerator<Buffer>;
}

/** Opens a backup file from its bytes (e.g. a file read stream). */
export async function openSealed(source: AsyncIterable<Buffer>): Promise<SealedReader> {
  const reader = new ByteReader(source);
  const { preamble, line } = await readPreamble(reader);
  return {
    preamble,
    async *segments(masterKey: MasterKey) {
      const key = segmentKey(masterKey, Buffer.from(preamble.salt, "base64"));
      try {
        for (let counter = 0n; ; counter += 1n) {
          const lengthBytes = await reader.read(LENGTH_BYTES);
          if (lengthBytes === undefined) throw new BackupIntegrityError("the backup file is cut short (no final segment)");
          const length = lengthBytes.readUInt32BE(0);
          if (length > SEGMENT_BYTES) throw new BackupIntegrityError(`segment ${counter} is larger than a segment can be: the file was altered`);
          const body = await reader.read(length + TAG_BYTES);
          if (body === undefined) throw new BackupIntegrityError("the backup file is cut short");
          // A segment is final when it opens under the final nonce; an attacker cannot make either
          // nonce fit without the key.
          const opened = openSegment(key, line, counter, body, length, true) ?? openSegment(key, line, counter, body, length, false);
          if (opened === undefined) {
            throw new BackupIntegrityError(`segment ${counter} does not authenticate: the file was altered, or it is not sealed under this master key`);
          }
          yield opened.plaintext;
          if (opened.final) {
            if ((await reader.read(1)) !== undefined) throw new BackupIntegrityError("data after the final segment: the file was altered");
            return;
          }
        }
      } finally {
        key.fill(0);
      }
    },
  };
}

function openSegment(key: Buffer, aad: Buffer, counter: bigint, body: Buffer, length: number, final: boolean): { plaintext: Buffer; final: boolean } | undefined {
  const decipher = createDecipheriv("aes-256-gcm", key, segmentNonce(counter, final));
  decipher.setAAD(aad);
  decipher.setAuthTag(body.subarray(length));
  try {
    const plaintext = Buffer.concat([decipher.update(body.subarray(0, length)), decipher.final()]);
    return { plaintext, final };
  } catch {
    return undefined;
  }
}

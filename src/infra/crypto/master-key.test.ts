import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import { createMasterKeyFile, createMasterKeyRing, findMasterKey, loadMasterKey, MasterKey } from "./master-key.js";
import { NodeRandomSource } from "./node-random.js";

const random = new NodeRandomSource();
const KEY_BYTES = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
const KEY_BASE64 = KEY_BYTES.toString("base64");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kpki-master-key-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeKeyFile(name: string, content: string, mode: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content, { mode });
  await chmod(path, mode); // writeFile's mode is filtered by the umask
  return path;
}

async function loadError(promise: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe("MasterKey", () => {
  it("derives its id as the first 16 hex chars of SHA-256(prefix ‖ key)", () => {
    const expected = createHash("sha256").update("kpki-master-key-id:").update(KEY_BYTES).digest("hex").slice(0, 16);
    expect(MasterKey.fromBytes(KEY_BYTES).id).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{16}$/);
  });

  it("never prints its bytes through JSON, inspect or String", () => {
    const key = MasterKey.fromBytes(KEY_BYTES);
    const shown = [JSON.stringify(key), inspect(key, { showHidden: true, depth: 5 }), String(key), JSON.stringify({ nested: [key] })];
    for (const text of shown) {
      expect(text).toContain(key.id);
      expect(text).not.toContain(KEY_BASE64);
      expect(text).not.toContain(KEY_BYTES.toString("hex"));
    }
    expect(Object.keys(key)).toEqual(["id"]);
  });

  it("copies the bytes it is given (wiping the caller's buffer does not change the key)", () => {
    const bytes = Buffer.from(KEY_BYTES);
    const key = MasterKey.fromBytes(bytes);
    bytes.fill(0);
    expect(key.id).toBe(MasterKey.fromBytes(KEY_BYTES).id);
    expect(key.cipherKey().export().equals(KEY_BYTES)).toBe(true);
  });

  it.each([0, 16, 31, 33, 64])("refuses %i bytes", (length) => {
    expect(() => MasterKey.fromBytes(new Uint8Array(length))).toThrow(`exactly 32 bytes, got ${length}`);
  });
});

describe("MasterKeyRing", () => {
  const a = MasterKey.generate(random);
  const b = MasterKey.generate(random);

  it("finds current and previous keys by id", () => {
    const ring = createMasterKeyRing(b, [a]);
    expect(findMasterKey(ring, b.id)).toBe(b);
    expect(findMasterKey(ring, a.id)).toBe(a);
    expect(findMasterKey(ring, "0000000000000000")).toBeUndefined();
  });

  it("refuses a key listed twice", () => {
    expect(() => createMasterKeyRing(a, [b, MasterKey.fromBytes(a.cipherKey().export())])).toThrow(`master key ${a.id} appears twice`);
  });
});

describe("loadMasterKey from the environment", () => {
  it.each([
    ["plain", KEY_BASE64],
    ["with a trailing newline", `${KEY_BASE64}\n`],
    ["with a trailing CRLF", `${KEY_BASE64}\r\n`],
  ])("accepts base64 %s", async (_, base64) => {
    const key = await loadMasterKey({ kind: "env", base64 });
    expect(key.id).toBe(MasterKey.fromBytes(KEY_BYTES).id);
  });

  const short = Buffer.alloc(16, 7).toString("base64");
  const long = Buffer.alloc(48, 7).toString("base64");
  it.each([
    ["empty", "", "is empty"],
    ["too short (16 bytes)", short, "decodes to 16 bytes; a master key is exactly 32 bytes"],
    ["too long (48 bytes)", long, "decodes to 48 bytes"],
    ["not base64", "this is not base64!!", "is not valid base64"],
    ["base64url alphabet", KEY_BYTES.toString("base64url"), "is not valid base64"],
    ["missing padding", KEY_BASE64.replace(/=+$/, ""), "is not valid base64"],
    ["inner whitespace", `${KEY_BASE64.slice(0, 10)} ${KEY_BASE64.slice(10)}`, "is not valid base64"],
    ["two trailing newlines", `${KEY_BASE64}\n\n`, "is not valid base64"],
    ["non-canonical padding bits", `${KEY_BASE64.slice(0, 42)}B=`, "is not valid base64"],
  ])("refuses %s with one clear line that does not echo the value", async (_, base64, message) => {
    const error = await loadError(loadMasterKey({ kind: "env", base64 }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain(message);
    expect(error.message).not.toContain("\n");
    if (base64.length > 4) expect(error.message).not.toContain(base64.trim().slice(0, 12));
  });
});

describe("loadMasterKey from a file", () => {
  it("loads a 0600 file with a trailing newline", async () => {
    const path = await writeKeyFile("ok.key", `${KEY_BASE64}\n`, 0o600);
    expect((await loadMasterKey({ kind: "file", path })).id).toBe(MasterKey.fromBytes(KEY_BYTES).id);
  });

  it("loads a 0400 file", async () => {
    const path = await writeKeyFile("readonly.key", KEY_BASE64, 0o400);
    expect((await loadMasterKey({ kind: "file", path })).id).toBe(MasterKey.fromBytes(KEY_BYTES).id);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o620])("refuses mode %o and names the mode and the fix", async (mode) => {
    const path = await writeKeyFile(`mode-${mode.toString(8)}.key`, KEY_BASE64, mode);
    const error = await loadError(loadMasterKey({ kind: "file", path }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe(
      `master key file ${path} has mode 0${mode.toString(8)}, which lets group or others access it; run chmod 600 ${path}`,
    );
  });

  it.each([
    ["too short", Buffer.alloc(16, 1).toString("base64"), "decodes to 16 bytes"],
    ["bad base64", "%%%not-base64%%%\n", "is not valid base64"],
    ["empty", "", "is empty"],
    ["a PEM block", `-----BEGIN KEY-----\n${KEY_BASE64}\n-----END KEY-----\n`, "is not valid base64"],
  ])("refuses a file that is %s without echoing it", async (name, content, message) => {
    const path = await writeKeyFile(`${name.replace(/ /g, "-")}.key`, content, 0o600);
    const error = await loadError(loadMasterKey({ kind: "file", path }));
    expect(error.message).toContain(`master key file ${path} ${message}`);
    expect(error.message).not.toContain(KEY_BASE64.slice(0, 12));
  });

  it("refuses a file far larger than a key", async () => {
    const path = await writeKeyFile("huge.key", "A".repeat(4096), 0o600);
    expect((await loadError(loadMasterKey({ kind: "file", path }))).message).toContain("is 4096 bytes");
  });

  it("reports a missing file as not_found", async () => {
    const path = join(dir, "missing.key");
    const error = await loadError(loadMasterKey({ kind: "file", path }));
    expect(error.code).toBe("not_found");
    expect(error.message).toBe(`master key file ${path} does not exist`);
  });

  it("refuses a directory", async () => {
    const path = join(dir, "a-directory");
    await mkdir(path, { mode: 0o700 });
    expect((await loadError(loadMasterKey({ kind: "file", path }))).message).toContain("is not a regular file");
  });
});

describe("createMasterKeyFile", () => {
  it("creates a 0600 file holding base64 of 32 random bytes and a newline, and returns that key", async () => {
    const path = join(dir, "new.key");
    const key = await createMasterKeyFile(path, random);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const content = await readFile(path, "utf8");
    expect(content).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(Buffer.from(content.trim(), "base64")).toHaveLength(32);
    expect((await loadMasterKey({ kind: "file", path })).id).toBe(key.id);
  });

  it("refuses to overwrite an existing file and leaves it untouched", async () => {
    const path = await writeKeyFile("existing.key", `${KEY_BASE64}\n`, 0o600);
    const error = await loadError(createMasterKeyFile(path, random));
    expect(error.code).toBe("already_exists");
    expect(error.message).toBe(`master key file ${path} already exists; refusing to overwrite it`);
    expect(await readFile(path, "utf8")).toBe(`${KEY_BASE64}\n`);
  });

  it("reports a missing directory in one line", async () => {
    const path = join(dir, "no-such-dir", "new.key");
    const error = await loadError(createMasterKeyFile(path, random));
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe(`master key file ${path} cannot be created (ENOENT)`);
  });

  it("uses the injected random source", async () => {
    const fixed: RandomSource = { bytes: (length) => Buffer.from(KEY_BYTES.subarray(0, length)) };
    const key = await createMasterKeyFile(join(dir, "fixed.key"), fixed);
    expect(key.id).toBe(MasterKey.fromBytes(KEY_BYTES).id);
    expect(await readFile(join(dir, "fixed.key"), "utf8")).toBe(`${KEY_BASE64}\n`);
  });
});

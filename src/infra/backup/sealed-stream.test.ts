import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MasterKey } from "../crypto/master-key.js";
import { NodeRandomSource } from "../crypto/node-random.js";
import { openSealed, SealedWriter } from "./sealed-stream.js";

const random = new NodeRandomSource();
const key = MasterKey.generate(random);
/** Three segments: 64 KiB, 64 KiB and the rest. */
const content = randomBytes(110_000).toString("base64");

async function sealedFile(text: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const writer = await SealedWriter.open(key, async (chunk) => {
    chunks.push(chunk);
  });
  // Written in uneven pieces, as the backup writes lines.
  for (let at = 0; at < text.length; at += 7_777) await writer.write(text.slice(at, at + 7_777));
  await writer.finish();
  return Buffer.concat(chunks);
}

/** The preamble line and the segments (length ‖ ciphertext ‖ tag) of a sealed file. */
function split(file: Buffer): { preamble: Buffer; segments: Buffer[] } {
  const newline = file.indexOf(0x0a) + 1;
  const segments: Buffer[] = [];
  for (let at = newline; at < file.length; ) {
    const size = 4 + file.readUInt32BE(at) + 16;
    segments.push(file.subarray(at, at + size));
    at += size;
  }
  return { preamble: file.subarray(0, newline), segments };
}

async function open(file: Buffer, with_: MasterKey = key): Promise<string> {
  const reader = await openSealed((async function* () {
    // Delivered in small chunks, as a file stream might.
    for (let at = 0; at < file.length; at += 10_000) yield file.subarray(at, at + 10_000);
  })());
  const parts: Buffer[] = [];
  for await (const segment of reader.segments(with_)) parts.push(segment);
  return Buffer.concat(parts).toString("utf8");
}

describe("sealed backup stream", () => {
  it("round-trips content over several segments; the file shows neither the content nor the key", async () => {
    const file = await sealedFile(content);
    expect(split(file).segments).toHaveLength(3);
    expect(await open(file)).toBe(content);
    expect(file.includes(Buffer.from(content.slice(1000, 1040)))).toBe(false);
    expect(JSON.parse(split(file).preamble.toString())).toMatchObject({ format: "kpki-backup", masterKeyId: key.id });
    expect(await open(await sealedFile(""))).toBe("");
  });

  it("refuses reordered, dropped, duplicated and appended segments, and another master key", async () => {
    const file = await sealedFile(content);
    const { preamble, segments } = split(file);
    const [a, b, c] = segments as [Buffer, Buffer, Buffer];
    await expect(open(Buffer.concat([preamble, b, a, c]))).rejects.toThrow(/segment 0 does not authenticate/);
    await expect(open(Buffer.concat([preamble, a, b]))).rejects.toThrow(/cut short \(no final segment\)/);
    await expect(open(Buffer.concat([preamble, a, c]))).rejects.toThrow(/segment 1 does not authenticate/);
    await expect(open(Buffer.concat([preamble, a, a, b, c]))).rejects.toThrow(/segment 1 does not authenticate/);
    await expect(open(Buffer.concat([file, c]))).rejects.toThrow(/data after the final segment/);
    await expect(open(file, MasterKey.generate(random))).rejects.toThrow(/segment 0 does not authenticate/);
  });

  it("refuses a file whose clear preamble was changed (it is the associated data of every segment)", async () => {
    const file = await sealedFile(content);
    const { preamble, segments } = split(file);
    const changed = Buffer.from(preamble.toString().replace('"version":1', '"version":1 '));
    await expect(open(Buffer.concat([changed, ...segments]))).rejects.toThrow(/segment 0 does not authenticate/);
    await expect(open(Buffer.from("not a backup\n"))).rejects.toThrow(/not a kpki backup file/);
  });
});

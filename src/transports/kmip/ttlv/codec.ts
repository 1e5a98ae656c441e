import { ITEM_TYPE, itemTypeName, type TtlvItem } from "./item.js";

// The TTLV codec (KMIP 1.4 §9.1, 2.0 §9.1): bytes ↔ items, strictly, with no KMIP meaning. Every
// item is Tag (3 bytes) | Type (1) | Length (4, of the value alone) | Value | zero padding to a
// multiple of 8. Decoding refuses anything a conforming encoder cannot produce: short or overlong
// values, non-zero padding, structures whose children do not fill them exactly, booleans other
// than 0/1, text that is not UTF-8, and nesting deeper than the caller allows.

/** Bytes of an item header: tag, type, length. */
export const HEADER_BYTES = 8;

/** What went wrong, for the transport's error response and for tests. */
export type TtlvProblem = "truncated" | "length" | "padding" | "type" | "value" | "trailing" | "depth";

/** A malformed encoding; `offset` is where the offending item starts. */
export class TtlvError extends Error {
  override readonly name = "TtlvError";
  constructor(
    readonly problem: TtlvProblem,
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

/** Limits a decoder enforces besides well-formedness. */
export interface DecodeLimits {
  /** Deepest nesting of structures; the outermost item is depth 1. */
  readonly maxDepth: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: 16 };

/** The fixed value length of each fixed-size type (KMIP 1.4 §9.1.1.4). */
const FIXED_LENGTH: Readonly<Record<number, number>> = {
  [ITEM_TYPE.Integer]: 4,
  [ITEM_TYPE.LongInteger]: 8,
  [ITEM_TYPE.Enumeration]: 4,
  [ITEM_TYPE.Boolean]: 8,
  [ITEM_TYPE.DateTime]: 8,
  [ITEM_TYPE.Interval]: 4,
  [ITEM_TYPE.DateTimeExtended]: 8,
};

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const padded = (length: number) => length + ((8 - (length % 8)) % 8);

/** The header of the item starting at `offset` (the caller checked 8 bytes are there). */
export function readHeader(bytes: Uint8Array, offset = 0): { tag: number; type: number; length: number } {
  return {
    tag: (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!,
    type: bytes[offset + 3]!,
    length: ((bytes[offset + 4]! << 24) >>> 0) + (bytes[offset + 5]! << 16) + (bytes[offset + 6]! << 8) + bytes[offset + 7]!,
  };
}

/** Decodes exactly one item that spans all of `bytes`. Views of byte strings share `bytes`. */
export function decodeTtlv(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): TtlvItem {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new Decoder(view, limits.maxDepth);
  const item = decoder.item(view.length, 1);
  if (decoder.pos !== view.length) throw new TtlvError("trailing", `${view.length - decoder.pos} bytes follow the item`, decoder.pos);
  return item;
}

class Decoder {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly maxDepth: number,
  ) {}

  item(end: number, depth: number): TtlvItem {
    const { buf } = this;
    const start = this.pos;
    if (end - start < HEADER_BYTES) throw new TtlvError("truncated", `an item header needs ${HEADER_BYTES} bytes, ${end - start} remain`, start);
    const { tag, type, length } = readHeader(buf, start);
    const valueStart = start + HEADER_BYTES;
    const valueEnd = valueStart + length;
    const next = valueStart + padded(length);
    if (next > end) throw new TtlvError("length", `${describe(tag, type)} declares ${length} bytes (${padded(length)} with padding), but ${end - valueStart} remain`, start);
    const fixed = FIXED_LENGTH[type];
    if (fixed !== undefined && length !== fixed) throw new TtlvError("length", `${describe(tag, type)} must be ${fixed} bytes long, not ${length}`, start);
    for (let i = valueEnd; i < next; i++) {
      if (buf[i] !== 0) throw new TtlvError("padding", `${describe(tag, type)} has non-zero padding`, start);
    }
    this.pos = next;
    switch (type) {
      case ITEM_TYPE.Structure: {
        if (length % 8 !== 0) throw new TtlvError("length", `${describe(tag, type)}: a structure's length is a multiple of 8, not ${length}`, start);
        if (depth > this.maxDepth) throw new TtlvError("depth", `structures nest deeper than ${this.maxDepth} levels`, start);
        const children: TtlvItem[] = [];
        this.pos = valueStart;
        while (this.pos < valueEnd) children.push(this.item(valueEnd, depth + 1));
        this.pos = next;
        return { tag, type, value: children };
      }
      case ITEM_TYPE.Integer:
        return { tag, type, value: buf.readInt32BE(valueStart) };
      case ITEM_TYPE.LongInteger:
        return { tag, type, value: buf.readBigInt64BE(valueStart) };
      case ITEM_TYPE.BigInteger: {
        if (length === 0 || length % 8 !== 0) throw new TtlvError("length", `${describe(tag, type)}: a big integer's length is a non-zero multiple of 8, not ${length}`, start);
        return { tag, type, value: readTwosComplement(buf.subarray(valueStart, valueEnd)) };
      }
      case ITEM_TYPE.Enumeration:
        return { tag, type, value: buf.readUInt32BE(valueStart) };
      case ITEM_TYPE.Boolean: {
        const value = buf.readBigUInt64BE(valueStart);
        if (value > 1n) throw new TtlvError("value", `${describe(tag, type)}: a boolean is 0 or 1`, start);
        return { tag, type, value: value === 1n };
      }
      case ITEM_TYPE.TextString: {
        try {
          return { tag, type, value: UTF8.decode(buf.subarray(valueStart, valueEnd)) };
        } catch {
          throw new TtlvError("value", `${describe(tag, type)} is not valid UTF-8`, start);
        }
      }
      case ITEM_TYPE.ByteString:
        // A plain view (no copy) into the message buffer, which is never reused.
        return { tag, type, value: new Uint8Array(buf.buffer, buf.byteOffset + valueStart, length) };
      case ITEM_TYPE.DateTime:
        return { tag, type, value: buf.readBigInt64BE(valueStart) };
      case ITEM_TYPE.Interval:
        return { tag, type, value: buf.readUInt32BE(valueStart) };
      case ITEM_TYPE.DateTimeExtended:
        return { tag, type, value: buf.readBigInt64BE(valueStart) };
      default:
        throw new TtlvError("type", `tag 0x${tag.toString(16).padStart(6, "0")} has unknown item type 0x${type.toString(16).padStart(2, "0")}`, start);
    }
  }
}

function describe(tag: number, type: number): string {
  return `${itemTypeName(type)} 0x${tag.toString(16).padStart(6, "0")}`;
}

function readTwosComplement(bytes: Buffer): bigint {
  const unsigned = BigInt(`0x${bytes.toString("hex")}`);
  return (bytes[0]! & 0x80) === 0 ? unsigned : unsigned - (1n << BigInt(bytes.length * 8));
}

/** Big-endian two's complement in the fewest bytes, sign-extended to a multiple of 8 (KMIP §9.1.1.4). */
function twosComplement(value: bigint): Buffer {
  let bytes = 1;
  while (value < -(1n << BigInt(bytes * 8 - 1)) || value >= 1n << BigInt(bytes * 8 - 1)) bytes++;
  const length = padded(bytes);
  const encoded = BigInt.asUintN(length * 8, value);
  return Buffer.from(encoded.toString(16).padStart(length * 2, "0"), "hex");
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const UINT32 = { min: 0, max: 2 ** 32 - 1 };

/** Encodes one item (and its children) into a new buffer. */
export function encodeTtlv(item: TtlvItem): Buffer {
  const writer = new Writer();
  writer.item(item);
  return writer.finish();
}

class Writer {
  private buf = Buffer.allocUnsafe(1024);
  private pos = 0;

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private header(tag: number, type: number, length: number): void {
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) throw new RangeError(`TTLV tag ${tag} is not 3 bytes`);
    this.reserve(HEADER_BYTES + padded(length));
    const { buf } = this;
    buf[this.pos] = tag >>> 16;
    buf[this.pos + 1] = (tag >>> 8) & 0xff;
    buf[this.pos + 2] = tag & 0xff;
    buf[this.pos + 3] = type;
    buf.writeUInt32BE(length, this.pos + 4);
    this.pos += HEADER_BYTES;
  }

  /** Writes `length` value bytes through `write`, then the zero padding. */
  private value(length: number, write: (buf: Buffer, at: number) => void): void {
    write(this.buf, this.pos);
    const end = this.pos + padded(length);
    this.buf.fill(0, this.pos + length, end);
    this.pos = end;
  }

  item(item: TtlvItem): void {
    const { tag, type } = item;
    switch (item.type) {
      case ITEM_TYPE.Structure: {
        const start = this.pos;
        this.header(tag, type, 0);
        for (const child of item.value) this.item(child);
        this.buf.writeUInt32BE(this.pos - start - HEADER_BYTES, start + 4);
        return;
      }
      case ITEM_TYPE.Integer:
        checkRange(item.value, INT32, tag);
        this.header(tag, type, 4);
        return this.value(4, (buf, at) => buf.writeInt32BE(item.value, at));
      case ITEM_TYPE.Enumeration:
      case ITEM_TYPE.Interval:
        checkRange(item.value, UINT32, tag);
        this.header(tag, type, 4);
        return this.value(4, (buf, at) => buf.writeUInt32BE(item.value, at));
      case ITEM_TYPE.LongInteger:
      case ITEM_TYPE.DateTime:
      case ITEM_TYPE.DateTimeExtended:
        if (BigInt.asIntN(64, item.value) !== item.value) throw new RangeError(`TTLV tag 0x${tag.toString(16)}: ${item.value} does not fit 64 bits`);
        this.header(tag, type, 8);
        return this.value(8, (buf, at) => buf.writeBigInt64BE(item.value, at));
      case ITEM_TYPE.BigInteger: {
        const bytes = twosComplement(item.value);
        this.header(tag, type, bytes.length);
        return this.value(bytes.length, (buf, at) => bytes.copy(buf, at));
      }
      case ITEM_TYPE.Boolean:
        this.header(tag, type, 8);
        return this.value(8, (buf, at) => buf.writeBigUInt64BE(item.value ? 1n : 0n, at));
      case ITEM_TYPE.TextString: {
        const length = Buffer.byteLength(item.value, "utf8");
        this.header(tag, type, length);
        return this.value(length, (buf, at) => buf.write(item.value, at, "utf8"));
      }
      case ITEM_TYPE.ByteString: {
        const bytes = item.value;
        this.header(tag, type, bytes.length);
        return this.value(bytes.length, (buf, at) => buf.set(bytes, at));
      }
    }
  }
}

function checkRange(value: number, range: { min: number; max: number }, tag: number): void {
  if (!Number.isInteger(value) || value < range.min || value > range.max) throw new RangeError(`TTLV tag 0x${tag.toString(16)}: ${value} is out of range`);
}

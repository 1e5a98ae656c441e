import { derError, describeTag, Tag, type DerNode, type TagClass } from "./der-node.js";

export { derError, describeTag, Tag, type DerNode, type TagClass } from "./der-node.js";

// A strict DER (X.690 §10) parser: definite, minimal lengths; exactly one element per input;
// bounded nesting. The whole tree is checked on read, so callers only walk trusted nodes.

/** Default limit on nesting: X.509 needs about 10 levels; 32 leaves room and stops stack abuse. */
export const DEFAULT_MAX_DEPTH = 32;

const CLASSES: readonly TagClass[] = ["universal", "application", "context", "private"];

/** Parses `bytes`, which must hold exactly one DER element (no trailing bytes). */
export function readDer(bytes: Uint8Array, maxDepth: number = DEFAULT_MAX_DEPTH): DerNode {
  return readOne(bytes, 0, maxDepth);
}

/**
 * Parses the contents of an OCTET STRING or BIT STRING (after its unused-bits octet) that carry
 * DER themselves, e.g. an extension's extnValue (RFC 5280 §4.1); offsets continue the outer ones.
 */
export function readNested(node: DerNode, maxDepth: number = DEFAULT_MAX_DEPTH): DerNode {
  if (node.tagClass === "universal" && node.tag === Tag.BIT_STRING) {
    const { bytes, unusedBits } = readBitString(node);
    if (unusedBits !== 0) throw derError("BIT STRING with unused bits cannot hold DER", node.offset);
    return readOne(bytes, node.offset + node.headerLength + 1, maxDepth);
  }
  return readOne(node.value, node.offset + node.headerLength, maxDepth);
}

function readOne(bytes: Uint8Array, base: number, maxDepth: number): DerNode {
  if (bytes.length === 0) throw derError("empty input", base);
  const node = parseElement(bytes, 0, bytes.length, base, 1, maxDepth);
  if (node.bytes.length !== bytes.length) {
    throw derError(`${bytes.length - node.bytes.length} trailing byte(s) after the element`, base + node.bytes.length);
  }
  return node;
}

// Parses the element starting at `start` that must end by `end`. `base` maps local → reported offsets.
function parseElement(buf: Uint8Array, start: number, end: number, base: number, depth: number, maxDepth: number): DerNode {
  if (depth > maxDepth) throw derError(`nesting deeper than ${maxDepth} levels`, base + start);
  if (start >= end) throw derError("truncated identifier", base + start);
  let pos = start;
  const first = buf[pos++] ?? 0;
  const tagClass = CLASSES[first >> 6] ?? "universal";
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    // High-tag-number form (X.690 §8.1.2.4): base-128, no leading 0x80, only for tags ≥ 31.
    tag = 0;
    for (let i = 0; ; i++) {
      if (pos >= end) throw derError("truncated tag number", base + start);
      const b = buf[pos++] ?? 0;
      if (i === 0 && b === 0x80) throw derError("non-minimal tag number", base + start);
      if (i >= 3) throw derError("tag number too large", base + start);
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tag < 31) throw derError("tag number in long form below 31", base + start);
  }
  if (pos >= end) throw derError("truncated length", base + pos);
  const lenByte = buf[pos++] ?? 0;
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else if (lenByte === 0x80) {
    throw derError("indefinite length is not allowed in DER", base + pos - 1);
  } else {
    const count = lenByte & 0x7f;
    if (count > 4) throw derError(`length of ${count} octets is too large`, base + pos - 1);
    if (pos + count > end) throw derError("truncated length", base + pos - 1);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[pos + i] ?? 0);
    // X.690 §10.1: the length must use the fewest octets possible.
    if (buf[pos] === 0 || length < 0x80) throw derError("non-minimal length encoding", base + pos - 1);
    pos += count;
  }
  const valueEnd = pos + length;
  if (valueEnd > end) throw derError("length exceeds available bytes", base + start);
  checkForm(tagClass, tag, constructed, base + start);
  const children: DerNode[] = [];
  if (constructed) {
    let p = pos;
    while (p < valueEnd) {
      const child = parseElement(buf, p, valueEnd, base, depth + 1, maxDepth);
      children.push(child);
      p += child.bytes.length;
    }
  }
  return {
    tag,
    tagClass,
    constructed,
    offset: base + start,
    headerLength: pos - start,
    bytes: buf.subarray(start, valueEnd),
    value: buf.subarray(pos, valueEnd),
    children,
  };
}

// X.690 §10.2: DER uses the primitive form for strings; SEQUENCE and SET are always constructed.
function checkForm(tagClass: TagClass, tag: number, constructed: boolean, offset: number): void {
  if (tagClass !== "universal") return;
  if (tag === 0) throw derError("end-of-contents octets are not allowed in DER", offset);
  if (tag === Tag.SEQUENCE || tag === Tag.SET) {
    if (!constructed) throw derError(`${tag === Tag.SET ? "SET" : "SEQUENCE"} must be constructed`, offset);
  } else if (constructed && tag !== 8 && tag !== 11 && tag !== 29) {
    // 8 EXTERNAL, 11 EMBEDDED PDV, 29 CHARACTER STRING are constructed types; all others here are primitive.
    throw derError(`constructed encoding of universal tag ${tag} is not allowed in DER`, offset);
  }
}

/** Throws unless `node` is the universal element `tag`; `what` names it in the message. */
export function expectUniversal(node: DerNode, tag: number, what: string): DerNode {
  if (node.tagClass !== "universal" || node.tag !== tag) {
    const wanted = describeTag({ tag, tagClass: "universal", constructed: false });
    throw derError(`${what}: expected ${wanted}, found ${describeTag(node)}`, node.offset);
  }
  return node;
}

/** The children of a SEQUENCE, checking their count is within [min, max]. */
export function sequenceItems(node: DerNode, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): readonly DerNode[] {
  expectUniversal(node, Tag.SEQUENCE, what);
  const n = node.children.length;
  if (n < min || n > max) {
    const range = min === max ? `${min}` : max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min} to ${max}`;
    throw derError(`${what}: expected ${range} element(s), found ${n}`, node.offset);
  }
  return node.children;
}

/** Whether `node` is the context-specific tag `[n]`. */
export function isContext(node: DerNode | undefined, n: number): node is DerNode {
  return node !== undefined && node.tagClass === "context" && node.tag === n;
}

/** INTEGER contents (two's complement, big-endian), checked for minimal encoding (X.690 §8.3.2). */
export function readIntegerBytes(node: DerNode, what = "INTEGER"): Uint8Array {
  expectUniversal(node, Tag.INTEGER, what);
  const v = node.value;
  const b0 = v[0];
  const b1 = v[1];
  if (b0 === undefined) throw derError(`${what}: empty INTEGER`, node.offset);
  if (b1 !== undefined && ((b0 === 0x00 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80))) {
    throw derError(`${what}: non-minimal INTEGER encoding`, node.offset);
  }
  return v;
}

/** INTEGER as a signed bigint. */
export function readBigInt(node: DerNode, what = "INTEGER"): bigint {
  const v = readIntegerBytes(node, what);
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if ((v[0] ?? 0) & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** INTEGER that must fit in 0..2^31-1 (versions, path lengths, salt lengths). */
export function readSmallInteger(node: DerNode, what = "INTEGER"): number {
  const v = readIntegerBytes(node, what);
  if (v.length > 4 || ((v[0] ?? 0) & 0x80) !== 0) throw derError(`${what}: INTEGER out of range`, node.offset);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** OBJECT IDENTIFIER in dotted form (X.690 §8.19), refusing non-minimal sub-identifiers. */
export function readOid(node: DerNode, what = "OBJECT IDENTIFIER"): string {
  expectUniversal(node, Tag.OID, what);
  const v = node.value;
  if (v.length === 0) throw derError(`${what}: empty OBJECT IDENTIFIER`, node.offset);
  if ((v[v.length - 1] ?? 0) & 0x80) throw derError(`${what}: truncated OBJECT IDENTIFIER`, node.offset);
  const arcs: string[] = [];
  let n = 0;
  let big: bigint | undefined;
  let fresh = true;
  for (const b of v) {
    if (fresh && b === 0x80) throw derError(`${what}: non-minimal OBJECT IDENTIFIER arc`, node.offset);
    fresh = false;
    if (big !== undefined) big = (big << 7n) | BigInt(b & 0x7f);
    else if (n > 2 ** 45) big = (BigInt(n) << 7n) | BigInt(b & 0x7f);
    else n = n * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        // First sub-identifier packs the first two arcs as 40·X + Y (X.690 §8.19.4).
        const value = big ?? BigInt(n);
        const x = value < 40n ? 0n : value < 80n ? 1n : 2n;
        arcs.push(x.toString(), (value - x * 40n).toString());
      } else {
        arcs.push(big !== undefined ? big.toString() : String(n));
      }
      n = 0;
      big = undefined;
      fresh = true;
    }
  }
  return arcs.join(".");
}

/** BOOLEAN: DER allows only 0x00 and 0xFF (X.690 §11.1). */
export function readBoolean(node: DerNode, what = "BOOLEAN"): boolean {
  expectUniversal(node, Tag.BOOLEAN, what);
  const b = node.value[0];
  if (node.value.length !== 1 || (b !== 0x00 && b !== 0xff)) throw derError(`${what}: BOOLEAN must be 00 or FF`, node.offset);
  return b === 0xff;
}

/** NULL: must be empty. */
export function readNull(node: DerNode, what = "NULL"): null {
  expectUniversal(node, Tag.NULL, what);
  if (node.value.length !== 0) throw derError(`${what}: NULL must be empty`, node.offset);
  return null;
}

/** BIT STRING: the data bytes and the count of unused bits, which DER requires to be zero bits (X.690 §11.2). */
export function readBitString(node: DerNode, what = "BIT STRING"): { bytes: Uint8Array; unusedBits: number } {
  expectUniversal(node, Tag.BIT_STRING, what);
  const unusedBits = node.value[0];
  if (unusedBits === undefined || unusedBits > 7) throw derError(`${what}: bad unused-bits count`, node.offset);
  const bytes = node.value.subarray(1);
  const last = bytes[bytes.length - 1];
  if (last === undefined ? unusedBits !== 0 : (last & ((1 << unusedBits) - 1)) !== 0) {
    throw derError(`${what}: unused bits must be zero`, node.offset);
  }
  return { bytes, unusedBits };
}

/** OCTET STRING contents. */
export function readOctetString(node: DerNode, what = "OCTET STRING"): Uint8Array {
  return expectUniversal(node, Tag.OCTET_STRING, what).value;
}

export { isStringNode, readString, readTime } from "./der-string-time.js";

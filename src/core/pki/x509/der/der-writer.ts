import { invalidInput } from "../../../shared/domain-error.js";

// DER encoders (X.690 §10) that return finished bytes. Each constructed value is written with one
// allocation of exactly the right size: no intermediate object trees, no re-encoding.

const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Joins byte arrays into one new array (one allocation). */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += (parts[i] as Uint8Array).length;
  const out = new Uint8Array(length);
  let pos = 0;
  for (let i = 0; i < parts.length; i++) pos = copyInto(out, parts[i] as Uint8Array, pos);
  return out;
}

/** Size of the identifier + length octets for `length` contents octets (low tag numbers only). */
function headerSize(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : length < 0x1000000 ? 5 : 6;
}

function writeHeader(out: Uint8Array, identifier: number, length: number): number {
  out[0] = identifier;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  const n = headerSize(length) - 2;
  out[1] = 0x80 | n;
  for (let i = n; i >= 1; i--) {
    out[1 + i] = length & 0xff;
    length = Math.floor(length / 256);
  }
  return 2 + n;
}

/**
 * Just the identifier and length octets of a TLV whose contents (`length` bytes) follow separately:
 * lets a builder emit nested headers and all contents with one final `concatBytes`.
 */
export function derHeader(identifier: number, length: number): Uint8Array {
  const out = new Uint8Array(headerSize(length));
  writeHeader(out, identifier, length);
  return out;
}

/** One TLV with identifier octet `identifier` (tag numbers < 31) whose contents are `parts` joined. */
export function derTlv(identifier: number, ...parts: readonly Uint8Array[]): Uint8Array {
  return derTlvOf(identifier, parts);
}

/**
 * derTlv for a list of any length: spreading a list into arguments overflows the call stack at
 * around 100,000 elements (a CRL with that many revoked certificates did).
 */
export function derTlvOf(identifier: number, parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += (parts[i] as Uint8Array).length;
  const out = new Uint8Array(headerSize(length) + length);
  let pos = writeHeader(out, identifier, length);
  for (let i = 0; i < parts.length; i++) pos = copyInto(out, parts[i] as Uint8Array, pos);
  return out;
}

// TypedArray.set costs more than a plain loop for the handful of bytes most DER parts have.
function copyInto(out: Uint8Array, part: Uint8Array, pos: number): number {
  const n = part.length;
  if (n > 32) out.set(part, pos);
  else for (let i = 0; i < n; i++) out[pos + i] = part[i] as number;
  return pos + n;
}

/** SEQUENCE of already-encoded elements. */
export function derSequence(...parts: readonly Uint8Array[]): Uint8Array {
  return derTlvOf(0x30, parts);
}

/** SEQUENCE (OF) of a list of any length (see derTlvOf). */
export function derSequenceOf(parts: readonly Uint8Array[]): Uint8Array {
  return derTlvOf(0x30, parts);
}

/** SET OF: elements sorted by their encodings, as DER requires (X.690 §11.6). */
export function derSet(...parts: readonly Uint8Array[]): Uint8Array {
  return derTlv(0x31, ...(parts.length > 1 ? [...parts].sort(compareEncodings) : parts));
}

// X.690 §11.6: compare as octet strings, the shorter one padded with trailing zero octets.
function compareEncodings(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * INTEGER. A Uint8Array is an unsigned big-endian magnitude (e.g. a serial number): leading zeros
 * are dropped and a 00 octet is added when the top bit is set, so the value stays positive
 * (X.690 §8.3). A bigint or safe-integer number is encoded in minimal two's complement.
 */
export function derInteger(value: Uint8Array | bigint | number): Uint8Array {
  if (value instanceof Uint8Array) {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    const first = value[start];
    if (first === undefined) return new Uint8Array([0x02, 0x01, 0x00]);
    const pad = first & 0x80 ? 1 : 0;
    const length = value.length - start + pad;
    const out = new Uint8Array(headerSize(length) + length);
    const pos = writeHeader(out, 0x02, length);
    out.set(value.subarray(start), pos + pad);
    return out;
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw invalidInput("integer", `${value} is not a safe integer`);
  let n = BigInt(value);
  const bytes: number[] = [];
  // Emit two's complement octets until the remaining value is pure sign extension.
  for (;;) {
    const byte = Number(n & 0xffn);
    bytes.unshift(byte);
    n >>= 8n;
    if ((n === 0n && (byte & 0x80) === 0) || (n === -1n && (byte & 0x80) !== 0)) break;
  }
  return derTlv(0x02, Uint8Array.from(bytes));
}

const OID_CACHE_LIMIT = 1024;
// Memo of OID encodings: OIDs repeat on every certificate. Bounded so it cannot grow without limit.
const oidCache = new Map<string, Uint8Array>();

/**
 * OBJECT IDENTIFIER from dotted text (X.690 §8.19). Encodings are cached; the returned array is
 * shared, so treat it as read-only (every encoder here copies it).
 */
export function derOid(dotted: string): Uint8Array {
  const cached = oidCache.get(dotted);
  if (cached !== undefined) return cached;
  const encoded = encodeOid(dotted);
  if (oidCache.size < OID_CACHE_LIMIT) oidCache.set(dotted, encoded);
  return encoded;
}

function encodeOid(dotted: string): Uint8Array {
  if (!/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/.test(dotted)) throw invalidInput("oid", `"${dotted}" is not a dotted OID`);
  const arcs = dotted.split(".").map((a) => BigInt(a));
  const [first = 0n, second = 0n] = arcs;
  if (first > 2n || (first < 2n && second >= 40n)) throw invalidInput("oid", `"${dotted}" has an invalid first or second arc`);
  const body: number[] = [];
  const sub = [first * 40n + second, ...arcs.slice(2)];
  for (const value of sub) {
    const group: number[] = [Number(value & 0x7fn)];
    for (let v = value >> 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
    body.push(...group);
  }
  return derTlv(0x06, Uint8Array.from(body));
}

const TRUE = Uint8Array.of(0x01, 0x01, 0xff);
const FALSE = Uint8Array.of(0x01, 0x01, 0x00);
const NULL = Uint8Array.of(0x05, 0x00);

/** BOOLEAN (DER TRUE is FF, X.690 §11.1). Shared constant: read-only. */
export function derBoolean(value: boolean): Uint8Array {
  return value ? TRUE : FALSE;
}

/** NULL. Shared constant: read-only. */
export function derNull(): Uint8Array {
  return NULL;
}

/** BIT STRING; the `unusedBits` low bits of the last byte must be zero (X.690 §11.2.1). */
export function derBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  const last = bytes[bytes.length - 1];
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (last === undefined && unusedBits !== 0)) {
    throw invalidInput("bitString", `invalid unused-bits count ${unusedBits}`);
  }
  if (last !== undefined && (last & ((1 << unusedBits) - 1)) !== 0) throw invalidInput("bitString", "unused bits must be zero");
  return derTlv(0x03, Uint8Array.of(unusedBits), bytes);
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(0x04, bytes);
}

/** UTF8String. */
export function derUtf8String(text: string): Uint8Array {
  if (LONE_SURROGATE.test(text)) throw invalidInput("string", "contains an unpaired surrogate");
  return derTlv(0x0c, utf8.encode(text));
}

/** PrintableString; refuses characters outside its repertoire (X.680 §41.4). */
export function derPrintableString(text: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw invalidInput("string", `"${text}" is not a PrintableString`);
  return derTlv(0x13, asciiBytes(text));
}

/** IA5String; refuses non-ASCII text. */
export function derIa5String(text: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(text)) throw invalidInput("string", `"${text}" is not an IA5String (ASCII only)`);
  return derTlv(0x16, asciiBytes(text));
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

const MS_PER_DAY = 86_400_000;

/**
 * X.509 Time: UTCTime `YYMMDDHHMMSSZ` for years 1950–2049, GeneralizedTime `YYYYMMDDHHMMSSZ`
 * otherwise (RFC 5280 §4.1.2.5). Milliseconds are dropped (truncated), as neither form has them.
 */
export function derTime(date: Date): Uint8Array {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw invalidInput("time", "invalid date");
  // Civil date from the day number (H. Hinnant's days_from_civil inverse): integer arithmetic
  // only, an order of magnitude cheaper than toISOString() or six getUTC* calls.
  const days = Math.floor(ms / MS_PER_DAY);
  const secondOfDay = Math.floor((ms - days * MS_PER_DAY) / 1000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) throw invalidInput("time", `year ${year} cannot be encoded`);
  const utc = year >= 1950 && year <= 2049;
  const out = new Uint8Array(utc ? 15 : 17);
  out[0] = utc ? 0x17 : 0x18;
  out[1] = utc ? 13 : 15;
  let pos = utc ? 2 : put2(out, 2, (year / 100) | 0);
  pos = put2(out, pos, year % 100);
  pos = put2(out, pos, month);
  pos = put2(out, pos, day);
  pos = put2(out, pos, (secondOfDay / 3600) | 0);
  pos = put2(out, pos, ((secondOfDay % 3600) / 60) | 0);
  pos = put2(out, pos, secondOfDay % 60);
  out[pos] = 0x5a; // 'Z'
  return out;
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` whatever the year (RFC 6960 §4.2.2.1 requires it in OCSP). */
export function derGeneralizedTime(date: Date): Uint8Array {
  const utcOrGeneralized = derTime(date);
  if (utcOrGeneralized[0] === 0x18) return utcOrGeneralized;
  // UTCTime YYMMDDHHMMSSZ for 1950–2049: prefix the century.
  const yy = (utcOrGeneralized[2] as number) - 0x30;
  const century = yy >= 5 ? "19" : "20";
  const out = new Uint8Array(17);
  out[0] = 0x18;
  out[1] = 15;
  out[2] = century.charCodeAt(0);
  out[3] = century.charCodeAt(1);
  out.set(utcOrGeneralized.subarray(2), 4);
  return out;
}

function put2(out: Uint8Array, pos: number, n: number): number {
  out[pos] = 0x30 + ((n / 10) | 0);
  out[pos + 1] = 0x30 + (n % 10);
  return pos + 2;
}

/** `[n] EXPLICIT inner`: a constructed context tag wrapping a complete element. */
export function derContextExplicit(n: number, inner: Uint8Array): Uint8Array {
  return derTlv(0xa0 | contextNumber(n), inner);
}

/** `[n] IMPLICIT`: the context tag replaces the element's own tag; `content` is its contents octets. */
export function derContextImplicit(n: number, content: Uint8Array, constructed = false): Uint8Array {
  return derTlv((constructed ? 0xa0 : 0x80) | contextNumber(n), content);
}

function contextNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw invalidInput("tag", `context tag ${n} out of range 0–30`);
  return n;
}

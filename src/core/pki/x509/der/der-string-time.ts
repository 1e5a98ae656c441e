import { derError, describeTag, Tag, type DerNode } from "./der-node.js";

// Character strings (X.680 §41) and the two X.509 time types (RFC 5280 §4.1.2.5).

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

// X.680 §41.4 PrintableString repertoire. Like Go's parser, '*' and '&' are also accepted:
// both occur in deployed certificates (wildcard CNs, company names) and carry no ambiguity.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?*&]*$/;

/** Whether `node` is one of the universal string types `readString` decodes. */
export function isStringNode(node: DerNode): boolean {
  if (node.tagClass !== "universal") return false;
  switch (node.tag) {
    case Tag.UTF8_STRING:
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.TELETEX_STRING:
    case Tag.BMP_STRING:
    case Tag.UNIVERSAL_STRING:
    case Tag.VISIBLE_STRING:
    case Tag.NUMERIC_STRING:
      return true;
    default:
      return false;
  }
}

/**
 * Decodes any directory string type: UTF8String, PrintableString, IA5String, VisibleString,
 * NumericString, TeletexString (as Latin-1, what deployed T61 strings actually hold), BMPString
 * (UTF-16BE) and UniversalString (UCS-4BE), checking each one's repertoire.
 */
export function readString(node: DerNode, what = "string"): string {
  const v = node.value;
  const bad = (kind: string): never => {
    throw derError(`${what}: invalid ${kind}`, node.offset);
  };
  if (node.tagClass !== "universal") throw derError(`${what}: expected a string, found ${describeTag(node)}`, node.offset);
  switch (node.tag) {
    case Tag.UTF8_STRING:
      try {
        return utf8.decode(v);
      } catch {
        return bad("UTF8String (malformed UTF-8)");
      }
    case Tag.PRINTABLE_STRING: {
      const s = ascii(v);
      return s !== undefined && PRINTABLE.test(s) ? s : bad("PrintableString (character outside its repertoire)");
    }
    case Tag.IA5_STRING:
      return ascii(v) ?? bad("IA5String (byte above 0x7F)");
    case Tag.VISIBLE_STRING: {
      const s = ascii(v);
      return s !== undefined && /^[\x20-\x7e]*$/.test(s) ? s : bad("VisibleString");
    }
    case Tag.NUMERIC_STRING: {
      const s = ascii(v);
      return s !== undefined && /^[0-9 ]*$/.test(s) ? s : bad("NumericString");
    }
    case Tag.TELETEX_STRING:
      return latin1.decode(v);
    case Tag.BMP_STRING:
      return v.length % 2 === 0 ? codePoints(v, 2) ?? bad("BMPString") : bad("BMPString (odd length)");
    case Tag.UNIVERSAL_STRING:
      return v.length % 4 === 0 ? codePoints(v, 4) ?? bad("UniversalString") : bad("UniversalString (length not a multiple of 4)");
    default:
      throw derError(`${what}: expected a string, found ${describeTag(node)}`, node.offset);
  }
}

function ascii(v: Uint8Array): string | undefined {
  let s = "";
  for (const b of v) {
    if (b > 0x7f) return undefined;
    s += String.fromCharCode(b);
  }
  return s;
}

// Big-endian code units of `width` bytes; BMPString may not hold surrogates (it is UCS-2).
function codePoints(v: Uint8Array, width: 2 | 4): string | undefined {
  let s = "";
  for (let i = 0; i < v.length; i += width) {
    let cp = 0;
    for (let j = 0; j < width; j++) cp = cp * 256 + (v[i + j] ?? 0);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    s += String.fromCodePoint(cp);
  }
  return s;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * UTCTime `YYMMDDHHMMSSZ` (years 50–99 → 19xx, 00–49 → 20xx, RFC 5280 §4.1.2.5.1) or
 * GeneralizedTime `YYYYMMDDHHMMSSZ` (no fractional seconds, RFC 5280 §4.1.2.5.2).
 */
export function readTime(node: DerNode, what = "time"): Date {
  const isUtc = node.tagClass === "universal" && node.tag === Tag.UTC_TIME;
  const isGen = node.tagClass === "universal" && node.tag === Tag.GENERALIZED_TIME;
  if (!isUtc && !isGen) throw derError(`${what}: expected UTCTime or GeneralizedTime, found ${describeTag(node)}`, node.offset);
  const v = node.value;
  const digits = isUtc ? 12 : 14;
  const form = isUtc ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ";
  if (v.length !== digits + 1 || v[digits] !== 0x5a) throw derError(`${what}: time must have the form ${form}`, node.offset);
  const nums: number[] = [];
  for (let i = 0; i < digits; i += 2) {
    const hi = (v[i] ?? 0) - 0x30;
    const lo = (v[i + 1] ?? 0) - 0x30;
    if (hi < 0 || hi > 9 || lo < 0 || lo > 9) throw derError(`${what}: time must have the form ${form}`, node.offset);
    nums.push(hi * 10 + lo);
  }
  const at = (i: number): number => nums[i] ?? 0;
  let year: number;
  let k = 0;
  if (isUtc) {
    year = at(k) >= 50 ? 1900 + at(k) : 2000 + at(k);
    k = 1;
  } else {
    year = at(0) * 100 + at(1);
    k = 2;
  }
  const [month, day, hour, minute, second] = [at(k), at(k + 1), at(k + 2), at(k + 3), at(k + 4)];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
    throw derError(`${what}: time out of range`, node.offset);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d;
}

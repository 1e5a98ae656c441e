import { describe, expect, it } from "vitest";
import { DomainError } from "../../../shared/domain-error.js";
import {
  readBigInt,
  readBitString,
  readBoolean,
  readDer,
  readIntegerBytes,
  readNested,
  readNull,
  readOid,
  readString,
  readTime,
  sequenceItems,
} from "./der-reader.js";

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
}

describe("readDer refuses malformed DER", () => {
  const nested = (depth: number): Uint8Array => {
    let der = hex("0500");
    for (let i = 0; i < depth; i++) der = Uint8Array.from([0x30, der.length, ...der]);
    return der;
  };
  it.each([
    ["empty input", hex(""), "DER: empty input at offset 0"],
    ["truncated contents", hex("3005 020101"), "DER: length exceeds available bytes at offset 0"],
    ["truncated child", hex("3003 020201"), "DER: length exceeds available bytes at offset 2"],
    ["missing length", hex("30"), "DER: truncated length at offset 1"],
    ["truncated long length", hex("3082 01"), "DER: truncated length at offset 1"],
    ["indefinite length", hex("3080 020101 0000"), "DER: indefinite length is not allowed in DER at offset 1"],
    ["long form below 128", hex("3081 03 020101"), "DER: non-minimal length encoding at offset 1"],
    ["length with a leading zero", hex("3082 0003 020101"), "DER: non-minimal length encoding at offset 1"],
    ["length of length too large", hex("3085 0000000003 020101"), "DER: length of 5 octets is too large at offset 1"],
    ["end-of-contents octets", hex("3002 0000"), "DER: end-of-contents octets are not allowed in DER at offset 2"],
    ["trailing bytes", hex("020101 00"), "DER: 1 trailing byte(s) after the element at offset 3"],
    ["primitive SEQUENCE", hex("1000"), "DER: SEQUENCE must be constructed at offset 0"],
    ["constructed OCTET STRING", hex("2403 040100"), "DER: constructed encoding of universal tag 4 is not allowed in DER at offset 0"],
    ["non-minimal high tag", hex("1f8001 00"), "DER: non-minimal tag number at offset 0"],
    ["high-tag form for a low tag", hex("1f05 00"), "DER: tag number in long form below 31 at offset 0"],
    ["nesting of 33 levels", nested(33), "DER: nesting deeper than 32 levels at offset 64"],
  ])("%s", (_name, input, message) => {
    const error = refusal(() => readDer(input));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe(message);
  });

  it("accepts nesting of exactly 32 levels", () => {
    expect(readDer(nested(31)).children).toHaveLength(1);
  });

  it("accepts a 128-byte value with a two-octet length", () => {
    const der = Uint8Array.from([0x04, 0x81, 0x80, ...new Uint8Array(128)]);
    expect(readDer(der).value).toHaveLength(128);
  });
});

describe("node shape", () => {
  it("keeps tags, offsets and views of a nested structure", () => {
    const node = readDer(hex("3009 a003 020102 0402 abcd"));
    expect(node).toMatchObject({ tag: 16, tagClass: "universal", constructed: true, offset: 0, headerLength: 2 });
    const [explicit, octets] = node.children;
    expect(explicit).toMatchObject({ tag: 0, tagClass: "context", constructed: true, offset: 2 });
    expect(explicit?.children[0]?.offset).toBe(4);
    expect(octets?.offset).toBe(7);
    expect(Buffer.from(octets?.value ?? []).toString("hex")).toBe("abcd");
    expect(Buffer.from(octets?.bytes ?? []).toString("hex")).toBe("0402abcd");
  });

  it("readNested continues the outer offsets", () => {
    const outer = readDer(hex("0404 3003 0201"));
    const error = refusal(() => readNested(outer));
    expect(error.message).toBe("DER: length exceeds available bytes at offset 2");
  });

  it("sequenceItems checks the element count", () => {
    expect(refusal(() => sequenceItems(readDer(hex("3003 020101")), "Thing", 2, 2)).message).toBe("DER: Thing: expected 2 element(s), found 1 at offset 0");
    expect(refusal(() => sequenceItems(readDer(hex("0500")), "Thing")).message).toBe("DER: Thing: expected SEQUENCE, found NULL at offset 0");
  });
});

describe("primitive readers", () => {
  it.each([
    ["020100", 0n],
    ["02017f", 127n],
    ["02020080", 128n],
    ["0201ff", -1n],
    ["020180", -128n],
    ["0202ff7f", -129n],
    ["0209 00ffffffffffffffff", 2n ** 64n - 1n],
  ])("INTEGER %s is %s", (input, value) => {
    expect(readBigInt(readDer(hex(input)))).toBe(value);
  });

  it.each([
    ["empty", "0200", "empty INTEGER"],
    ["redundant 00", "02020001", "non-minimal INTEGER encoding"],
    ["redundant ff", "0202ff80", "non-minimal INTEGER encoding"],
  ])("refuses INTEGER: %s", (_name, input, reason) => {
    expect(refusal(() => readIntegerBytes(readDer(hex(input)))).message).toContain(reason);
  });

  it.each([
    ["06062a864886f70d", "1.2.840.113549"],
    ["0603550403", "2.5.4.3"],
    ["0603883703", "2.999.3"],
    ["06092a864886f70d01010b", "1.2.840.113549.1.1.11"],
    ["0612 69 97e3b8f7fdb8bfbdeaf690ae9796f2f540", "2.25.123456789012345678901234567890123456"],
  ])("OID %s is %s", (input, dotted) => {
    expect(readOid(readDer(hex(input)))).toBe(dotted);
  });

  it.each([
    ["empty", "0600", "empty OBJECT IDENTIFIER"],
    ["non-minimal arc", "0603 2a8001", "non-minimal OBJECT IDENTIFIER arc"],
    ["truncated arc", "0602 2a86", "truncated OBJECT IDENTIFIER"],
  ])("refuses OID: %s", (_name, input, reason) => {
    expect(refusal(() => readOid(readDer(hex(input)))).message).toContain(reason);
  });

  it("reads BOOLEAN, NULL and BIT STRING strictly", () => {
    expect(readBoolean(readDer(hex("0101ff")))).toBe(true);
    expect(readBoolean(readDer(hex("010100")))).toBe(false);
    expect(refusal(() => readBoolean(readDer(hex("010101")))).message).toContain("BOOLEAN must be 00 or FF");
    expect(readNull(readDer(hex("0500")))).toBeNull();
    expect(refusal(() => readNull(readDer(hex("050100")))).message).toContain("NULL must be empty");
    expect(readBitString(readDer(hex("03020780")))).toEqual({ bytes: hex("80"), unusedBits: 7 });
    expect(refusal(() => readBitString(readDer(hex("03020781")))).message).toContain("unused bits must be zero");
    expect(refusal(() => readBitString(readDer(hex("030108")))).message).toContain("bad unused-bits count");
    expect(refusal(() => readBitString(readDer(hex("030107")))).message).toContain("unused bits must be zero");
  });
});

describe("strings", () => {
  it.each([
    ["UTF8String", "0c06 c3a974c3a921", "été!"],
    ["PrintableString", "1303 4b2d31", "K-1"],
    ["IA5String", "1603 612e62", "a.b"],
    ["TeletexString as Latin-1", "1402 e9e8", "éè"],
    ["BMPString", "1e04 00e9 20ac", "é€"],
    ["UniversalString", "1c08 0001f600 00000041", "😀A"],
    ["VisibleString", "1a02 6869", "hi"],
  ])("decodes %s", (_name, input, text) => {
    expect(readString(readDer(hex(input.replace(/ /g, ""))))).toBe(text);
  });

  it.each([
    ["malformed UTF-8", "0c02c328", "invalid UTF8String"],
    ["PrintableString with @", "130140", "invalid PrintableString"],
    ["IA5String above 0x7F", "160180", "invalid IA5String"],
    ["odd BMPString", "1e0100", "invalid BMPString"],
    ["BMPString surrogate", "1e02d800", "invalid BMPString"],
    ["UniversalString beyond Unicode", "1c0400110000", "invalid UniversalString"],
    ["INTEGER is no string", "020101", "expected a string"],
  ])("refuses %s", (_name, input, reason) => {
    expect(refusal(() => readString(readDer(hex(input)))).message).toContain(reason);
  });
});

describe("times (RFC 5280 §4.1.2.5)", () => {
  const utc = (s: string): Uint8Array => Uint8Array.from([0x17, s.length, ...Buffer.from(s, "latin1")]);
  const gen = (s: string): Uint8Array => Uint8Array.from([0x18, s.length, ...Buffer.from(s, "latin1")]);
  it.each([
    ["UTCTime 49 is 2049", utc("491231235959Z"), "2049-12-31T23:59:59.000Z"],
    ["UTCTime 50 is 1950", utc("500101000000Z"), "1950-01-01T00:00:00.000Z"],
    ["UTCTime 00 is 2000", utc("000229120000Z"), "2000-02-29T12:00:00.000Z"],
    ["GeneralizedTime 2050", gen("20500101000000Z"), "2050-01-01T00:00:00.000Z"],
    ["GeneralizedTime 9999", gen("99991231235959Z"), "9999-12-31T23:59:59.000Z"],
    ["GeneralizedTime leap day", gen("20240229000000Z"), "2024-02-29T00:00:00.000Z"],
  ])("%s", (_name, der, iso) => {
    expect(readTime(readDer(der)).toISOString()).toBe(iso);
  });

  it.each([
    ["UTCTime without seconds", utc("4912312359Z")],
    ["UTCTime with an offset", utc("491231235959+0000")],
    ["GeneralizedTime with fractions", gen("20500101000000.5Z")],
    ["GeneralizedTime without Z", gen("20500101000000")],
    ["February 30", gen("20230230000000Z")],
    ["February 29 in 2100", gen("21000229000000Z")],
    ["hour 24", utc("491231240000Z")],
    ["non-digit", utc("49123123595aZ")],
  ])("refuses %s", (_name, der) => {
    const error = refusal(() => readTime(readDer(der)));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(/time (must have the form|out of range)/);
  });
});

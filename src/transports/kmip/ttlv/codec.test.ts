import { describe, expect, it } from "vitest";
import { decodeTtlv, encodeTtlv, TtlvError, type TtlvProblem } from "./codec.js";
import { bigInteger, boolean, byteString, dateTime, enumeration, integer, interval, ITEM_TYPE, longInteger, structure, textString, type TtlvItem } from "./item.js";
import { TAG } from "./tags.js";

const hex = (text: string) => Buffer.from(text.replace(/[\s|]/g, ""), "hex");

// KMIP 1.4 §9.1.2 "Examples": one item of each type under tag 0x420020, byte for byte.
const SPEC_EXAMPLES: [string, TtlvItem, string][] = [
  ["Integer 8", integer(0x420020, 8), "420020 | 02 | 00000004 | 00000008 00000000"],
  ["Long Integer 123456789000000000", longInteger(0x420020, 123456789000000000n), "420020 | 03 | 00000008 | 01B69B4BA5749200"],
  ["Big Integer 1234567890000000000000000000", bigInteger(0x420020, 1234567890000000000000000000n), "420020 | 04 | 00000010 | 0000000003FD35EB 6BC2DF4618080000"],
  ["Enumeration 255", enumeration(0x420020, 255), "420020 | 05 | 00000004 | 000000FF 00000000"],
  ["Boolean true", boolean(0x420020, true), "420020 | 06 | 00000008 | 0000000000000001"],
  ["Text String Hello World", textString(0x420020, "Hello World"), "420020 | 07 | 0000000B | 48656C6C6F20576F 726C640000000000"],
  ["Byte String 01 02 03", byteString(0x420020, Uint8Array.of(1, 2, 3)), "420020 | 08 | 00000003 | 0102030000000000"],
  ["Date-Time 2008-03-14T11:56:40Z", dateTime(0x420020, new Date("2008-03-14T11:56:40Z")), "420020 | 09 | 00000008 | 0000000047DA67F8"],
  ["Interval 10 days", interval(0x420020, 864000), "420020 | 0A | 00000004 | 000D2F00 00000000"],
  [
    "Structure of an Enumeration and an Integer",
    structure(0x420020, [enumeration(0x420004, 254), integer(0x420005, 255)]),
    "420020 | 01 | 00000020 | 420004 05 00000004 000000FE00000000 | 420005 02 00000004 000000FF00000000",
  ],
];

// The Get request PyKMIP 0.10 writes (KMIP 1.2, Unique Identifier "1"): ../shared/reference/kmip.md §1.3.
const PYKMIP_GET = hex(`
  4200780100000070
  4200770100000038
  4200690100000020
  42006a0200000004 0000000100000000
  42006b0200000004 0000000200000000
  42000d0200000004 0000000100000000
  42000f0100000028
  42005c0500000004 0000000a00000000
  4200790100000010
  4200940700000001 3100000000000000`);

describe("TTLV codec", () => {
  it.each(SPEC_EXAMPLES)("encodes and decodes the specification's %s example byte for byte", (_name, item, bytes) => {
    expect(encodeTtlv(item).toString("hex")).toBe(hex(bytes).toString("hex"));
    expect(decodeTtlv(hex(bytes))).toEqual(item);
  });

  it("encodes PyKMIP's 120-byte Get request byte for byte and decodes it back", () => {
    const request = structure(TAG.RequestMessage, [
      structure(TAG.RequestHeader, [structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, 1), integer(TAG.ProtocolVersionMinor, 2)]), integer(TAG.BatchCount, 1)]),
      structure(TAG.BatchItem, [enumeration(TAG.Operation, 0x0a), structure(TAG.RequestPayload, [textString(TAG.UniqueIdentifier, "1")])]),
    ]);
    const encoded = encodeTtlv(request);
    expect(encoded.length).toBe(120);
    expect(encoded.equals(PYKMIP_GET)).toBe(true);
    expect(decodeTtlv(PYKMIP_GET)).toEqual(request);
  });

  it.each([
    ["-1", -1n, "FFFFFFFFFFFFFFFF"],
    ["0", 0n, "0000000000000000"],
    ["2^63 (needs a sign byte)", 1n << 63n, "00000000000000008000000000000000"],
    ["-2^63", -(1n << 63n), "8000000000000000"],
  ])("big integer %s is two's complement, sign-extended to 8-byte blocks", (_name, value, valueHex) => {
    const encoded = encodeTtlv(bigInteger(TAG.Modulus, value));
    expect(encoded.subarray(8).toString("hex").toUpperCase()).toBe(valueHex);
    expect(decodeTtlv(encoded)).toEqual(bigInteger(TAG.Modulus, value));
  });

  it("round-trips UTF-8 text, empty strings, long integers at the edges and false", () => {
    const item = structure(TAG.Attribute, [
      textString(TAG.AttributeName, "Név ✓ 鍵"),
      textString(TAG.AttributeValue, ""),
      byteString(TAG.Data, new Uint8Array(0)),
      longInteger(TAG.UsageLimitsTotal, -(1n << 63n)),
      longInteger(TAG.UsageLimitsCount, (1n << 63n) - 1n),
      boolean(TAG.Sensitive, false),
      { tag: TAG.ActivationDate, type: ITEM_TYPE.DateTimeExtended, value: 1_700_000_000_123_456n },
      integer(TAG.CryptographicLength, -(2 ** 31)),
      enumeration(TAG.State, 2 ** 32 - 1),
    ]);
    expect(decodeTtlv(encodeTtlv(item))).toEqual(item);
  });

  it("refuses to encode values that do not fit their type", () => {
    expect(() => encodeTtlv(integer(TAG.CryptographicLength, 2 ** 31))).toThrow(RangeError);
    expect(() => encodeTtlv(enumeration(TAG.State, -1))).toThrow(RangeError);
    expect(() => encodeTtlv(integer(TAG.CryptographicLength, 1.5))).toThrow(RangeError);
    expect(() => encodeTtlv(longInteger(TAG.UsageLimitsTotal, 1n << 63n))).toThrow(RangeError);
    expect(() => encodeTtlv(integer(0x1000000, 1))).toThrow(RangeError);
  });

  const problems: [string, string, TtlvProblem][] = [
    ["an empty input", "", "truncated"],
    ["a truncated header", "42007801000000", "truncated"],
    ["a declared length beyond the data", "420020 02 00000004 00000008", "length"],
    ["a structure longer than its bytes", "420020 01 00000018 420004 05 00000004 000000FE00000000", "length"],
    ["an integer of 8 bytes", "420020 02 00000008 0000000000000008", "length"],
    ["an enumeration of 2 bytes", "420020 05 00000002 0001000000000000", "length"],
    ["a boolean of 4 bytes", "420020 06 00000004 0000000100000000", "length"],
    ["a date-time of 4 bytes", "420020 09 00000004 47DA67F800000000", "length"],
    ["a big integer of 4 bytes", "420020 04 00000004 0000000100000000", "length"],
    ["an empty big integer", "420020 04 00000000", "length"],
    ["non-zero padding after an integer", "420020 02 00000004 0000000800000001", "padding"],
    ["non-zero padding after a text string", "420020 07 00000001 3100000000000100", "padding"],
    ["a structure length that is not a multiple of 8", "420020 01 0000000C 420004 05 00000004 000000FE 00000000", "length"],
    ["a child that runs past its structure", "420020 01 00000008 420004 05 00000004 000000FE00000000", "length"],
    ["bytes after the item", "420020 02 00000004 0000000800000000 00", "trailing"],
    ["a boolean of 2", "420020 06 00000008 0000000000000002", "value"],
    ["text that is not UTF-8", "420020 07 00000002 C328000000000000", "value"],
    ["an unknown item type", "420020 0C 00000004 0000000100000000", "type"],
    ["item type 0", "420020 00 00000000", "type"],
  ];

  it.each(problems)("refuses %s", (_name, bytes, problem) => {
    let thrown: unknown;
    try {
      decodeTtlv(hex(bytes));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TtlvError);
    expect((thrown as TtlvError).problem).toBe(problem);
  });

  it("refuses nesting deeper than the limit, and accepts it at the limit", () => {
    let item: TtlvItem = integer(TAG.CryptographicLength, 1);
    for (let depth = 0; depth < 4; depth++) item = structure(TAG.Attribute, [item]);
    const bytes = encodeTtlv(item);
    expect(decodeTtlv(bytes, { maxDepth: 4 })).toEqual(item);
    expect(() => decodeTtlv(bytes, { maxDepth: 3 })).toThrow(expect.objectContaining({ problem: "depth" }));
  });

  it("decodes a 10,000-deep nest of empty structures only as far as the limit (no stack overflow)", () => {
    const depth = 10_000;
    const bytes = Buffer.alloc(depth * 8);
    for (let i = 0; i < depth; i++) {
      bytes.writeUIntBE(0x420008, i * 8, 3);
      bytes[i * 8 + 3] = 0x01;
      bytes.writeUInt32BE((depth - i - 1) * 8, i * 8 + 4);
    }
    expect(() => decodeTtlv(bytes)).toThrow(expect.objectContaining({ problem: "depth" }));
  });
});

import { describe, expect, it } from "vitest";
import { DomainError } from "../../../shared/domain-error.js";
import { readBigInt, readBitString, readBoolean, readDer, readOctetString, readOid, readString, readTime } from "./der-reader.js";
import {
  concatBytes,
  derBitString,
  derBoolean,
  derContextExplicit,
  derContextImplicit,
  derIa5String,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derUtf8String,
} from "./der-writer.js";

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));

describe("derInteger", () => {
  it.each([
    ["bytes 00 00 01 drop leading zeros", hex("000001"), "020101"],
    ["bytes 80 gain a sign octet", hex("80"), "02020080"],
    ["empty bytes are zero", hex(""), "020100"],
    ["all-zero bytes are zero", hex("0000"), "020100"],
    ["bigint 0", 0n, "020100"],
    ["bigint 127", 127n, "02017f"],
    ["bigint 128", 128n, "02020080"],
    ["bigint -1", -1n, "0201ff"],
    ["bigint -128", -128n, "020180"],
    ["bigint -129", -129n, "0202ff7f"],
    ["number 65537", 65537, "0203010001"],
  ])("%s", (_name, value, expected) => {
    expect(hexOf(derInteger(value))).toBe(expected);
  });

  it.each([0n, 1n, -1n, 255n, 256n, -256n, 2n ** 159n, -(2n ** 159n) + 3n])("round-trips %s", (n) => {
    expect(readBigInt(readDer(derInteger(n)))).toBe(n);
  });

  it("refuses a number that is not a safe integer", () => {
    expect(() => derInteger(2 ** 60)).toThrow(DomainError);
  });
});

describe("derOid", () => {
  it.each([
    ["1.2.840.113549.1.1.11", "06092a864886f70d01010b"],
    ["2.5.29.17", "0603551d11"],
    ["2.999.3", "0603883703"],
    ["0.9.2342.19200300.100.1.25", "060a0992268993f22c640119"],
  ])("%s", (dotted, expected) => {
    expect(hexOf(derOid(dotted))).toBe(expected);
    expect(readOid(readDer(derOid(dotted)))).toBe(dotted);
  });

  it("round-trips a 128-bit arc", () => {
    const oid = "2.25.329800735698586629295641978511506172918";
    expect(readOid(readDer(derOid(oid)))).toBe(oid);
  });

  it.each(["", "1", "1.", "3.1", "1.40", "1.02.3", "1..2", "a.b"])("refuses %j", (dotted) => {
    expect(() => derOid(dotted)).toThrow(DomainError);
  });
});

describe("other encoders", () => {
  it("writes fixed forms", () => {
    expect(hexOf(derBoolean(true))).toBe("0101ff");
    expect(hexOf(derBoolean(false))).toBe("010100");
    expect(hexOf(derNull())).toBe("0500");
    expect(hexOf(derBitString(hex("80"), 7))).toBe("03020780");
    expect(hexOf(derOctetString(hex("abcd")))).toBe("0402abcd");
    expect(hexOf(derContextExplicit(0, hex("020102")))).toBe("a003020102");
    expect(hexOf(derContextImplicit(2, hex("6162")))).toBe("82026162");
    expect(hexOf(derContextImplicit(0, hex("020101"), true))).toBe("a003020101");
    expect(hexOf(derSequence())).toBe("3000");
    expect(hexOf(concatBytes(hex("01"), hex(""), hex("0203")))).toBe("010203");
  });

  it("sorts SET OF members by encoding (X.690 §11.6)", () => {
    expect(hexOf(derSet(hex("0402ffff"), hex("020101"), hex("0401ff")))).toBe("310a0201010401ff0402ffff");
  });

  it("uses long-form lengths exactly when needed", () => {
    expect(hexOf(derOctetString(new Uint8Array(127))).slice(0, 4)).toBe("047f");
    expect(hexOf(derOctetString(new Uint8Array(128))).slice(0, 6)).toBe("048180");
    expect(hexOf(derOctetString(new Uint8Array(256))).slice(0, 8)).toBe("04820100");
    expect(hexOf(derOctetString(new Uint8Array(70000))).slice(0, 10)).toBe("0483011170");
    expect(readOctetString(readDer(derOctetString(new Uint8Array(70000))))).toHaveLength(70000);
  });

  it.each([
    ["BIT STRING with set unused bits", () => derBitString(hex("81"), 7)],
    ["BIT STRING with 8 unused bits", () => derBitString(hex("00"), 8)],
    ["empty BIT STRING with unused bits", () => derBitString(hex(""), 1)],
    ["PrintableString with @", () => derPrintableString("a@b")],
    ["IA5String with é", () => derIa5String("é")],
    ["UTF8String with a lone surrogate", () => derUtf8String("\ud800x")],
    ["context tag 31", () => derContextExplicit(31, hex("0500"))],
  ])("refuses %s", (_name, fn) => {
    expect(fn).toThrow(DomainError);
  });

  it("round-trips values through the reader", () => {
    expect(readBoolean(readDer(derBoolean(true)))).toBe(true);
    expect(readBitString(readDer(derBitString(hex("a0"), 5)))).toEqual({ bytes: hex("a0"), unusedBits: 5 });
    expect(readString(readDer(derUtf8String("système:nœud 😀")))).toBe("système:nœud 😀");
    expect(readString(readDer(derPrintableString("Kube (A) +1")))).toBe("Kube (A) +1");
    expect(readString(readDer(derIa5String("a@b.example")))).toBe("a@b.example");
  });
});

describe("derTime (RFC 5280 §4.1.2.5)", () => {
  it.each([
    ["1950 is the first UTCTime year", "1950-01-01T00:00:00Z", "170d3530303130313030303030305a"],
    ["2049 is the last UTCTime year", "2049-12-31T23:59:59Z", "170d3439313233313233353935395a"],
    ["2050 becomes GeneralizedTime", "2050-01-01T00:00:00Z", "180f32303530303130313030303030305a"],
    ["1949 becomes GeneralizedTime", "1949-12-31T23:59:59Z", "180f31393439313233313233353935395a"],
    ["milliseconds are truncated", "2030-06-15T08:09:10.999Z", "170d3330303631353038303931305a"],
  ])("%s", (_name, iso, expected) => {
    expect(hexOf(derTime(new Date(iso)))).toBe(expected);
  });

  it.each(["1950-01-01T00:00:00Z", "2049-12-31T23:59:59Z", "2050-01-01T00:00:00Z", "1949-12-31T23:59:59Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])(
    "round-trips %s",
    (iso) => {
      expect(readTime(readDer(derTime(new Date(iso)))).toISOString()).toBe(new Date(iso).toISOString());
    },
  );

  it("agrees with toISOString on 20,000 spread-out instants, including pre-1970 and leap days", () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const min = Date.parse("0000-01-01T00:00:00Z");
    const span = Date.parse("9999-12-31T23:59:59Z") - min;
    for (let i = 0; i < 20_000; i++) {
      const date = new Date(Math.floor(min + next() * span));
      const text = Buffer.from(derTime(date).subarray(2)).toString("latin1");
      const iso = date.toISOString().replace(/[-:T]/g, "").replace(/\.\d{3}/, "");
      expect(text).toBe(date.getUTCFullYear() >= 1950 && date.getUTCFullYear() <= 2049 ? iso.slice(2) : iso);
    }
  });

  it("refuses an invalid date and years beyond 9999", () => {
    expect(() => derTime(new Date(Number.NaN))).toThrow(DomainError);
    expect(() => derTime(new Date("+010000-01-01T00:00:00Z"))).toThrow(DomainError);
  });
});

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newSerialNumber, serialHex } from "./serial-number.js";

describe("newSerialNumber", () => {
  it.each([0x00, 0x7f, 0x80, 0xff])("is 16 bytes, positive and needs no sign byte when random starts with %i", (first) => {
    const serial = newSerialNumber({ bytes: (n) => Uint8Array.from([first, ...randomBytes(n - 1)]) });
    expect(serial).toHaveLength(16);
    expect(serial[0]! & 0x80).toBe(0); // positive (RFC 5280 §4.1.2.2)
    expect(serial[0]! & 0x40).toBe(0x40); // minimal DER: no leading zero byte
    expect(serialHex(serial)).toMatch(/^[4-7][0-9a-f]{31}$/);
  });

  it("keeps 126 bits of the random source", () => {
    const serial = newSerialNumber({ bytes: (n) => new Uint8Array(n).fill(0xaa) });
    expect(serialHex(serial)).toBe("6a" + "aa".repeat(15));
  });
});

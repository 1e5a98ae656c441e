import { describe, expect, it } from "vitest";
import { formatIpAddress, parseIpAddress } from "./ip-address.js";

const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString("hex") : undefined);

describe("parseIpAddress", () => {
  it.each([
    ["10.0.0.1", "0a000001"],
    ["255.255.255.255", "ffffffff"],
    ["0.0.0.0", "00000000"],
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["2001:db8::1", "20010db8000000000000000000000001"],
    ["2001:DB8:0:0:0:0:0:1", "20010db8000000000000000000000001"],
    ["fe80::", "fe800000000000000000000000000000"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
  ])("%s", (text, octets) => {
    expect(hex(parseIpAddress(text))).toBe(octets);
  });

  it.each(["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "::g", "12345::", "1.2.3.4::", "1:2:3:4:5:6:7::8", "fe80::1%eth0", "example.com"])(
    "refuses %j",
    (text) => {
      expect(parseIpAddress(text)).toBeUndefined();
    },
  );
});

describe("formatIpAddress (RFC 5952)", () => {
  it.each([
    ["0a000001", "10.0.0.1"],
    ["20010db8000000000000000000000001", "2001:db8::1"],
    ["20010db8000000010000000000000001", "2001:db8:0:1::1"], // longest run wins
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"], // first of equal runs
    ["20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"], // a single zero group is not compressed
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["fe800000000000000000000000000000", "fe80::"],
    ["00000000000000000000ffffc0000201", "::ffff:192.0.2.1"],
    ["20010DB8ABCD00000000000000000000".toLowerCase(), "2001:db8:abcd::"],
  ])("%s → %s", (octets, text) => {
    const bytes = Uint8Array.from(Buffer.from(octets, "hex"));
    expect(formatIpAddress(bytes)).toBe(text);
    expect(hex(parseIpAddress(text))).toBe(octets);
  });

  it("refuses other lengths", () => {
    expect(() => formatIpAddress(new Uint8Array(5))).toThrow(RangeError);
  });
});

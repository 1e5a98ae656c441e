import { describe, expect, it } from "vitest";
import { AddressRanges, parseAddressRange } from "./address-ranges.js";

describe("AddressRanges", () => {
  it("matches IPv4 and IPv6 ranges, single hosts and IPv4-mapped peers", () => {
    const ranges = AddressRanges.parse(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]);
    expect(ranges.contains("10.255.1.2")).toBe(true);
    expect(ranges.contains("::ffff:10.1.2.3")).toBe(true);
    expect(ranges.contains("11.0.0.1")).toBe(false);
    expect(ranges.contains("192.0.2.7")).toBe(true);
    expect(ranges.contains("192.0.2.8")).toBe(false);
    expect(ranges.contains("2001:db8:1::5")).toBe(true);
    expect(ranges.contains("2001:db9::5")).toBe(false);
    expect(ranges.contains("not-an-address")).toBe(false);
  });

  it.each([
    ["10.0.0.0/33", "the prefix length must be 0–32"],
    ["::/129", "the prefix length must be 0–128"],
    ["10.0.0.0/x", "the prefix length must be a number 0–32"],
    ["10.0.0/8", "is not an IP address or CIDR range"],
    ["example.com", "is not an IP address or CIDR range"],
    ["10.0.0.0/8/8", "is not an IP address or CIDR range"],
    ["", "is not an IP address or CIDR range"],
  ])("refuses %j", (text, reason) => {
    expect(() => parseAddressRange(text)).toThrow(reason);
  });
});

import { BlockList, isIP } from "node:net";

/**
 * A set of IP address ranges in CIDR notation (RFC 4632 for IPv4, RFC 4291 §2.3 for IPv6), e.g.
 * `10.0.0.0/8`, `2001:db8::/32`; a bare address is a single host (/32 or /128). IPv4-mapped IPv6
 * addresses (`::ffff:10.1.2.3`, how a dual-stack socket reports an IPv4 peer) match IPv4 ranges.
 */
export class AddressRanges {
  private readonly list = new BlockList();

  private constructor(readonly ranges: readonly string[]) {
    for (const range of ranges) {
      const { address, prefix, family } = parseAddressRange(range);
      this.list.addSubnet(address, prefix, family);
    }
  }

  /** Parses every range; throws an Error naming the first bad one. */
  static parse(ranges: readonly string[]): AddressRanges {
    return new AddressRanges(ranges);
  }

  contains(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

/** One CIDR range; throws an Error with a reason an operator can act on. */
export function parseAddressRange(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [address = "", prefixText, extra] = text.trim().split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined) throw new Error(`${JSON.stringify(text)} is not an IP address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`);
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw new Error(`${JSON.stringify(text)}: the prefix length must be a number 0–${bits}`);
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) throw new Error(`${JSON.stringify(text)}: the prefix length must be 0–${bits}`);
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

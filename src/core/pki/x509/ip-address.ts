// IP address text ↔ the 4- or 16-octet form of an iPAddress GeneralName (RFC 5280 §4.2.1.6).

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Octets of an IPv4 dotted quad (no leading zeros) or an IPv6 address (RFC 4291 §2.2); undefined if neither. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (IPV4.test(text)) return Uint8Array.from(text.split(".").map(Number));
  return text.includes(":") ? parseIpv6(text) : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? "";
      if (i === groups.length - 1 && IPV4.test(g)) {
        // Embedded IPv4 in the last 32 bits (RFC 4291 §2.2 form 3).
        const [a = 0, b = 0, c = 0, d = 0] = g.split(".").map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else if (HEX_GROUP.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  // "::" must stand for at least one zero group (RFC 4291 §2.2); without it there must be eight.
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  // An embedded IPv4 part may only close the address.
  if (halves.length === 2 && head.length > 0 && (halves[0] ?? "").includes(".")) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Canonical text: IPv4 dotted quad, IPv6 per RFC 5952 (lower case, longest zero run as "::"). */
export function formatIpAddress(octets: Uint8Array): string {
  if (octets.length === 4) return Array.from(octets).join(".");
  if (octets.length !== 16) throw new RangeError(`an IP address has 4 or 16 octets, not ${octets.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((octets[i] ?? 0) << 8) | (octets[i + 1] ?? 0));
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(octets.subarray(12)).join(".")}`;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero groups; the first on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

import type { RandomSource } from "../shared/random.js";

/** Serial length in bytes: 126 random bits, far above the 64 that CA/B BR §7.1 requires. */
const SERIAL_BYTES = 16;

/**
 * A fresh certificate serial number as DER INTEGER contents: positive (top bit clear) and of fixed
 * length (second-highest bit set, so no leading zero byte is needed), ≤ 20 octets (RFC 5280 §4.1.2.2).
 */
export function newSerialNumber(random: RandomSource): Uint8Array {
  const bytes = random.bytes(SERIAL_BYTES);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes;
}

/** Lower-case hex of serial contents, the form stored and shown. */
export function serialHex(serial: Uint8Array): string {
  return Buffer.from(serial).toString("hex");
}

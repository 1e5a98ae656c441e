import type { RandomSource } from "./random.js";

declare const brand: unique symbol;
/** A string that the type system keeps apart from other strings. */
export type Branded<T, B extends string> = T & { readonly [brand]: B };

export type CaId = Branded<string, "CaId">;
export type CertificateId = Branded<string, "CertificateId">;
export type KeyMaterialId = Branded<string, "KeyMaterialId">;
export type TokenId = Branded<string, "TokenId">;

/**
 * A UUIDv7 (RFC 9562 §5.7): 48-bit millisecond timestamp then random bits. Ids sort by creation
 * time, so keyset pagination by id is also pagination by age, and B-tree inserts stay append-only.
 */
export function newId<T extends string>(now: Date, random: RandomSource): T {
  const bytes = random.bytes(16);
  let ms = BigInt(now.getTime());
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` as T;
}

/** Matches the canonical textual form of a UUID (any version). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

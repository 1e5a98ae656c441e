/** Randomness port: serials, ids and tokens come from here so tests can make them reproducible. */
export interface RandomSource {
  /** Cryptographically secure random bytes. */
  bytes(length: number): Uint8Array;
}

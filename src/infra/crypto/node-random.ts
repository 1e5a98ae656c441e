import { randomBytes } from "node:crypto";
import type { RandomSource } from "../../core/shared/random.js";

/** The production `RandomSource`: the operating system CSPRNG through `crypto.randomBytes`. */
export class NodeRandomSource implements RandomSource {
  bytes(length: number): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`random byte count must be a non-negative integer, got ${length}`);
    return randomBytes(length);
  }
}

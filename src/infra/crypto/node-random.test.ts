import { describe, expect, it } from "vitest";
import { NodeRandomSource } from "./node-random.js";

describe("NodeRandomSource", () => {
  const random = new NodeRandomSource();

  it.each([0, 1, 12, 32, 4096])("returns %i bytes", (length) => {
    const bytes = random.bytes(length);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes).toHaveLength(length);
  });

  it("does not repeat itself", () => {
    const seen = new Set(Array.from({ length: 100 }, () => Buffer.from(random.bytes(16)).toString("hex")));
    expect(seen.size).toBe(100);
  });

  it.each([-1, 1.5, Number.NaN])("refuses the length %s", (length) => {
    expect(() => random.bytes(length)).toThrow(RangeError);
  });
});

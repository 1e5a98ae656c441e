import { describe, expect, it } from "vitest";
import { UUID_PATTERN, newId } from "./ids.js";

const fixedRandom = (byte: number) => ({ bytes: (n: number) => new Uint8Array(n).fill(byte) });

describe("newId (UUIDv7)", () => {
  it("is a version-7, variant-10 UUID carrying the millisecond timestamp", () => {
    const at = new Date("2026-11-27T12:00:00.123Z");
    const id = newId<string>(at, fixedRandom(0xff));
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at.getTime());
  });

  it("sorts by creation time", () => {
    const earlier = newId<string>(new Date(1_000), fixedRandom(0xff));
    const later = newId<string>(new Date(1_001), fixedRandom(0x00));
    expect(earlier < later).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { LruCache } from "./lru-cache.js";

describe("LruCache", () => {
  it("evicts the least recently used entry; get refreshes, peek does not", () => {
    const cache = new LruCache<number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now newest
    cache.set("c", 3); // evicts b
    expect([cache.peek("a"), cache.peek("b"), cache.peek("c")]).toEqual([1, undefined, 3]);
    expect(cache.peek("a")).toBe(1); // does not refresh a
    cache.set("d", 4); // evicts a (c was used more recently through set)
    expect([cache.peek("a"), cache.peek("c"), cache.peek("d")]).toEqual([undefined, 3, 4]);
    expect(cache.size).toBe(2);
  });

  it("replacing a value does not grow the cache", () => {
    const cache = new LruCache<string>(1);
    cache.set("k", "old");
    cache.set("k", "new");
    expect(cache.size).toBe(1);
    expect(cache.get("k")).toBe("new");
    expect(cache.delete("k")).toBe(true);
    expect(cache.size).toBe(0);
  });

  it.each([0, -1, 1.5])("refuses capacity %s", (capacity) => {
    expect(() => new LruCache(capacity)).toThrow(RangeError);
  });
});

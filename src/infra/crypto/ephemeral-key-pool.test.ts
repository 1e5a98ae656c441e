import { createPrivateKey, createPublicKey } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import type { EphemeralKeyPair } from "../../core/pki/ports.js";
import { EphemeralKeyPool } from "./ephemeral-key-pool.js";
import { keyAlgorithmOf } from "./private-key-info.js";

/** Checks a real key pair: parses, is of the stated algorithm, and its halves match. */
function expectRealPair(pair: EphemeralKeyPair, algorithm: KeyAlgorithm): void {
  const privateKey = createPrivateKey({ key: Buffer.from(pair.privateKeyPkcs8), format: "der", type: "pkcs8" });
  expect(pair.algorithm).toBe(algorithm);
  expect(keyAlgorithmOf(privateKey)).toBe(algorithm);
  expect(createPublicKey(privateKey).export({ format: "der", type: "spki" }).equals(Buffer.from(pair.publicKeySpki))).toBe(true);
}

const fingerprint = (pair: EphemeralKeyPair): string => Buffer.from(pair.publicKeySpki).toString("base64");

/**
 * A fast stand-in generator: numbered fake pairs, so the tests can tell pooled keys from
 * on-demand ones, count generations and see what the pool wiped.
 */
function fakeGenerator(options: { failures?: number } = {}) {
  let made = 0;
  let running = 0;
  let failures = options.failures ?? 0;
  const produced: EphemeralKeyPair[] = [];
  const generate = async (algorithm: KeyAlgorithm): Promise<EphemeralKeyPair> => {
    running++;
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    if (failures > 0) {
      failures--;
      throw new Error("entropy pool on fire");
    }
    made++;
    const pair = { algorithm, privateKeyPkcs8: Uint8Array.of(made, 0xaa), publicKeySpki: new TextEncoder().encode(`${algorithm}#${made}`) };
    produced.push(pair);
    return pair;
  };
  return { generate, produced, made: () => made, running: () => running };
}

const pools: EphemeralKeyPool[] = [];
function track(pool: EphemeralKeyPool): EphemeralKeyPool {
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
});

describe("EphemeralKeyPool with real keys", () => {
  it.each(["ECDSA-P256", "ECDSA-P384", "Ed25519"] as const)("makes distinct, valid %s keys on demand", async (algorithm) => {
    const pool = track(new EphemeralKeyPool());
    const pairs = await Promise.all(Array.from({ length: 8 }, () => pool.generate(algorithm)));
    for (const pair of pairs) expectRealPair(pair, algorithm);
    expect(new Set(pairs.map(fingerprint)).size).toBe(8);
    expect(pool.readyCount(algorithm)).toBe(0);
  });

  it("hands out a pooled RSA-2048 key once, then makes the next one on demand", async () => {
    const pool = track(new EphemeralKeyPool({ poolSizes: { "RSA-2048": 1, "RSA-3072": 0, "RSA-4096": 0 } }));
    pool.start();
    await pool.whenFilled();
    expect(pool.readyCount("RSA-2048")).toBe(1);
    const [first, second] = await Promise.all([pool.generate("RSA-2048"), pool.generate("RSA-2048")]);
    if (first === undefined || second === undefined) throw new Error("unreachable");
    expectRealPair(first, "RSA-2048");
    expectRealPair(second, "RSA-2048");
    expect(fingerprint(first)).not.toBe(fingerprint(second));
  });

  it("makes RSA-3072 on demand when its pool is off", async () => {
    const pool = track(new EphemeralKeyPool({ poolSizes: { "RSA-2048": 0, "RSA-3072": 0, "RSA-4096": 0 } }));
    expectRealPair(await pool.generate("RSA-3072"), "RSA-3072");
  });
});

describe("EphemeralKeyPool bookkeeping", () => {
  it("fills every RSA pool to its size, hands each pooled key out exactly once, and refills", async () => {
    const fake = fakeGenerator();
    const pool = track(new EphemeralKeyPool({ poolSizes: { "RSA-2048": 4, "RSA-3072": 2, "RSA-4096": 1 }, generate: fake.generate }));
    pool.start();
    await pool.whenFilled();
    expect([pool.readyCount("RSA-2048"), pool.readyCount("RSA-3072"), pool.readyCount("RSA-4096")]).toEqual([4, 2, 1]);
    const pooled = new Set(fake.produced.filter((p) => p.algorithm === "RSA-2048").map(fingerprint));

    const taken = await Promise.all(Array.from({ length: 10 }, () => pool.generate("RSA-2048")));
    const names = taken.map(fingerprint);
    expect(new Set(names).size).toBe(10); // nobody got the same key twice
    expect(names.slice(0, 4).every((name) => pooled.has(name))).toBe(true); // the ready ones went first
    expect(taken.every((pair) => pair.algorithm === "RSA-2048")).toBe(true);

    await pool.whenFilled(); // refilled in the background
    expect(pool.readyCount("RSA-2048")).toBe(4);
    const later = await pool.generate("RSA-2048");
    expect(names).not.toContain(fingerprint(later));
  });

  it("does not generate in the background when every pool size is 0", async () => {
    const fake = fakeGenerator();
    const pool = track(new EphemeralKeyPool({ poolSizes: { "RSA-2048": 0, "RSA-3072": 0, "RSA-4096": 0 }, generate: fake.generate }));
    pool.start();
    await pool.whenFilled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.made()).toBe(0);
  });

  it("retries after a failed background generation", async () => {
    const fake = fakeGenerator({ failures: 2 });
    const pool = track(new EphemeralKeyPool({ poolSizes: { "RSA-2048": 2, "RSA-3072": 0, "RSA-4096": 0 }, generate: fake.generate, retryDelayMs: 5 }));
    pool.start();
    await pool.whenFilled();
    expect(pool.readyCount("RSA-2048")).toBe(2);
  });

  it("stop() wipes and drops the ready keys, rejects waiters, and leaves no timer or generation pending", async () => {
    // Only timers are faked; the fake generator's setImmediate stays real.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const fake = fakeGenerator({ failures: 1 });
    const pool = new EphemeralKeyPool({ poolSizes: { "RSA-2048": 3, "RSA-3072": 0, "RSA-4096": 0 }, generate: fake.generate, retryDelayMs: 3_600_000 });
    pool.start();
    const waiting = pool.whenFilled();
    await vi.advanceTimersByTimeAsync(0); // the first refill starts…
    await settle(); // …and fails → an hour-long retry timer
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(3_600_000); // the retry fills the pool
    await waiting;
    expect(pool.readyCount("RSA-2048")).toBe(3);

    await pool.generate("RSA-2048"); // schedules a refill (timer)
    const stillWaiting = pool.whenFilled();
    await pool.stop();
    await expect(stillWaiting).rejects.toThrow("the ephemeral key pool was stopped");
    expect(vi.getTimerCount()).toBe(0);
    expect(fake.running()).toBe(0);
    expect(pool.readyCount("RSA-2048")).toBe(0);
    const left = fake.produced.slice(1); // the first one was handed out
    expect(left).toHaveLength(2);
    for (const pair of left) expect([...pair.privateKeyPkcs8]).toEqual([0, 0]);
    await expect(pool.whenFilled()).rejects.toThrow("not running");
  });

  it("stop() waits for a generation already running and discards its key", async () => {
    const fake = fakeGenerator();
    const pool = new EphemeralKeyPool({ poolSizes: { "RSA-2048": 5, "RSA-3072": 0, "RSA-4096": 0 }, generate: fake.generate });
    pool.start();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fake.running()).toBe(1);
    await pool.stop();
    expect(fake.running()).toBe(0);
    expect(pool.readyCount("RSA-2048")).toBe(0);
    const made = fake.made();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.made()).toBe(made); // nothing started after stop()
  });

  it("still serves on demand after stop()", async () => {
    const fake = fakeGenerator();
    const pool = new EphemeralKeyPool({ generate: fake.generate });
    await pool.stop();
    expect((await pool.generate("RSA-4096")).algorithm).toBe("RSA-4096");
  });

  it.each([-1, 1.5, Number.NaN])("refuses the pool size %s", (size) => {
    expect(() => new EphemeralKeyPool({ poolSizes: { "RSA-2048": size } })).toThrow("pool size for RSA-2048 must be a non-negative integer");
  });

  it("refuses an unknown algorithm", async () => {
    const pool = new EphemeralKeyPool({ generate: fakeGenerator().generate });
    await expect(pool.generate("DSA-1024" as KeyAlgorithm)).rejects.toThrow("algorithm: unknown key algorithm DSA-1024");
  });
});

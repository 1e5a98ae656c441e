// The CI smoke of the KMIP fuzzer (test/fuzz/ttlv-fuzz.ts; `npm run fuzz:ttlv` runs it long): a
// few thousand mutated messages through the codec and the processor over a real key service, no
// property violated. The long run's figures are in bench/README.md.
import { describe, expect, it } from "vitest";
import { fuzz } from "../fuzz/ttlv-fuzz.js";

describe("KMIP fuzz smoke", () => {
  it("3,000 mutated messages: the codec returns or refuses, the processor always answers a response, nothing hangs", async () => {
    const report = await fuzz({ count: 3000, seed: 20260101, maxMillis: 90_000, timeoutMs: 10_000 });
    expect(report.violations).toEqual([]);
    expect(report.inputs).toBeGreaterThanOrEqual(1000);
    // The mutations reach every layer: codec refusals, message refusals, operations run.
    expect(report.codecAccepted).toBeGreaterThan(report.inputs / 10);
    expect(Object.keys(report.codecProblems).length).toBeGreaterThanOrEqual(3);
    expect(report.responses.Success ?? 0).toBeGreaterThan(0);
    expect(Object.keys(report.responses).length).toBeGreaterThanOrEqual(5);
  }, 180_000);
});

import { describe, expect, it } from "vitest";
import { assembleCrl, crlSerials, encodeTbsCertList, type CrlEntry } from "./crl-builder.js";

describe("encodeTbsCertList", () => {
  it("encodes a CRL of 150,000 revoked certificates (no argument spread over the entries) that reads back whole", () => {
    const revocationDate = new Date("2026-11-01T00:00:00Z");
    const entries: CrlEntry[] = Array.from({ length: 150_000 }, (_, i) => ({
      serialNumber: Uint8Array.of(0x7b, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
      revocationDate,
      reasonCode: i % 2 === 0 ? 1 : 4,
    }));
    const tbs = encodeTbsCertList({
      issuerNameDer: Uint8Array.of(0x30, 0x00),
      authorityKeyId: new Uint8Array(20).fill(1),
      thisUpdate: revocationDate,
      nextUpdate: new Date("2026-11-08T00:00:00Z"),
      number: 7n,
      entries,
      signatureAlgorithm: "ECDSA-SHA256",
    });
    const serials = crlSerials(assembleCrl(tbs, "ECDSA-SHA256", new Uint8Array(72)));
    expect(serials.size).toBe(150_000);
    expect(serials.has("7b000000")).toBe(true);
    expect(serials.has("7b0249ef")).toBe(true);
  });
});

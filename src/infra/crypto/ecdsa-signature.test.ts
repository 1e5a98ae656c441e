import { generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ecdsaDerToP1363, ecdsaP1363ToDer } from "./ecdsa-signature.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s/g, ""), "hex"));

/** 32-byte field element with the given leading bytes, the rest 0x11. */
function field(prefix: string, size = 32): string {
  return (prefix + "11".repeat(size)).slice(0, size * 2);
}

describe("ecdsaP1363ToDer (RFC 3279 §2.2.3, X.690 minimal INTEGERs)", () => {
  it.each([
    ["plain r and s", field("01"), field("02"), `3044 0220${field("01")} 0220${field("02")}`],
    ["r with the high bit set gets a 0x00 prefix", field("80"), field("7f"), `3045 022100${field("80")} 0220${field("7f")}`],
    ["both with the high bit set", field("ff"), field("c0"), `3046 022100${field("ff")} 022100${field("c0")}`],
    // r: two zero bytes dropped (30 left); s: one zero dropped, then 0xff needs the 0x00 back (32).
    ["leading zero bytes are stripped", field("0000"), field("00ff"), `3042 021e${"11".repeat(30)} 022000ff${"11".repeat(30)}`],
    ["a one-byte r", "00".repeat(31) + "05", field("01"), `3025 020105 0220${field("01")}`],
    ["a one-byte r with the high bit set", "00".repeat(31) + "80", field("01"), `3026 02020080 0220${field("01")}`],
  ])("%s", (_, r, s, der) => {
    expect(hex(ecdsaP1363ToDer(fromHex(r + s)))).toBe(der.replace(/\s/g, ""));
  });

  it("handles P-384 sizes (48-byte r and s, 0x00 prefix on both)", () => {
    const r = field("80", 48);
    const s = field("ff", 48);
    const der = hex(ecdsaP1363ToDer(fromHex(r + s)));
    expect(der).toBe(`3066023100${r}023100${s}`);
  });

  it("uses the long length form past 127 bytes (P-521 sized input)", () => {
    const r = field("01", 66);
    const der = ecdsaP1363ToDer(fromHex(r + r));
    expect(hex(der.subarray(0, 3))).toBe("308188");
    expect(der).toHaveLength(3 + 0x88);
  });

  it.each([
    ["an odd length", new Uint8Array(63)],
    ["an empty signature", new Uint8Array(0)],
    ["a zero r", new Uint8Array(64).fill(1, 32)],
    ["a zero s", new Uint8Array(64).fill(1, 0, 32)],
  ])("refuses %s", (_, input) => {
    expect(() => ecdsaP1363ToDer(input)).toThrow();
  });

  it.each(["P-256", "P-384"] as const)("agrees with node:crypto on real %s signatures (many, to hit every length case)", (curve) => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
    const hash = curve === "P-256" ? "sha256" : "sha384";
    const size = curve === "P-256" ? 32 : 48;
    for (let i = 0; i < 300; i++) {
      const data = Buffer.from(`message ${i}`);
      const p1363 = sign(hash, data, { key: privateKey, dsaEncoding: "ieee-p1363" });
      const der = ecdsaP1363ToDer(p1363);
      expect(verify(hash, data, { key: publicKey, dsaEncoding: "der" }, der)).toBe(true);
      expect(hex(ecdsaDerToP1363(der, size))).toBe(hex(p1363));
    }
  });
});

describe("ecdsaDerToP1363", () => {
  it.each([
    ["a non-minimal INTEGER", `3045 022100${field("01")} 0220${field("02")}`],
    ["a negative INTEGER", `3044 0220${field("80")} 0220${field("02")}`],
    ["trailing bytes", `3044 0220${field("01")} 0220${field("02")} 00`],
    ["a truncated body", `3044 0220${field("01")} 0220${field("02").slice(0, 60)}`],
    ["a wrong outer tag", `3144 0220${field("01")} 0220${field("02")}`],
    ["an INTEGER longer than the field", `3046 022201${field("01")}01 0220${field("02")}`],
  ])("refuses %s", (_, der) => {
    expect(() => ecdsaDerToP1363(fromHex(der), 32)).toThrow("not a DER ECDSA-Sig-Value");
  });
});

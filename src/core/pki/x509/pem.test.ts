import { describe, expect, it } from "vitest";
import { DomainError } from "../../shared/domain-error.js";
import { pemDecodeAll, pemDecodeOne, pemEncode, pemLabelError } from "./pem.js";

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
}

describe("pemEncode", () => {
  it("writes 64-character lines and a trailing newline (RFC 7468 §2)", () => {
    const pem = pemEncode("CERTIFICATE", bytes(100));
    const lines = pem.split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines.slice(1, 4).map((l) => l.length)).toEqual([64, 64, 136 - 128]);
    expect(lines[4]).toBe("-----END CERTIFICATE-----");
    expect(pem.endsWith("-----\n")).toBe(true);
    expect(lines[1]).toBe(Buffer.from(bytes(100)).toString("base64").slice(0, 64));
  });

  it("an empty block does not decode", () => {
    expect(() => pemDecodeAll(pemEncode("X", bytes(0)))).toThrow(/not valid base64/);
  });

  it.each([1, 47, 48, 49, 96, 1000])("round-trips %i bytes", (n) => {
    expect(pemDecodeAll(pemEncode("CERTIFICATE REQUEST", bytes(n)))).toEqual([{ label: "CERTIFICATE REQUEST", der: bytes(n) }]);
  });

  it("refuses an invalid label", () => {
    expect(() => pemEncode("-BAD", bytes(3))).toThrow(DomainError);
  });
});

describe("pemDecodeAll", () => {
  const a = pemEncode("CERTIFICATE", bytes(70));
  const b = pemEncode("CERTIFICATE", bytes(20));

  it("reads several blocks with text, CRLF and indentation around them", () => {
    const text = `subject=CN=x\r\n${a.replace(/\n/g, "\r\n")}\r\nsome comment\n   ${b.trimEnd().split("\n").join("\n   ")}  \n\n`;
    const blocks = pemDecodeAll(text);
    expect(blocks.map((x) => x.der)).toEqual([bytes(70), bytes(20)]);
  });

  it.each([
    ["empty input", "", "pem: no PEM block found"],
    ["text without a block", "hello\nworld\n", "pem: no PEM block found"],
    ["mismatched END", a.replace("END CERTIFICATE", "END PRIVATE KEY"), "pem: BEGIN CERTIFICATE on line 1 ends with END PRIVATE KEY on line 4"],
    ["missing END", a.replace(/-----END[^\n]*\n/, ""), "pem: BEGIN CERTIFICATE on line 1 has no END line"],
    ["END without BEGIN", a.replace(/-----BEGIN[^\n]*\n/, ""), "pem: END CERTIFICATE on line 3 without a matching BEGIN"],
    ["nested BEGIN", a.replace("\n", "\n-----BEGIN X-----\n"), "pem: BEGIN X on line 2 inside the CERTIFICATE block opened on line 1"],
    ["bad character", a.replace(/\n(.)/, "\n!"), "pem: invalid base64 on line 2"],
    ["missing padding", "-----BEGIN X-----\nAAE\n-----END X-----\n", "pem: the X block on line 1 is not valid base64"],
    ["padding in the middle", "-----BEGIN X-----\nAA==AAAA\n-----END X-----\n", "pem: the X block on line 1 is not valid base64"],
    ["non-canonical trailing bits", "-----BEGIN X-----\nAB==\n-----END X-----\n", "pem: the X block on line 1 is not valid base64"],
    ["RFC 1421 headers", "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAA==\n-----END X-----\n", "pem: PEM headers (RFC 1421) are not accepted, line 2"],
  ])("refuses %s", (_name, text, message) => {
    const error = refusal(() => pemDecodeAll(text));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe(message);
  });
});

describe("pemDecodeOne", () => {
  const csr = pemEncode("CERTIFICATE REQUEST", bytes(30));
  it("returns the DER of the one accepted block", () => {
    expect(pemDecodeOne(csr, ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "csr")).toEqual(bytes(30));
  });

  it.each([
    ["a wrong label", pemEncode("CERTIFICATE", bytes(3)), 'csr: PEM block 1 is "CERTIFICATE", expected "CERTIFICATE REQUEST"'],
    ["two blocks", csr + csr, "csr: expected one PEM block, found 2"],
    ["no block", "nothing here", "csr: no PEM block found"],
  ])("refuses %s, naming the field", (_name, text, message) => {
    const error = refusal(() => pemDecodeOne(text, ["CERTIFICATE REQUEST"], "csr"));
    expect(error.message).toBe(message);
    expect(error.detail.field).toBe("csr");
  });

  it("pemLabelError numbers blocks from 1", () => {
    expect(pemLabelError("chain", 2, "PRIVATE KEY").message).toBe('chain: PEM block 3 is "PRIVATE KEY", expected "CERTIFICATE"');
  });
});

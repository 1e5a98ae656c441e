import { describe, expect, it } from "vitest";
import { DomainError } from "../../shared/domain-error.js";
import { refusal } from "./testing/refusal.js";
import { readDer } from "./der/der-reader.js";
import {
  decodeGeneralName,
  decodeGeneralNames,
  dnsNameProblem,
  emailProblem,
  encodeGeneralName,
  encodeGeneralNames,
  formatGeneralName,
  parseGeneralNameText,
  uriProblem,
  type GeneralName,
} from "./general-name.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const node = (h: string) => readDer(Uint8Array.from(Buffer.from(h, "hex")));

describe("syntax checks", () => {
  it.each(["kubernetes", "kubernetes.default.svc.cluster.local", "*.apps.example.com", "a-b.c0", "123.example", "xn--bcher-kva.example", `${"a".repeat(63)}.b`, `${"a.".repeat(126)}b`])(
    "DNS name %s is valid",
    (name) => {
      expect(dnsNameProblem(name)).toBeUndefined();
    },
  );

  it.each(["", "-a.com", "a-.com", "a..com", "a.com.", "a_b.com", "*.", "*", "a.*.com", "**.a.com", "a b", "é.com", `${"a".repeat(64)}.b`, `${"a.".repeat(127)}b`])(
    "DNS name %j is invalid",
    (name) => {
      expect(dnsNameProblem(name)).toBeDefined();
    },
  );

  it.each([
    ["admin@example.com", true],
    ["first.last+tag@sub.example.org", true],
    ["o'hara@example.com", true],
    ["@example.com", false],
    ["a@", false],
    ["a..b@example.com", false],
    [".a@example.com", false],
    ["a b@example.com", false],
    ['"quoted"@example.com', false],
    ["a@*.example.com", false],
    ["a@b@c.com", false],
  ])("email %s valid: %s", (address, valid) => {
    expect(emailProblem(address) === undefined).toBe(valid);
  });

  it.each([
    ["https://example.com/ca.crl", true],
    ["spiffe://cluster.local/ns/default/sa/web", true],
    ["urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", true],
    ["ldap://ldap.example.com/cn=CA?certificateRevocationList", true],
    ["/relative/path", false],
    ["example.com", false],
    ["http://exa mple.com", false],
    ["1http://x", false],
    ["http:", false],
    ["http://é.example", false],
  ])("URI %s valid: %s", (uri, valid) => {
    expect(uriProblem(uri) === undefined).toBe(valid);
  });
});

describe("encode and decode", () => {
  it.each([
    [{ type: "dns", value: "a.b" }, "8203612e62"],
    [{ type: "email", value: "a@b.c" }, "8105614062 2e63".replace(" ", "")],
    [{ type: "uri", value: "urn:x" }, "860575726e3a78"],
    [{ type: "ip", value: "10.0.0.1" }, "87040a000001"],
    [{ type: "ip", value: "::1" }, "871000000000000000000000000000000001"],
  ] as [GeneralName, string][])("%j encodes as %s and decodes back", (gn, expected) => {
    expect(hex(encodeGeneralName(gn))).toBe(expected);
    expect(decodeGeneralName(node(expected), true)).toEqual(gn);
  });

  it("canonicalises IPv6 on encode/decode", () => {
    const der = encodeGeneralName({ type: "ip", value: "2001:DB8:0:0::1" });
    expect(decodeGeneralName(readDer(der), true)).toEqual({ type: "ip", value: "2001:db8::1" });
  });

  it("encodes GeneralNames as a SEQUENCE and refuses an empty list", () => {
    const der = encodeGeneralNames([{ type: "dns", value: "a" }, { type: "ip", value: "1.2.3.4" }]);
    expect(hex(der)).toBe("30098201618704" + "01020304");
    expect(decodeGeneralNames(readDer(der), true)).toEqual([{ type: "dns", value: "a" }, { type: "ip", value: "1.2.3.4" }]);
    expect(() => encodeGeneralNames([])).toThrow(DomainError);
  });

  it.each([
    [{ type: "dns", value: "a_b" }],
    [{ type: "dns", value: "é.example" }],
    [{ type: "ip", value: "1.2.3" }],
    [{ type: "email", value: "nope" }],
    [{ type: "uri", value: "relative" }],
  ] as [GeneralName][])("refuses to encode %j", (gn) => {
    expect(() => encodeGeneralName(gn)).toThrow(DomainError);
  });

  it.each([
    ["otherName", "a00a06032a0304a0030c0161", "subjectAltName: otherName entries are not supported (only DNS, IP, email and URI names)"],
    ["directoryName", "a4023000", "subjectAltName: directoryName entries are not supported (only DNS, IP, email and URI names)"],
    ["registeredID", "88032a0304", "subjectAltName: registeredID entries are not supported (only DNS, IP, email and URI names)"],
  ])("refuses %s as unsupported", (_name, input, message) => {
    const error = (() => {
      try {
        decodeGeneralName(node(input), true);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: "unsupported", message });
  });

  it.each([
    ["5-octet iPAddress", "87050102030405", "iPAddress must have 4 or 16 octets, found 5"],
    ["non-ASCII dNSName", "8201e9", "invalid IA5String"],
    ["constructed dNSName", "a2038201 61", "dNSName must be primitive"],
  ])("refuses a malformed %s", (_name, input, reason) => {
    expect(() => decodeGeneralName(node(input.replace(" ", "")), false)).toThrow(reason);
  });

  it("checks value syntax only in strict mode", () => {
    const der = node("8203615f62"); // dNSName "a_b"
    expect(decodeGeneralName(der, false)).toEqual({ type: "dns", value: "a_b" });
    expect(refusal(() => decodeGeneralName(der, true))).toMatchObject({ code: "invalid_input", message: 'subjectAltName: "a_b" is not a valid DNS name' });
  });
});

describe("text form", () => {
  it.each([
    ["DNS:kubernetes.default", { type: "dns", value: "kubernetes.default" }],
    ["IP:10.96.0.1", { type: "ip", value: "10.96.0.1" }],
    ["IP:fd00::10", { type: "ip", value: "fd00::10" }],
    ["email:ops@example.com", { type: "email", value: "ops@example.com" }],
    ["URI:spiffe://cluster.local/ns/a/sa/b", { type: "uri", value: "spiffe://cluster.local/ns/a/sa/b" }],
  ] as [string, GeneralName][])("%s", (text, gn) => {
    expect(parseGeneralNameText(text)).toEqual(gn);
    expect(formatGeneralName(gn)).toBe(text);
  });

  it("accepts any prefix case and canonicalises IPs", () => {
    expect(parseGeneralNameText("ip:FD00:0::10")).toEqual({ type: "ip", value: "fd00::10" });
    expect(parseGeneralNameText("dns:a.b")).toEqual({ type: "dns", value: "a.b" });
  });

  it.each(["kubernetes", "RID:1.2.3", "DNS:", "IP:300.1.1.1", "URI:nope"])("refuses %j", (text) => {
    expect(() => parseGeneralNameText(text, "sans")).toThrow(/^sans: /);
  });
});

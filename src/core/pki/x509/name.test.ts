import { describe, expect, it } from "vitest";
import { refusal } from "./testing/refusal.js";
import { readDer } from "./der/der-reader.js";
import { encodeName, formatName, nameFields, parseName, type DistinguishedName, type NameAttribute } from "./name.js";
import { AttributeOid } from "./oids.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const dn = (...rdns: NameAttribute[][]): DistinguishedName => ({ der: new Uint8Array(0), rdns });
const cn = (value: string): NameAttribute => ({ type: AttributeOid.commonName, value });

describe("encodeName", () => {
  it("writes one attribute per RDN in Go's order with UTF8String values and a PrintableString country", () => {
    const der = encodeName({
      commonName: "kubernetes-admin",
      organization: ["kubeadm:cluster-admins", "system:masters"],
      organizationalUnit: ["ops"],
      country: "DE",
      state: "Berlin",
      locality: "Kreuzberg",
    });
    const parsed = parseName(der);
    expect(parsed.rdns.map((rdn) => rdn.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(parsed.rdns.map((rdn) => rdn[0]?.type)).toEqual([
      AttributeOid.country,
      AttributeOid.state,
      AttributeOid.locality,
      AttributeOid.organization,
      AttributeOid.organization,
      AttributeOid.organizationalUnit,
      AttributeOid.commonName,
    ]);
    const tags = readDer(der).children.map((set) => set.children[0]?.children[1]?.tag);
    expect(tags).toEqual([0x13, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c]);
    expect(formatName(parsed)).toBe("CN=kubernetes-admin,OU=ops,O=system:masters,O=kubeadm:cluster-admins,L=Kreuzberg,ST=Berlin,C=DE");
    expect(parsed.der).toEqual(der);
  });

  it("encodes a single CN exactly", () => {
    // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String "a" } } }
    expect(hex(encodeName({ commonName: "a" }))).toBe("300c310a300806035504030c0161");
  });

  it("encodes no fields as the empty name", () => {
    expect(hex(encodeName({}))).toBe("3000");
    expect(parseName(encodeName({})).rdns).toEqual([]);
  });

  it("accepts the RFC 5280 upper bounds, counted in characters", () => {
    const name = parseName(encodeName({ commonName: "é".repeat(64), locality: "x".repeat(128), state: "y".repeat(128), organization: ["o".repeat(64)] }));
    expect(nameFields(name).commonName).toBe("é".repeat(64));
  });

  it.each([
    ["a 65-character CN", { commonName: "x".repeat(65) }, "subject.commonName: is 65 characters long; the maximum is 64 (RFC 5280 Appendix A.1)"],
    ["a 65-character O", { organization: ["x".repeat(65)] }, "subject.organization: is 65 characters long; the maximum is 64 (RFC 5280 Appendix A.1)"],
    ["a 65-character OU", { organizationalUnit: ["x".repeat(65)] }, "subject.organizationalUnit: is 65 characters long; the maximum is 64 (RFC 5280 Appendix A.1)"],
    ["a 129-character L", { locality: "x".repeat(129) }, "subject.locality: is 129 characters long; the maximum is 128 (RFC 5280 Appendix A.1)"],
    ["a 129-character ST", { state: "x".repeat(129) }, "subject.state: is 129 characters long; the maximum is 128 (RFC 5280 Appendix A.1)"],
    ["an empty CN", { commonName: "" }, "subject.commonName: must not be empty"],
    ["a newline", { commonName: "a\nb" }, "subject.commonName: must not contain control characters"],
    ["a NUL", { organization: ["a\u0000"] }, "subject.organization: must not contain control characters"],
    ["a C1 control", { commonName: "a\u0085" }, "subject.commonName: must not contain control characters"],
    ["a three-letter country", { country: "DEU" }, 'subject.country: "DEU" is not a two-letter country code'],
    ["a digit in the country", { country: "D1" }, 'subject.country: "D1" is not a two-letter country code'],
  ])("refuses %s", (_name, fields, message) => {
    expect(refusal(() => encodeName(fields))).toMatchObject({ code: "invalid_input", message: message });
  });
});

describe("parseName", () => {
  it("reads multi-valued RDNs and non-UTF-8 string types", () => {
    // SEQUENCE { SET { CN PrintableString "a", O T61String "é" } }
    const name = parseName(Uint8Array.from(Buffer.from("3016 3114 3008 0603550403 130161 3008 060355040a 1401e9".replace(/ /g, ""), "hex")));
    expect(name.rdns).toHaveLength(1);
    expect(name.rdns[0]?.map((a) => a.value)).toEqual(["a", "é"]);
    expect(formatName(name)).toBe("CN=a+O=é");
  });

  it.each([
    ["an empty RDN", "30023100", "RelativeDistinguishedName must be a non-empty SET"],
    ["an RDN that is a SEQUENCE", "3004 3002 0500", "RelativeDistinguishedName must be a non-empty SET"],
    ["an attribute without a value", "3009 3107 3005 0603550403", "AttributeTypeAndValue: expected 2 element(s), found 1"],
    ["a malformed UTF8String", "300d 310b 3009 0603550403 0c02c328", "invalid UTF8String"],
  ])("refuses %s", (_name, input, reason) => {
    expect(() => parseName(Uint8Array.from(Buffer.from(input.replace(/ /g, ""), "hex")))).toThrow(reason);
  });
});

describe("formatName (RFC 4514)", () => {
  it.each([
    ["plain", dn([cn("kubelet")]), "CN=kubelet"],
    ["most specific first", dn([{ type: AttributeOid.organization, value: "system:nodes" }], [cn("system:node:a")]), "CN=system:node:a,O=system:nodes"],
    ["comma", dn([cn("a,b")]), "CN=a\\,b"],
    ["plus, quote, backslash", dn([cn('a+b"c\\d')]), 'CN=a\\+b\\"c\\\\d'],
    ["angle brackets and semicolon", dn([cn("<a>;")]), "CN=\\<a\\>\\;"],
    ["leading and trailing space", dn([cn(" a ")]), "CN=\\ a\\ "],
    ["leading hash only", dn([cn("#a#")]), "CN=\\#a#"],
    ["equals sign is not special", dn([cn("a=b")]), "CN=a=b"],
    ["control character as hex", dn([cn("a\u0001b")]), "CN=a\\01b"],
    ["UTF-8 stays as is", dn([cn("café")]), "CN=café"],
    ["multi-valued RDN", dn([cn("a"), { type: AttributeOid.organization, value: "b" }]), "CN=a+O=b"],
    ["known extra names", dn([{ type: AttributeOid.emailAddress, value: "a@b.c" }, { type: AttributeOid.serialNumber, value: "7" }, { type: AttributeOid.domainComponent, value: "com" }]), "emailAddress=a@b.c+serialNumber=7+DC=com"],
    ["unknown type as #hex", dn([{ type: "1.2.3.4", value: "a", valueDer: Uint8Array.of(0x0c, 0x01, 0x61) }]), "1.2.3.4=#0c0161"],
    ["known type with a non-string value as #hex", dn([{ type: AttributeOid.commonName, value: "#020101", valueDer: Uint8Array.of(0x02, 0x01, 0x01) }]), "CN=#020101"],
    ["empty name", dn(), ""],
  ])("%s", (_name, name, text) => {
    expect(formatName(name)).toBe(text);
  });
});

describe("nameFields", () => {
  it("maps attributes to fields and keeps repeats and unknown types in other", () => {
    const fields = nameFields(
      dn(
        [{ type: AttributeOid.country, value: "US" }],
        [{ type: AttributeOid.organization, value: "o1" }],
        [{ type: AttributeOid.organization, value: "o2" }, { type: AttributeOid.organizationalUnit, value: "u" }],
        [cn("first")],
        [cn("second")],
        [{ type: "1.2.3.4", value: "x" }],
      ),
    );
    expect(fields).toEqual({
      country: "US",
      organization: ["o1", "o2"],
      organizationalUnit: ["u"],
      commonName: "first",
      other: [cn("second"), { type: "1.2.3.4", value: "x" }],
    });
  });
});

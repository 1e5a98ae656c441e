import { createHash, createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readDer, readOid, type DerNode } from "./der/der-reader.js";
import { derBoolean, derOctetString, derOid, derSequence, derTlv } from "./der/der-writer.js";
import { encodeExtensions, parseExtensions, subjectKeyIdentifier, type CertificateExtensions, type KeyUsage } from "./extensions.js";
import { ExtendedKeyUsageOid, ExtensionOid } from "./oids.js";
import { refusal } from "./testing/refusal.js";
import { testKey } from "./testing/keys.js";

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString("hex");
const ski = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const aki = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);

/** [oid, critical, extnValue hex] for each Extension in an encoded Extensions. */
function entries(der: Uint8Array): [string, boolean, string][] {
  return readDer(der).children.map((e: DerNode) => {
    const [id, second, third] = e.children;
    return [readOid(id ?? e), third !== undefined, hex((third ?? second)?.value)];
  });
}

const everything: CertificateExtensions = {
  basicConstraints: { ca: true, pathLength: 0 },
  keyUsage: ["digitalSignature", "keyCertSign", "cRLSign"],
  extendedKeyUsage: [ExtendedKeyUsageOid.serverAuth, ExtendedKeyUsageOid.clientAuth],
  subjectAltNames: [
    { type: "dns", value: "kubernetes.default.svc" },
    { type: "ip", value: "10.96.0.1" },
    { type: "email", value: "ops@example.com" },
    { type: "uri", value: "spiffe://cluster.local/ns/a/sa/b" },
  ],
  subjectKeyIdentifier: ski,
  authorityKeyIdentifier: aki,
  crlDistributionPoints: ["http://pki.example.com/ca.crl", "ldap://ldap.example.com/cn=CA"],
  authorityInfoAccess: { ocsp: ["http://ocsp.example.com"], caIssuers: ["http://pki.example.com/ca.crt"] },
  other: [{ oid: "1.3.6.1.4.1.99999.1", critical: false, valueDer: Uint8Array.of(0x05, 0x00) }],
};

describe("encodeExtensions", () => {
  it("writes Go's order with RFC 5280 criticality", () => {
    expect(entries(encodeExtensions(everything)).map(([oid, critical]) => [oid, critical])).toEqual([
      [ExtensionOid.keyUsage, true],
      [ExtensionOid.extendedKeyUsage, false],
      [ExtensionOid.basicConstraints, true],
      [ExtensionOid.subjectKeyIdentifier, false],
      [ExtensionOid.authorityKeyIdentifier, false],
      [ExtensionOid.authorityInfoAccess, false],
      [ExtensionOid.subjectAltName, false],
      [ExtensionOid.crlDistributionPoints, false],
      ["1.3.6.1.4.1.99999.1", false],
    ]);
  });

  it("marks subjectAltName critical when the subject is empty (RFC 5280 §4.2.1.6)", () => {
    expect(entries(encodeExtensions({ subjectAltNames: [{ type: "dns", value: "a" }] }, true))).toEqual([[ExtensionOid.subjectAltName, true, "3003820161"]]);
    expect(entries(encodeExtensions({ subjectAltNames: [{ type: "dns", value: "a" }] }, false))).toEqual([[ExtensionOid.subjectAltName, false, "3003820161"]]);
  });

  it.each([
    [["digitalSignature"], "03020780"],
    [["digitalSignature", "keyEncipherment"], "030205a0"],
    [["keyCertSign", "cRLSign"], "03020106"],
    [["digitalSignature", "keyCertSign", "cRLSign"], "03020186"],
    [["encipherOnly"], "03020001"],
    [["decipherOnly"], "0303070080"],
    [["contentCommitment", "decipherOnly"], "0303074080"],
  ] as [KeyUsage[], string][])("keyUsage %j is the minimal BIT STRING %s", (usages, value) => {
    expect(entries(encodeExtensions({ keyUsage: usages }))).toEqual([[ExtensionOid.keyUsage, true, value]]);
    expect(parseExtensions(encodeExtensions({ keyUsage: usages })).keyUsage).toEqual(usages);
  });

  it.each([
    [{ ca: false }, "3000"],
    [{ ca: true }, "30030101ff"],
    [{ ca: true, pathLength: 0 }, "30060101ff020100"],
    [{ ca: true, pathLength: 3 }, "30060101ff020103"],
  ])("basicConstraints %j is %s", (bc, value) => {
    expect(entries(encodeExtensions({ basicConstraints: bc }))).toEqual([[ExtensionOid.basicConstraints, true, value]]);
  });

  it("writes AKI as keyIdentifier [0], CRL DP as fullName URIs and AIA in ocsp, caIssuers order", () => {
    const [aia, crldp, akiEntry] = [
      entries(encodeExtensions({ authorityInfoAccess: { caIssuers: ["http://b/"], ocsp: ["http://a/"] } }))[0],
      entries(encodeExtensions({ crlDistributionPoints: ["http://c/"] }))[0],
      entries(encodeExtensions({ authorityKeyIdentifier: Uint8Array.of(1, 2) }))[0],
    ];
    expect(akiEntry?.[2]).toBe("300480020102");
    expect(crldp?.[2]).toBe("3011300fa00da00b86" + "09" + Buffer.from("http://c/").toString("hex"));
    expect(aia?.[2]).toBe(
      "302e" + "3015" + "06082b06010505073001" + "8609" + Buffer.from("http://a/").toString("hex") + "3015" + "06082b06010505073002" + "8609" + Buffer.from("http://b/").toString("hex"),
    );
  });

  it("returns nothing for no extensions", () => {
    expect(encodeExtensions({})).toHaveLength(0);
  });

  it("round-trips through parseExtensions", () => {
    expect(parseExtensions(encodeExtensions(everything))).toEqual(everything);
    expect(parseExtensions(encodeExtensions(everything), "request")).toEqual(everything);
  });

  it.each([
    ["empty keyUsage", { keyUsage: [] }, "keyUsage: must name at least one usage (RFC 5280 §4.2.1.3)"],
    ["unknown keyUsage", { keyUsage: ["signEverything" as KeyUsage] }, 'keyUsage: unknown key usage "signEverything"'],
    ["empty extendedKeyUsage", { extendedKeyUsage: [] }, "extendedKeyUsage: must name at least one purpose (RFC 5280 §4.2.1.12)"],
    ["repeated purpose", { extendedKeyUsage: [ExtendedKeyUsageOid.serverAuth, ExtendedKeyUsageOid.serverAuth] }, "extendedKeyUsage: lists a purpose twice"],
    ["pathLength on a leaf", { basicConstraints: { ca: false, pathLength: 0 } }, "basicConstraints: pathLength is only allowed on a CA"],
    ["negative pathLength", { basicConstraints: { ca: true, pathLength: -1 } }, "basicConstraints: pathLength -1 is not an integer in 0–255"],
    ["empty SKI", { subjectKeyIdentifier: new Uint8Array(0) }, "subjectKeyIdentifier: must be 1 to 64 bytes, not 0"],
    ["empty SAN list", { subjectAltNames: [] }, "subjectAltName: must contain at least one name (RFC 5280 §4.2.1.6)"],
    ["invalid SAN", { subjectAltNames: [{ type: "dns" as const, value: "a b" }] }, 'subjectAltName: "a b" is not a valid DNS name'],
    ["empty AIA", { authorityInfoAccess: {} }, "authorityInfoAccess: must contain at least one URI"],
    ["relative CRL URI", { crlDistributionPoints: ["ca.crl"] }, 'subjectAltName: "ca.crl" is not an absolute URI'],
    ["other repeating a modelled one", { keyUsage: ["digitalSignature" as const], other: [{ oid: ExtensionOid.keyUsage, critical: true, valueDer: Uint8Array.of(3, 1, 0) }] }, "extensions: extension 2.5.29.15 is given twice"],
    ["other given twice", { other: [{ oid: "1.2.3", critical: false, valueDer: Uint8Array.of(5, 0) }, { oid: "1.2.3", critical: false, valueDer: Uint8Array.of(5, 0) }] }, "extensions: extension 1.2.3 is given twice"],
  ] as [string, CertificateExtensions, string][])("refuses %s", (_name, ext, message) => {
    expect(refusal(() => encodeExtensions(ext))).toMatchObject({ code: "invalid_input", message });
  });
});

describe("parseExtensions", () => {
  const ext = (oid: string, value: Uint8Array, critical = false): Uint8Array => derSequence(derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
  const otherNameSan = derSequence(derTlv(0xa0, derOid("1.3.6.1.4.1.311.20.2.3"), derTlv(0xa0, Uint8Array.of(0x0c, 0x01, 0x61))));
  const crlWithIssuer = derSequence(derSequence(derTlv(0xa0, derTlv(0xa0, Uint8Array.of(0x86, 0x03, 0x61, 0x3a, 0x62))), derTlv(0xa2, Uint8Array.of(0x82, 0x01, 0x61))));

  it("refuses a repeated extension (RFC 5280 §4.2)", () => {
    const der = derSequence(ext(ExtensionOid.keyUsage, Uint8Array.of(3, 2, 7, 0x80)), ext(ExtensionOid.keyUsage, Uint8Array.of(3, 2, 7, 0x80)));
    expect(refusal(() => parseExtensions(der))).toMatchObject({ code: "invalid_input", message: "extensions: extension 2.5.29.15 appears twice (RFC 5280 §4.2)" });
  });

  it("refuses an empty Extensions list", () => {
    expect(refusal(() => parseExtensions(derSequence())).message).toBe("DER: Extensions: expected at least 1 element(s), found 0 at offset 0");
  });

  it("accepts an explicit critical FALSE", () => {
    const der = derSequence(derSequence(derOid(ExtensionOid.subjectKeyIdentifier), derBoolean(false), derOctetString(derOctetString(ski))));
    expect(parseExtensions(der)).toEqual({ subjectKeyIdentifier: ski });
  });

  it("keeps AKI keyIdentifier and ignores issuer and serial", () => {
    const value = derSequence(derTlv(0x80, aki), derTlv(0xa1, Uint8Array.of(0xa4, 0x02, 0x30, 0x00)), derTlv(0x82, Uint8Array.of(1)));
    expect(parseExtensions(derSequence(ext(ExtensionOid.authorityKeyIdentifier, value)))).toEqual({ authorityKeyIdentifier: aki });
  });

  it.each([
    ["unknown non-critical", ext("1.2.3.4", Uint8Array.of(5, 0)), { other: [{ oid: "1.2.3.4", critical: false, valueDer: Uint8Array.of(5, 0) }] }],
    ["unknown critical", ext("1.2.3.4", Uint8Array.of(5, 0), true), { other: [{ oid: "1.2.3.4", critical: true, valueDer: Uint8Array.of(5, 0) }] }],
    ["otherName SAN", ext(ExtensionOid.subjectAltName, otherNameSan), { other: [{ oid: ExtensionOid.subjectAltName, critical: false, valueDer: otherNameSan }] }],
    ["CRL DP with a cRLIssuer", ext(ExtensionOid.crlDistributionPoints, crlWithIssuer), { other: [{ oid: ExtensionOid.crlDistributionPoints, critical: false, valueDer: crlWithIssuer }] }],
    ["certificatePolicies", ext(ExtensionOid.certificatePolicies, derSequence(derSequence(derOid("2.5.29.32.0")))), { other: [{ oid: ExtensionOid.certificatePolicies, critical: false, valueDer: derSequence(derSequence(derOid("2.5.29.32.0"))) }] }],
  ])("certificate mode keeps %s in other", (_name, e, expected) => {
    expect(parseExtensions(derSequence(e), "certificate")).toEqual(expected);
  });

  it.each([
    ["unknown critical", ext("1.2.3.4", Uint8Array.of(5, 0), true), "extensions: critical extension 1.2.3.4 is not supported"],
    ["otherName SAN", ext(ExtensionOid.subjectAltName, otherNameSan), "subjectAltName: otherName entries are not supported (only DNS, IP, email and URI names)"],
    ["CRL DP with a cRLIssuer", ext(ExtensionOid.crlDistributionPoints, crlWithIssuer), "crlDistributionPoints: only full-name URIs are supported"],
  ])("request mode refuses %s as unsupported", (_name, e, message) => {
    expect(refusal(() => parseExtensions(derSequence(e), "request"))).toMatchObject({ code: "unsupported", message });
  });

  it("request mode keeps unknown non-critical extensions", () => {
    expect(parseExtensions(derSequence(ext("1.2.3.4", Uint8Array.of(5, 0))), "request").other).toHaveLength(1);
  });

  it.each([
    ["keyUsage bit 9", ext(ExtensionOid.keyUsage, Uint8Array.of(3, 3, 6, 0, 0x40)), "keyUsage: bit 9 is not defined"],
    ["basicConstraints with junk", ext(ExtensionOid.basicConstraints, derSequence(derBoolean(true), Uint8Array.of(2, 1, 0), Uint8Array.of(2, 1, 0))), "basicConstraints: expected 0 to 2 element(s), found 3"],
    ["extnValue that is not DER", ext(ExtensionOid.subjectKeyIdentifier, Uint8Array.of(4, 5, 1)), "length exceeds available bytes"],
    ["an EKU that is not a SEQUENCE", ext(ExtensionOid.extendedKeyUsage, derOid("1.2.3")), "extendedKeyUsage: expected SEQUENCE"],
  ])("refuses malformed %s", (_name, e, reason) => {
    const error = refusal(() => parseExtensions(derSequence(e)));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain(reason);
  });
});

describe("subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1)", () => {
  it.each(["ECDSA-P256", "ECDSA-P384", "RSA-2048", "Ed25519"] as const)("is SHA-1 of the %s public key bits", (algorithm) => {
    const key = testKey(algorithm);
    const pub = createPublicKey({ key: Buffer.from(key.spkiDer), format: "der", type: "spki" });
    // The BIT STRING contents, computed independently of the DER reader.
    let bits: Buffer;
    if (algorithm === "RSA-2048") bits = pub.export({ type: "pkcs1", format: "der" });
    else {
      const jwk = pub.export({ format: "jwk" });
      const x = Buffer.from(jwk.x ?? "", "base64url");
      bits = algorithm === "Ed25519" ? x : Buffer.concat([Buffer.of(4), x, Buffer.from(jwk.y ?? "", "base64url")]);
    }
    expect(hex(subjectKeyIdentifier(key.spkiDer))).toBe(createHash("sha1").update(bits).digest("hex"));
  });
});

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCertificate, verifyIssuedBy } from "./certificate.js";
import { derBitString, derContextExplicit, derInteger, derOctetString, derOid, derSequence, derTime, derTlv } from "./der/der-writer.js";
import { encodeExtensions } from "./extensions.js";
import { formatName, nameFields } from "./name.js";
import { ExtendedKeyUsageOid, ExtensionOid } from "./oids.js";
import { signatureAlgorithmIdentifier } from "./signature-algorithm.js";
import { issue } from "./testing/issue.js";
import { testKey, testSign, type TestKey } from "./testing/keys.js";
import { openssl, opensslBytes, withTempDir } from "./testing/openssl.js";
import { refusal } from "./testing/refusal.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const ca = issue({
  key: testKey("ECDSA-P256", "ca"),
  subject: { commonName: "parse test CA", organization: ["kpki"] },
  extensions: { basicConstraints: { ca: true }, keyUsage: ["keyCertSign", "cRLSign"] },
  signatureAlgorithm: "ECDSA-SHA256",
});
const notBefore = new Date("2049-12-31T23:59:59Z");
const notAfter = new Date("2050-01-01T00:00:00Z");
const leaf = issue({
  issuer: ca,
  key: testKey("RSA-2048", "leaf"),
  subject: { commonName: "system:node:worker-1", organization: ["system:nodes"] },
  extensions: {
    basicConstraints: { ca: false },
    keyUsage: ["digitalSignature", "keyEncipherment"],
    extendedKeyUsage: [ExtendedKeyUsageOid.clientAuth],
    subjectAltNames: [{ type: "dns", value: "worker-1" }],
  },
  signatureAlgorithm: "ECDSA-SHA256",
  serialNumber: Uint8Array.of(0x00, 0x9f, 0x01, 0x02),
  notBefore,
  notAfter,
});

/** A self-signed certificate from `openssl req -x509` for one of the test keys. */
function opensslSelfSigned(key: TestKey, args: readonly string[] = []): Uint8Array {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "key.pem"), key.privatePem);
    return opensslBytes(["req", "-x509", "-new", "-key", join(dir, "key.pem"), "-days", "2", "-subj", "/C=US/O=Example, Inc./CN=openssl root", ...args, "-outform", "DER"]);
  });
}

describe("parseCertificate on certificates built here", () => {
  it("reads every field", () => {
    const cert = parseCertificate(leaf.der);
    expect(cert.der).toEqual(leaf.der);
    expect(cert.serialHex).toBe("9f0102");
    expect(cert.issuer.der).toEqual(ca.subjectDer);
    expect(cert.subject.der).toEqual(leaf.subjectDer);
    expect(formatName(cert.subject)).toBe("CN=system:node:worker-1,O=system:nodes");
    expect(cert.notBefore.toISOString()).toBe(notBefore.toISOString());
    expect(cert.notAfter.toISOString()).toBe(notAfter.toISOString());
    expect(cert.publicKeySpki).toEqual(testKey("RSA-2048", "leaf").spkiDer);
    expect(cert.publicKeyAlgorithm).toBe("RSA-2048");
    expect(cert.signatureAlgorithmDer).toEqual(signatureAlgorithmIdentifier("ECDSA-SHA256"));
    expect(cert.extensions).toEqual({
      basicConstraints: { ca: false },
      keyUsage: ["digitalSignature", "keyEncipherment"],
      extendedKeyUsage: [ExtendedKeyUsageOid.clientAuth],
      subjectAltNames: [{ type: "dns", value: "worker-1" }],
      subjectKeyIdentifier: leaf.ski,
      authorityKeyIdentifier: ca.ski,
    });
  });

  it("agrees with openssl on serial, fingerprint and validity", () => {
    const cert = parseCertificate(leaf.der);
    const out = openssl(["x509", "-inform", "DER", "-noout", "-serial", "-fingerprint", "-sha256", "-dates"], leaf.der);
    expect(out).toContain(`serial=${cert.serialHex.toUpperCase()}`);
    expect(out).toContain(`Fingerprint=${cert.fingerprintSha256.toUpperCase().match(/../g)?.join(":")}`);
    expect(out).toContain("notBefore=Dec 31 23:59:59 2049 GMT");
    expect(out).toContain("notAfter=Jan  1 00:00:00 2050 GMT");
  });

  it("verifyIssuedBy checks the signature against the issuer key", () => {
    const cert = parseCertificate(leaf.der);
    expect(verifyIssuedBy(cert, ca.key.spkiDer)).toBe(true);
    expect(verifyIssuedBy(cert, testKey("ECDSA-P256", "other").spkiDer)).toBe(false);
    expect(verifyIssuedBy(cert, leaf.key.spkiDer)).toBe(false);
    expect(verifyIssuedBy(parseCertificate(ca.der), ca.key.spkiDer)).toBe(true);
  });
});

describe("parseCertificate on certificates made by openssl", () => {
  it.each(["ECDSA-P256", "ECDSA-P384", "RSA-2048", "Ed25519"] as const)("%s self-signed", (algorithm) => {
    const key = testKey(algorithm);
    const der = opensslSelfSigned(key);
    const cert = parseCertificate(der);
    expect(cert.publicKeyAlgorithm).toBe(algorithm);
    expect(cert.publicKeySpki).toEqual(key.spkiDer);
    expect(formatName(cert.subject)).toBe("CN=openssl root,O=Example\\, Inc.,C=US");
    expect(formatName(cert.subject)).toBe(openssl(["x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253"], der).trim().replace("subject=", ""));
    expect(nameFields(cert.subject)).toMatchObject({ country: "US", organization: ["Example, Inc."], commonName: "openssl root" });
    expect(cert.extensions.basicConstraints).toEqual({ ca: true });
    const ski = openssl(["x509", "-inform", "DER", "-noout", "-ext", "subjectKeyIdentifier"], der).split("\n")[1]?.trim().replace(/:/g, "").toLowerCase();
    expect(hex(cert.extensions.subjectKeyIdentifier ?? new Uint8Array(0))).toBe(ski);
    expect(verifyIssuedBy(cert, key.spkiDer)).toBe(true);
  });

  it("reads a v1 certificate (openssl x509 -req without extensions)", () => {
    const key = testKey("ECDSA-P256");
    const der = withTempDir((dir) => {
      writeFileSync(join(dir, "key.pem"), key.privatePem);
      const csr = openssl(["req", "-new", "-key", join(dir, "key.pem"), "-subj", "/CN=v1"]);
      return opensslBytes(["x509", "-req", "-key", join(dir, "key.pem"), "-days", "1", "-outform", "DER"], csr);
    });
    expect(openssl(["x509", "-inform", "DER", "-noout", "-text"], der)).toContain("Version: 1 (0x0)");
    const cert = parseCertificate(der);
    expect(cert.extensions).toEqual({});
    expect(verifyIssuedBy(cert, key.spkiDer)).toBe(true);
  });

  it("parses a SHA-1 signed certificate but refuses to verify it", () => {
    const key = testKey("RSA-2048");
    const cert = parseCertificate(opensslSelfSigned(key, ["-sha1"]));
    expect(refusal(() => verifyIssuedBy(cert, key.spkiDer))).toMatchObject({ code: "unsupported", message: "SHA-1 signatures (sha1WithRSAEncryption) are not supported" });
  });
});

describe("parseCertificate refusals", () => {
  const key = testKey("ECDSA-P256");
  const alg = signatureAlgorithmIdentifier("ECDSA-SHA256");
  const name = derSequence(derTlv(0x31, derSequence(derOid("2.5.4.3"), derTlv(0x0c, Uint8Array.of(0x61)))));
  const validity = derSequence(derTime(new Date("2030-01-01T00:00:00Z")), derTime(new Date("2031-01-01T00:00:00Z")));
  const v3 = derContextExplicit(0, derInteger(2));
  type Parts = { version?: Uint8Array; serial?: Uint8Array; inner?: Uint8Array; issuer?: Uint8Array; extra?: Uint8Array[]; outer?: Uint8Array };
  const certificate = (p: Parts): Uint8Array => {
    const tbs = derSequence(...(p.version ? [p.version] : []), p.serial ?? derInteger(5), p.inner ?? alg, p.issuer ?? name, validity, name, key.spkiDer, ...(p.extra ?? []));
    return derSequence(tbs, p.outer ?? alg, derBitString(testSign(key, "ECDSA-SHA256", tbs)));
  };
  const ext = (oid: string) => derSequence(derOid(oid), derOctetString(derOctetString(Uint8Array.of(1))));

  it("accepts the well-formed baseline", () => {
    expect(parseCertificate(certificate({ version: v3 })).serialHex).toBe("05");
    expect(parseCertificate(certificate({})).extensions).toEqual({});
  });

  it.each([
    ["an explicitly encoded v1", { version: derContextExplicit(0, derInteger(0)) }, "invalid_input", "certificate: DER: version: v1 must be omitted, not encoded at offset"],
    ["version 2", { version: derContextExplicit(0, derInteger(1)) }, "unsupported", "certificate: X.509 version 2 is not supported (v1 or v3)"],
    ["a negative serial", { serial: derInteger(-5n) }, "invalid_input", "certificate: serial number is negative (RFC 5280 §4.1.2.2)"],
    ["mismatched algorithms", { version: v3, outer: signatureAlgorithmIdentifier("ECDSA-SHA384") }, "invalid_input", "certificate: TBSCertificate signature algorithm differs from the outer one (RFC 5280 §4.1.1.2)"],
    ["an empty issuer", { issuer: derSequence() }, "invalid_input", "certificate: issuer name is empty (RFC 5280 §4.1.2.4)"],
    ["extensions in a v1 certificate", { extra: [derTlv(0xa3, encodeExtensions({ basicConstraints: { ca: false } }))] }, "invalid_input", "certificate: DER: extensions is not allowed in a v1 certificate"],
    ["a repeated extension", { version: v3, extra: [derTlv(0xa3, derSequence(ext(ExtensionOid.subjectKeyIdentifier), ext(ExtensionOid.subjectKeyIdentifier)))] }, "invalid_input", "certificate: extensions: extension 2.5.29.14 appears twice (RFC 5280 §4.2)"],
    ["an element after the extensions", { version: v3, extra: [derTlv(0xa3, encodeExtensions({ basicConstraints: { ca: false } })), derInteger(1)] }, "invalid_input", "certificate: DER: TBSCertificate: unexpected trailing element"],
    ["a constructed issuerUniqueID", { version: v3, extra: [derTlv(0xa1, derInteger(1))] }, "invalid_input", "certificate: DER: issuerUniqueID must be primitive"],
  ] as [string, Parts, string, string][])("refuses %s", (_name, parts, code, message) => {
    const error = refusal(() => parseCertificate(certificate(parts)));
    expect(error.code).toBe(code);
    expect(error.message.startsWith(message)).toBe(true);
  });

  it.each([
    ["empty input", new Uint8Array(0), "certificate: DER: empty input at offset 0"],
    ["a truncated certificate", leaf.der.subarray(0, 100), "certificate: DER: length exceeds available bytes at offset 0"],
    ["trailing bytes", Uint8Array.from([...leaf.der, 0, 0]), `certificate: DER: 2 trailing byte(s) after the element at offset ${leaf.der.length}`],
    ["a CSR", Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), "certificate: DER: Certificate: expected 3 element(s), found 1 at offset 0"],
  ])("refuses %s as invalid input", (_name, der, message) => {
    expect(refusal(() => parseCertificate(der))).toMatchObject({ code: "invalid_input", message, detail: { field: "certificate" } });
  });
});

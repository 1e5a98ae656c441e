import { X509Certificate as NodeX509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { encodeTbsCertificate, type CertificateTemplate } from "./certificate-builder.js";
import { readDer } from "./der/der-reader.js";
import { encodeName, formatName, parseName } from "./name.js";
import { ExtendedKeyUsageOid } from "./oids.js";
import { pemEncode } from "./pem.js";
import { issue, type TestCertificate } from "./testing/issue.js";
import { testKey } from "./testing/keys.js";
import { openssl, opensslRun, withTempDir } from "./testing/openssl.js";
import { loadPeculiar } from "./testing/peculiar.js";
import { refusal } from "./testing/refusal.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const CASES = [
  ["ECDSA-P256", "ECDSA-SHA256"],
  ["ECDSA-P384", "ECDSA-SHA384"],
  ["RSA-2048", "RSA-PKCS1-SHA256"],
  ["RSA-2048", "RSA-PSS-SHA256"],
  ["Ed25519", "Ed25519"],
] as const;

function hierarchy(keyAlgorithm: (typeof CASES)[number][0], signatureAlgorithm: SignatureAlgorithm) {
  const ca = issue({
    key: testKey(keyAlgorithm, "ca"),
    subject: { commonName: `kpki test CA ${signatureAlgorithm}`, organization: ["kpki"], country: "DE" },
    extensions: { basicConstraints: { ca: true, pathLength: 0 }, keyUsage: ["digitalSignature", "keyCertSign", "cRLSign"] },
    signatureAlgorithm,
  });
  const serialNumber = Uint8Array.from([0x4f, ...Array.from({ length: 15 }, (_, i) => (i * 29 + 7) & 0xff)]);
  const leaf = issue({
    issuer: ca,
    key: testKey(keyAlgorithm, "leaf"),
    subject: { commonName: "worker-1.example.com", organization: ["system:nodes"], organizationalUnit: ["ops"] },
    extensions: {
      basicConstraints: { ca: false },
      keyUsage: keyAlgorithm.startsWith("RSA") ? ["digitalSignature", "keyEncipherment"] : ["digitalSignature"],
      extendedKeyUsage: [ExtendedKeyUsageOid.serverAuth, ExtendedKeyUsageOid.clientAuth],
      subjectAltNames: [
        { type: "dns", value: "worker-1.example.com" },
        { type: "dns", value: "*.apps.example.com" },
        { type: "ip", value: "10.0.0.11" },
        { type: "ip", value: "fd00::11" },
        { type: "email", value: "ops@example.com" },
        { type: "uri", value: "spiffe://cluster.local/ns/a/sa/b" },
      ],
      crlDistributionPoints: ["http://pki.example.com/ca.crl"],
      authorityInfoAccess: { ocsp: ["http://ocsp.example.com"], caIssuers: ["http://pki.example.com/ca.crt"] },
    },
    signatureAlgorithm,
    serialNumber,
  });
  return { ca, leaf, serialNumber };
}

/** Writes PEM files and runs `openssl verify` with a purpose; true when openssl says OK. */
function opensslVerifies(ca: TestCertificate, leaf: TestCertificate, purpose: "sslserver" | "sslclient"): { ok: boolean; output: string } {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "ca.pem"), pemEncode("CERTIFICATE", ca.der));
    writeFileSync(join(dir, "leaf.pem"), pemEncode("CERTIFICATE", leaf.der));
    const result = opensslRun(["verify", "-CAfile", join(dir, "ca.pem"), "-purpose", purpose, join(dir, "leaf.pem")]);
    return { ok: result.status === 0 && result.stdout.includes("leaf.pem: OK"), output: result.stdout + result.stderr };
  });
}

describe.each(CASES)("CA and leaf built with %s / %s", (keyAlgorithm, signatureAlgorithm) => {
  const { ca, leaf, serialNumber } = hierarchy(keyAlgorithm, signatureAlgorithm);

  it("reads correctly in @peculiar/x509, and both signatures verify", async () => {
    const x509 = await loadPeculiar();
    const caCert = new x509.X509Certificate(pemEncode("CERTIFICATE", ca.der));
    const cert = new x509.X509Certificate(pemEncode("CERTIFICATE", leaf.der));
    expect(cert.subject).toBe("O=system:nodes, OU=ops, CN=worker-1.example.com");
    expect(cert.issuer).toBe(`C=DE, O=kpki, CN=kpki test CA ${signatureAlgorithm}`);
    expect(cert.serialNumber.toLowerCase()).toBe(hex(serialNumber));
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeGreaterThan(29 * 86_400_000);
    expect(cert.notBefore.getUTCMilliseconds()).toBe(0);

    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect([bc?.ca, bc?.critical]).toEqual([false, true]);
    const caBc = caCert.getExtension(x509.BasicConstraintsExtension);
    expect([caBc?.ca, caBc?.pathLength, caBc?.critical]).toEqual([true, 0, true]);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    const expectedKu = x509.KeyUsageFlags.digitalSignature | (keyAlgorithm.startsWith("RSA") ? x509.KeyUsageFlags.keyEncipherment : 0);
    expect([ku?.usages, ku?.critical]).toEqual([expectedKu, true]);
    expect(caCert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    expect([eku?.usages, eku?.critical]).toEqual([[ExtendedKeyUsageOid.serverAuth, ExtendedKeyUsageOid.clientAuth], false]);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.critical).toBe(false);
    expect(san?.names.toJSON()).toEqual([
      { type: "dns", value: "worker-1.example.com" },
      { type: "dns", value: "*.apps.example.com" },
      { type: "ip", value: "10.0.0.11" },
      { type: "ip", value: "fd00::11" },
      { type: "email", value: "ops@example.com" },
      { type: "url", value: "spiffe://cluster.local/ns/a/sa/b" },
    ]);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toBe(hex(leaf.ski));
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(hex(ca.ski));
    // The SKI method matches the library's own (SHA-1 of the key bits).
    const computed = await x509.SubjectKeyIdentifierExtension.create(cert.publicKey);
    expect(computed.keyId).toBe(hex(leaf.ski));
    expect(cert.getExtension(x509.AuthorityInfoAccessExtension)?.ocsp.map((g) => g.value)).toEqual(["http://ocsp.example.com"]);
    expect(cert.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints).toHaveLength(1);

    expect(await caCert.verify({ signatureOnly: true })).toBe(true);
    expect(await cert.verify({ publicKey: caCert, signatureOnly: true })).toBe(true);
    expect(await cert.verify({ publicKey: cert, signatureOnly: true })).toBe(false);
  });

  it("passes node's X509Certificate checks", () => {
    const caCert = new NodeX509Certificate(ca.der);
    const cert = new NodeX509Certificate(leaf.der);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(false);
    expect(cert.checkHost("worker-1.example.com")).toBe("worker-1.example.com");
    expect(cert.checkHost("web.apps.example.com")).toBe("*.apps.example.com");
    expect(cert.checkHost("other.example.com")).toBeUndefined();
    expect(cert.checkIP("10.0.0.11")).toBe("10.0.0.11");
    expect(cert.checkIP("fd00::11")).toBe("fd00::11");
    expect(cert.checkIP("10.0.0.12")).toBeUndefined();
    expect(cert.checkEmail("ops@example.com")).toBe("ops@example.com");
    expect(cert.subjectAltName).toBe(
      "DNS:worker-1.example.com, DNS:*.apps.example.com, IP Address:10.0.0.11, IP Address:FD00:0:0:0:0:0:0:11, email:ops@example.com, URI:spiffe://cluster.local/ns/a/sa/b",
    );
    expect(cert.keyUsage).toEqual([ExtendedKeyUsageOid.serverAuth, ExtendedKeyUsageOid.clientAuth]);
    expect(cert.serialNumber.toLowerCase()).toBe(hex(serialNumber));
    expect(cert.infoAccess).toContain("OCSP - URI:http://ocsp.example.com");
  });

  it("passes openssl x509 -text and openssl verify for both purposes", () => {
    const text = openssl(["x509", "-inform", "DER", "-noout", "-text"], leaf.der);
    expect(text).toContain("Version: 3 (0x2)");
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain("DNS:worker-1.example.com, DNS:*.apps.example.com, IP Address:10.0.0.11, IP Address:FD00:0:0:0:0:0:0:11, email:ops@example.com, URI:spiffe://cluster.local/ns/a/sa/b");
    expect(text).toMatch(/Full Name:\s+URI:http:\/\/pki.example.com\/ca.crl/);
    expect(text).toContain("CA Issuers - URI:http://pki.example.com/ca.crt");
    const caText = openssl(["x509", "-inform", "DER", "-noout", "-text"], ca.der);
    expect(caText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(caText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);

    for (const purpose of ["sslserver", "sslclient"] as const) {
      const result = opensslVerifies(ca, leaf, purpose);
      expect(result.output).toContain("OK");
      expect(result.ok).toBe(true);
    }
  });

  it("formats the names exactly as openssl's RFC 2253 output", () => {
    for (const der of [ca.der, leaf.der]) {
      for (const which of ["subject", "issuer"] as const) {
        const expected = openssl(["x509", "-inform", "DER", "-noout", `-${which}`, "-nameopt", "RFC2253"], der).trim().replace(`${which}=`, "");
        const nameNode = readDer(der).children[0]?.children[which === "issuer" ? 3 : 5];
        expect(formatName(parseName(nameNode?.bytes ?? new Uint8Array(0)))).toBe(expected);
      }
    }
  });
});

describe("EKU decides the openssl purpose", () => {
  it("a clientAuth-only leaf verifies for sslclient and not for sslserver", () => {
    const { ca } = hierarchy("ECDSA-P256", "ECDSA-SHA256");
    const client = issue({
      issuer: ca,
      key: testKey("ECDSA-P256", "client"),
      subject: { commonName: "kubernetes-admin", organization: ["kubeadm:cluster-admins"] },
      extensions: { basicConstraints: { ca: false }, keyUsage: ["digitalSignature"], extendedKeyUsage: [ExtendedKeyUsageOid.clientAuth] },
      signatureAlgorithm: "ECDSA-SHA256",
    });
    expect(opensslVerifies(ca, client, "sslclient").ok).toBe(true);
    const server = opensslVerifies(ca, client, "sslserver");
    expect(server.ok).toBe(false);
    expect(server.output).toContain("unsuitable certificate purpose");
  });
});

describe("encodeTbsCertificate", () => {
  const key = testKey("ECDSA-P256");
  const base: CertificateTemplate = {
    serialNumber: Uint8Array.of(1),
    issuerNameDer: encodeName({ commonName: "ca" }),
    subjectNameDer: encodeName({ commonName: "leaf" }),
    notBefore: new Date("2030-01-01T00:00:00Z"),
    notAfter: new Date("2031-01-01T00:00:00Z"),
    subjectPublicKeySpki: key.spkiDer,
    extensions: {},
    signatureAlgorithm: "ECDSA-SHA256",
  };

  it("writes v3, the serial, the algorithm, names, UTCTime validity and the key in order", () => {
    const tbs = readDer(encodeTbsCertificate({ ...base, notAfter: new Date("2050-01-01T00:00:00Z") }));
    const [version, serial, algorithm, issuer, validity, subject, spki, ...rest] = tbs.children;
    expect(hex(version?.bytes ?? new Uint8Array(0))).toBe("a003020102");
    expect(hex(serial?.bytes ?? new Uint8Array(0))).toBe("020101");
    expect(hex(algorithm?.bytes ?? new Uint8Array(0))).toBe("300a06082a8648ce3d040302");
    expect(issuer?.bytes).toEqual(base.issuerNameDer);
    expect(validity?.children.map((t) => t.tag)).toEqual([23, 24]); // UTCTime 2030, GeneralizedTime 2050
    expect(subject?.bytes).toEqual(base.subjectNameDer);
    expect(spki?.bytes).toEqual(key.spkiDer);
    expect(rest).toEqual([]); // no extensions → no [3]
  });

  it("keeps a 20-octet serial and pads a high bit with a sign octet", () => {
    const twenty = Uint8Array.from({ length: 20 }, () => 0x7f);
    expect(readDer(encodeTbsCertificate({ ...base, serialNumber: twenty })).children[1]?.value).toEqual(twenty);
    const high = Uint8Array.of(0x80, 1);
    expect(hex(readDer(encodeTbsCertificate({ ...base, serialNumber: high })).children[1]?.value ?? new Uint8Array(0))).toBe("008001");
  });

  it.each([
    ["a 21-octet serial", { serialNumber: Uint8Array.from({ length: 21 }, () => 1) }, "serialNumber: is longer than 20 octets (RFC 5280 §4.1.2.2)"],
    ["a 20-octet serial that needs a sign octet", { serialNumber: Uint8Array.from({ length: 20 }, () => 0xff) }, "serialNumber: is longer than 20 octets (RFC 5280 §4.1.2.2)"],
    ["a zero serial", { serialNumber: Uint8Array.of(0, 0) }, "serialNumber: must be positive (RFC 5280 §4.1.2.2)"],
    ["notAfter before notBefore", { notAfter: new Date("2029-12-31T23:59:59Z") }, "validity: notAfter is before notBefore"],
    ["an empty subject without SANs", { subjectNameDer: encodeName({}) }, "subject: an empty subject needs subjectAltNames (RFC 5280 §4.1.2.6)"],
  ] as [string, Partial<CertificateTemplate>, string][])("refuses %s", (_name, change, message) => {
    expect(refusal(() => encodeTbsCertificate({ ...base, ...change }))).toMatchObject({ code: "invalid_input", message });
  });

  it("marks the SAN critical for an empty subject, and openssl agrees", () => {
    const { ca } = hierarchy("ECDSA-P256", "ECDSA-SHA256");
    const leaf = issue({ issuer: ca, key: testKey("ECDSA-P256", "empty"), subject: {}, extensions: { subjectAltNames: [{ type: "dns", value: "svc.example" }] }, signatureAlgorithm: "ECDSA-SHA256" });
    expect(openssl(["x509", "-inform", "DER", "-noout", "-text"], leaf.der)).toMatch(/X509v3 Subject Alternative Name: critical\s+DNS:svc.example/);
    expect(opensslVerifies(ca, leaf, "sslclient").ok).toBe(true);
  });
});

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCertificateRequest } from "./csr.js";
import { formatGeneralName } from "./general-name.js";
import { formatName, nameFields } from "./name.js";
import { ExtendedKeyUsageOid } from "./oids.js";
import { testKey } from "./testing/keys.js";
import { openssl, opensslBytes, withTempDir } from "./testing/openssl.js";
import { refusal } from "./testing/refusal.js";

type KeyName = Parameters<typeof testKey>[0];

/** A DER CSR made by `openssl req` for one of the test keys. */
function opensslCsr(key: KeyName, args: readonly string[], config?: string): Uint8Array {
  return withTempDir((dir) => {
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, testKey(key).privatePem);
    const extra: string[] = [];
    if (config !== undefined) {
      writeFileSync(join(dir, "req.cnf"), config);
      extra.push("-config", join(dir, "req.cnf"));
    }
    const digest = key === "Ed25519" ? [] : ["-sha256"];
    return opensslBytes(["req", "-new", "-key", keyFile, ...digest, ...extra, ...args, "-outform", "DER"]);
  });
}

/** openssl's own RFC 2253 rendering of a CSR subject (UTF-8 left unescaped). */
function opensslSubject(der: Uint8Array): string {
  return openssl(["req", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"], der).trim().replace(/^subject=/, "");
}

const fullRequest = [
  "-subj",
  "/O=system:nodes/OU=team a/OU=team b/CN=system:node:worker-1",
  "-addext",
  "subjectAltName=DNS:worker-1,DNS:worker-1.cluster.local,IP:10.0.0.11,IP:fd00::11,email:ops@example.com,URI:spiffe://cluster.local/ns/a/sa/b",
  "-addext",
  "basicConstraints=critical,CA:TRUE,pathlen:1",
  "-addext",
  "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
  "-addext",
  "extendedKeyUsage=serverAuth,clientAuth",
];

describe("parseCertificateRequest with CSRs from openssl req", () => {
  it.each([
    ["ECDSA-P256", "ECDSA-SHA256"],
    ["ECDSA-P384", "ECDSA-SHA256"],
    ["RSA-2048", "RSA-PKCS1-SHA256"],
    ["Ed25519", "Ed25519"],
  ] as const)("%s: subject, key and every requested extension", (key, signatureAlgorithm) => {
    const der = opensslCsr(key, fullRequest);
    const csr = parseCertificateRequest(der);
    expect(csr.publicKeyAlgorithm).toBe(key);
    expect(csr.signatureAlgorithm).toBe(signatureAlgorithm);
    expect(csr.publicKeySpki).toEqual(testKey(key).spkiDer);
    expect(csr.der).toEqual(der);
    expect(formatName(csr.subject)).toBe("CN=system:node:worker-1,OU=team b,OU=team a,O=system:nodes");
    expect(formatName(csr.subject)).toBe(opensslSubject(der));
    expect(nameFields(csr.subject)).toEqual({ commonName: "system:node:worker-1", organization: ["system:nodes"], organizationalUnit: ["team a", "team b"], other: [] });
    const ext = csr.requestedExtensions;
    expect(ext.subjectAltNames?.map(formatGeneralName)).toEqual([
      "DNS:worker-1",
      "DNS:worker-1.cluster.local",
      "IP:10.0.0.11",
      "IP:fd00::11",
      "email:ops@example.com",
      "URI:spiffe://cluster.local/ns/a/sa/b",
    ]);
    expect(ext.basicConstraints).toEqual({ ca: true, pathLength: 1 });
    expect(ext.keyUsage).toEqual(["digitalSignature", "keyEncipherment", "keyCertSign"]);
    expect(ext.extendedKeyUsage).toEqual([ExtendedKeyUsageOid.serverAuth, ExtendedKeyUsageOid.clientAuth]);
    expect(ext.other).toBeUndefined();
  });

  it("reads an RSA-PSS signed CSR (SHA-256, MGF1-SHA-256, salt 32)", () => {
    const der = opensslCsr("RSA-2048", ["-subj", "/CN=pss", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]);
    expect(parseCertificateRequest(der).signatureAlgorithm).toBe("RSA-PSS-SHA256");
  });

  it("refuses an RSA-PSS CSR with another salt length as unsupported", () => {
    const der = opensslCsr("RSA-2048", ["-subj", "/CN=pss", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20"]);
    expect(refusal(() => parseCertificateRequest(der)).code).toBe("unsupported");
  });

  it("reads a UTF-8 common name", () => {
    const der = opensslCsr("ECDSA-P256", ["-utf8", "-subj", "/CN=café-ü 😀/O=Ärzte, Zürich"]);
    const csr = parseCertificateRequest(der);
    expect(nameFields(csr.subject).commonName).toBe("café-ü 😀");
    expect(formatName(csr.subject)).toBe("O=Ärzte\\, Zürich,CN=café-ü 😀");
    expect(formatName(csr.subject)).toBe(opensslSubject(der));
  });

  it("ignores challengePassword and reports no extensions when none are requested", () => {
    const config = "[req]\nprompt = no\ndistinguished_name = dn\nattributes = attrs\n[dn]\nCN = with-password\n[attrs]\nchallengePassword = secret-1234\n";
    const der = opensslCsr("ECDSA-P256", [], config);
    expect(openssl(["asn1parse", "-inform", "DER"], der)).toContain("challengePassword");
    const csr = parseCertificateRequest(der);
    expect(nameFields(csr.subject).commonName).toBe("with-password");
    expect(csr.requestedExtensions).toEqual({});
  });

  it("keeps unknown non-critical requested extensions", () => {
    const csr = parseCertificateRequest(opensslCsr("ECDSA-P256", ["-subj", "/CN=x", "-addext", "1.2.3.4=DER:0500"]));
    expect(csr.requestedExtensions.other).toEqual([{ oid: "1.2.3.4", critical: false, valueDer: Uint8Array.of(5, 0) }]);
  });

  it.each([
    ["an unknown critical extension", ["-subj", "/CN=x", "-addext", "1.2.3.4=critical,DER:0500"], "unsupported", "extensions: critical extension 1.2.3.4 is not supported"],
    ["an otherName SAN", ["-subj", "/CN=x", "-addext", "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com"], "unsupported", "subjectAltName: otherName entries are not supported (only DNS, IP, email and URI names)"],
    ["a directoryName SAN", ["-subj", "/CN=x", "-addext", "subjectAltName=dirName:dir_sect"], "unsupported", "subjectAltName: directoryName entries are not supported (only DNS, IP, email and URI names)"],
    ["an invalid DNS SAN", ["-subj", "/CN=x", "-addext", "subjectAltName=DNS:foo_bar.example"], "invalid_input", 'csr: subjectAltName: "foo_bar.example" is not a valid DNS name'],
  ])("refuses %s", (_name, args, code, message) => {
    const config = "[req]\ndistinguished_name = dn\n[dn]\n[dir_sect]\nCN = dir\n";
    const error = refusal(() => parseCertificateRequest(opensslCsr("ECDSA-P256", args, config)));
    expect(error).toMatchObject({ code, message });
  });
});

describe("parseCertificateRequest refusals", () => {
  const good = (): Uint8Array => opensslCsr("ECDSA-P256", ["-subj", "/CN=tamper-me"]);

  it("refuses a CSR with one flipped signature byte", () => {
    const der = good().slice();
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01;
    expect(refusal(() => parseCertificateRequest(der))).toMatchObject({ code: "invalid_input", message: "CSR signature does not verify", detail: { field: "csr" } });
  });

  it("refuses a CSR whose signed subject was altered", () => {
    const der = good().slice();
    const at = Buffer.from(der).indexOf("tamper-me");
    der[at] = "T".charCodeAt(0);
    expect(refusal(() => parseCertificateRequest(der)).message).toBe("CSR signature does not verify");
  });

  it("refuses version 2 (value 1)", () => {
    const der = good().slice();
    const at = Buffer.from(der).indexOf(Buffer.from([0x02, 0x01, 0x00]));
    der[at + 2] = 1;
    expect(refusal(() => parseCertificateRequest(der))).toMatchObject({ code: "invalid_input", message: "csr: version must be 0 (v1, RFC 2986 §4.1), found 1" });
  });

  it("refuses an RSA-1024 key as unsupported", () => {
    const error = refusal(() => parseCertificateRequest(opensslCsr("RSA-1024", ["-subj", "/CN=weak"])));
    expect(error).toMatchObject({ code: "unsupported", message: "RSA-1024 keys are not allowed (2048, 3072 or 4096 bits)" });
  });

  it("refuses a P-521 key as unsupported", () => {
    expect(refusal(() => parseCertificateRequest(opensslCsr("P-521", ["-subj", "/CN=p521"]))).code).toBe("unsupported");
  });

  it.each([
    ["empty input", () => new Uint8Array(0), "csr: DER: empty input at offset 0"],
    ["garbage", () => new TextEncoder().encode("-----BEGIN CERTIFICATE REQUEST-----"), "csr: DER: "],
    ["a truncated CSR", () => good().subarray(0, 60), "csr: DER: length exceeds available bytes at offset 0"],
    ["trailing bytes", () => Uint8Array.from([...good(), 0]), "csr: DER: 1 trailing byte(s) after the element"],
    ["a certificate instead of a CSR", () => opensslCsr("ECDSA-P256", ["-x509", "-subj", "/CN=c"]), "csr: DER: CertificationRequestInfo: expected 4 element(s)"],
  ])("refuses %s as invalid input", (_name, make, message) => {
    const error = refusal(() => parseCertificateRequest(make()));
    expect(error.code).toBe("invalid_input");
    expect(error.detail.field).toBe("csr");
    expect(error.message.startsWith(message)).toBe(true);
  });
});

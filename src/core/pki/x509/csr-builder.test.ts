import { describe, expect, it } from "vitest";
import type { SignatureAlgorithm } from "../../crypto/algorithms.js";
import { readDer } from "./der/der-reader.js";
import { assembleCertificateRequest, encodeCertificationRequestInfo } from "./csr-builder.js";
import { parseCertificateRequest } from "./csr.js";
import type { CertificateExtensions } from "./extensions.js";
import { encodeName, formatName } from "./name.js";
import { pemEncode } from "./pem.js";
import { testKey, testSign, type TestKey } from "./testing/keys.js";
import { opensslRun } from "./testing/openssl.js";
import { loadPeculiar } from "./testing/peculiar.js";

const extensions: CertificateExtensions = {
  basicConstraints: { ca: true, pathLength: 0 },
  keyUsage: ["digitalSignature", "keyCertSign", "cRLSign"],
  subjectAltNames: [{ type: "dns", value: "ca.example.com" }],
};

function buildCsr(key: TestKey, algorithm: SignatureAlgorithm, subjectDer: Uint8Array, ext?: CertificateExtensions): Uint8Array {
  const cri = encodeCertificationRequestInfo(subjectDer, key.spkiDer, ext);
  return assembleCertificateRequest(cri, algorithm, testSign(key, algorithm, cri));
}

describe("CSRs built by csr-builder", () => {
  it.each([
    ["ECDSA-P256", "ECDSA-SHA256"],
    ["ECDSA-P384", "ECDSA-SHA384"],
    ["RSA-2048", "RSA-PKCS1-SHA256"],
    ["RSA-2048", "RSA-PSS-SHA256"],
    ["Ed25519", "Ed25519"],
  ] as const)("%s / %s verifies with openssl and @peculiar/x509 and parses back", async (keyAlgorithm, algorithm) => {
    const key = testKey(keyAlgorithm);
    const subjectDer = encodeName({ commonName: "kpki intermediate", organization: ["kpki"], country: "DE" });
    const der = buildCsr(key, algorithm, subjectDer, extensions);

    const verified = opensslRun(["req", "-verify", "-noout", "-inform", "DER"], der);
    expect(verified.status).toBe(0);
    expect(verified.stdout + verified.stderr).toContain("verify OK");
    const text = opensslRun(["req", "-inform", "DER", "-noout", "-text"], der).stdout;
    expect(text).toContain("CA:TRUE, pathlen:0");
    expect(text).toContain("DNS:ca.example.com");

    const x509 = await loadPeculiar();
    const request = new x509.Pkcs10CertificateRequest(pemEncode("CERTIFICATE REQUEST", der));
    expect(request.subject).toBe("C=DE, O=kpki, CN=kpki intermediate");
    expect(await request.verify()).toBe(true);

    const parsed = parseCertificateRequest(der);
    expect(parsed.subject.der).toEqual(subjectDer);
    expect(formatName(parsed.subject)).toBe("CN=kpki intermediate,O=kpki,C=DE");
    expect(parsed.publicKeyAlgorithm).toBe(keyAlgorithm);
    expect(parsed.signatureAlgorithm).toBe(algorithm);
    expect(parsed.requestedExtensions).toEqual(extensions);
  });

  it("writes an empty attribute set when nothing is requested", () => {
    const key = testKey("ECDSA-P256");
    const cri = encodeCertificationRequestInfo(encodeName({ commonName: "x" }), key.spkiDer);
    const attributes = readDer(cri).children[3];
    expect(attributes).toMatchObject({ tagClass: "context", tag: 0, constructed: true });
    expect(attributes?.children).toHaveLength(0);
    expect(encodeCertificationRequestInfo(encodeName({ commonName: "x" }), key.spkiDer, {})).toEqual(cri);
    const der = assembleCertificateRequest(cri, "ECDSA-SHA256", testSign(key, "ECDSA-SHA256", cri));
    expect(opensslRun(["req", "-verify", "-noout", "-inform", "DER"], der).stderr).toContain("verify OK");
    expect(parseCertificateRequest(der).requestedExtensions).toEqual({});
  });

  it("marks the SAN critical for an empty subject", () => {
    const der = buildCsr(testKey("Ed25519"), "Ed25519", encodeName({}), { subjectAltNames: [{ type: "dns", value: "only.example" }] });
    const text = opensslRun(["req", "-inform", "DER", "-noout", "-text"], der).stdout;
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical/);
  });

  it("openssl rejects a CSR whose signature was tampered with", () => {
    const der = buildCsr(testKey("ECDSA-P256"), "ECDSA-SHA256", encodeName({ commonName: "x" })).slice();
    der[der.length - 2] = (der[der.length - 2] ?? 0) ^ 0x01;
    // openssl 3.0 `req -verify` exits 0 either way; its message is the verdict.
    const result = opensslRun(["req", "-verify", "-noout", "-inform", "DER"], der);
    expect(result.stdout + result.stderr).toMatch(/verify failure|did not match/);
    expect(result.stdout + result.stderr).not.toContain("verify OK");
  });
});

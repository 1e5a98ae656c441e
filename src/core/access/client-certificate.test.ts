import { describe, expect, it } from "vitest";
import { ExtendedKeyUsageOid } from "../pki/x509/oids.js";
import { issue, type TestCertificate } from "../pki/x509/testing/issue.js";
import { testKey } from "../pki/x509/testing/keys.js";
import { ClientCertificateError, clientPrincipal } from "./client-certificate.js";

const caExtensions = { basicConstraints: { ca: true }, keyUsage: ["keyCertSign", "cRLSign"] as const };
const internal = issue({ key: testKey("ECDSA-P256", "internal-ca"), subject: { commonName: "kpki internal CA" }, extensions: caExtensions, signatureAlgorithm: "ECDSA-SHA256" });
const other = issue({ key: testKey("ECDSA-P256", "other-ca"), subject: { commonName: "kpki internal CA" }, extensions: caExtensions, signatureAlgorithm: "ECDSA-SHA256" });

function client(subject: { commonName?: string; organization?: string[] }, options: { issuer?: TestCertificate; eku?: string[] } = {}): Uint8Array {
  return issue({
    key: testKey("ECDSA-P256", "client"),
    subject,
    extensions: { keyUsage: ["digitalSignature"], ...(options.eku === undefined ? { extendedKeyUsage: [ExtendedKeyUsageOid.clientAuth] } : options.eku.length === 0 ? {} : { extendedKeyUsage: options.eku }) },
    signatureAlgorithm: "ECDSA-SHA256",
    issuer: options.issuer ?? internal,
  }).der;
}

describe("clientPrincipal (KMIP client certificate → principal)", () => {
  it.each([
    [{ commonName: "app-1", organization: ["admin"] }, "admin"],
    [{ commonName: "app-2", organization: ["reader"] }, "reader"],
    [{ commonName: "app-3", organization: ["platform-team", "operator"] }, "operator"],
    [{ commonName: "app-4", organization: ["reader", "reader"] }, "reader"],
    [{ commonName: "app-5", organization: ["platform-team"] }, undefined],
    [{ commonName: "app-6" }, undefined],
    // Two roles are ambiguous: no role, rather than the larger one.
    [{ commonName: "app-7", organization: ["reader", "admin"] }, undefined],
    // Role names are exact (Kubernetes groups are case-sensitive too).
    [{ commonName: "app-8", organization: ["Admin"] }, undefined],
  ])("%o → role %s, principal cert:<CN>", (subject, role) => {
    expect(clientPrincipal(client(subject), internal.der)).toEqual({ id: `cert:${subject.commonName}`, kind: "certificate", role, displayName: subject.commonName });
  });

  it.each([
    ["issued by another CA (even with the same name)", () => client({ commonName: "x", organization: ["admin"] }, { issuer: other }), /not issued by kpki's internal CA/],
    ["without extended key usage", () => client({ commonName: "x", organization: ["admin"] }, { eku: [] }), /clientAuth/],
    ["for serverAuth only", () => client({ commonName: "x", organization: ["admin"] }, { eku: [ExtendedKeyUsageOid.serverAuth] }), /clientAuth/],
    ["without a common name", () => client({ organization: ["admin"] }), /common name/],
  ])("refuses a certificate %s", (_name, make, message) => {
    expect(() => clientPrincipal(make(), internal.der)).toThrow(ClientCertificateError);
    expect(() => clientPrincipal(make(), internal.der)).toThrow(message);
  });
});

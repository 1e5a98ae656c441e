import { describe, expect, it } from "vitest";
import { GENERIC_PROFILES } from "../profiles/generic.js";
import type { CertificateProfile } from "../profiles/profile.js";
import { OID } from "../x509/oids.js";
import { checkIssuance, type IssuanceCandidate } from "./issuance-policy.js";

const profile = (name: string): CertificateProfile => {
  const found = GENERIC_PROFILES.find((p) => p.name === name);
  if (found === undefined) throw new Error(name);
  return found;
};

const now = new Date("2026-01-01T00:00:00Z");
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
const base: IssuanceCandidate = {
  profile: profile("server"),
  keyAlgorithm: "ECDSA-P256",
  commonName: "web",
  subjectAltNames: [{ type: "dns", value: "web.example" }],
  requestedExtensions: {},
  issuedAt: now,
  notAfter: days(90),
  issuerNotAfter: days(3650),
};

describe("checkIssuance", () => {
  it("accepts a request that fits its profile", () => {
    expect(checkIssuance(base)).toEqual([]);
  });

  it("accepts a CSR asking for a subset of the profile's usages", () => {
    expect(checkIssuance({ ...base, requestedExtensions: { keyUsage: ["digitalSignature"], extendedKeyUsage: [OID.serverAuth] } })).toEqual([]);
  });

  it.each<[string, Partial<IssuanceCandidate>, string]>([
    ["CA:TRUE requested", { requestedExtensions: { basicConstraints: { ca: true } } }, "basicConstraints"],
    ["keyCertSign requested", { requestedExtensions: { keyUsage: ["keyCertSign"] } }, "keyUsage"],
    ["keyEncipherment on an EC key", { requestedExtensions: { keyUsage: ["keyEncipherment"] } }, "keyUsage"],
    ["codeSigning requested", { requestedExtensions: { extendedKeyUsage: [OID.codeSigning] } }, "extendedKeyUsage"],
    ["no DNS/IP name on a server", { subjectAltNames: [] }, "subjectAltNames"],
    ["email name on a server", { subjectAltNames: [{ type: "dns", value: "a.example" }, { type: "email", value: "a@example.com" }] }, "subjectAltNames"],
    ["validity above the profile maximum", { notAfter: days(400) }, "ttlSeconds"],
    ["outliving the issuer", { notAfter: days(90), issuerNotAfter: days(30) }, "ttlSeconds"],
    ["client without a common name", { profile: profile("client"), commonName: undefined, subjectAltNames: [] }, "subject.commonName"],
  ])("refuses %s, naming the field", (_name, change, field) => {
    const violations = checkIssuance({ ...base, ...change });
    expect(violations.map((v) => v.field)).toContain(field);
    expect(violations.every((v) => v.reason.length > 10)).toBe(true);
  });

  it("accepts exactly the profile's maximum validity", () => {
    expect(checkIssuance({ ...base, notAfter: new Date(now.getTime() + base.profile.maxTtlSeconds * 1000) })).toEqual([]);
  });

  it("allows keyEncipherment for RSA keys", () => {
    expect(checkIssuance({ ...base, keyAlgorithm: "RSA-2048", requestedExtensions: { keyUsage: ["digitalSignature", "keyEncipherment"] } })).toEqual([]);
  });

  it("reports every violation at once", () => {
    const violations = checkIssuance({ ...base, subjectAltNames: [], notAfter: days(500), requestedExtensions: { basicConstraints: { ca: true } } });
    expect(violations.map((v) => v.field).sort()).toEqual(["basicConstraints", "subjectAltNames", "ttlSeconds"]);
  });
});

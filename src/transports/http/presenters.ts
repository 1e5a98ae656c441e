import type { ApiToken } from "../../core/access/index.js";
import { revocationReasonName, x509, type CertificateAuthority, type CertificateProfile, type IssuedCertificate } from "../../core/pki/index.js";

/** PEM of one or more DER certificates, concatenated. */
export function certificatesPem(ders: readonly Uint8Array[]): string {
  return ders.map((der) => x509.pemEncode("CERTIFICATE", der)).join("");
}

/** A CA as the API shows it (no key material, ever). */
export function authorityJson(ca: CertificateAuthority, names: ReadonlyMap<string, string>) {
  const parent = ca.parentId === undefined ? undefined : names.get(ca.parentId);
  return {
    id: ca.id,
    name: ca.name,
    ...(parent === undefined ? {} : { parent }),
    origin: ca.origin,
    status: ca.status,
    internal: ca.internal,
    keyAlgorithm: ca.keyAlgorithm,
    hasKey: ca.key !== undefined,
    subject: ca.subject,
    ...(ca.serialHex === undefined ? {} : { serialNumber: ca.serialHex }),
    ...(ca.pathLength === undefined ? {} : { pathLength: ca.pathLength }),
    ...(ca.notBefore === undefined ? {} : { notBefore: ca.notBefore.toISOString() }),
    ...(ca.notAfter === undefined ? {} : { notAfter: ca.notAfter.toISOString() }),
    createdAt: ca.createdAt.toISOString(),
    ...(ca.certificateDer === undefined ? {} : { certificatePem: x509.pemEncode("CERTIFICATE", ca.certificateDer) }),
    ...(ca.csrDer === undefined || ca.status !== "pending" ? {} : { csrPem: x509.pemEncode("CERTIFICATE REQUEST", ca.csrDer) }),
  };
}

/** An inventory entry; `expired` is derived from notAfter at `now`. */
export function certificateJson(certificate: IssuedCertificate, caName: string, now: Date) {
  const expired = certificate.status === "active" && certificate.notAfter.getTime() <= now.getTime();
  return {
    id: certificate.id,
    ca: caName,
    serialNumber: certificate.serialHex,
    profile: certificate.profile,
    subject: certificate.subject,
    ...(certificate.commonName === undefined ? {} : { commonName: certificate.commonName }),
    subjectAltNames: certificate.subjectAltNames,
    keyAlgorithm: certificate.keyAlgorithm,
    status: expired ? "expired" : certificate.status,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    fingerprintSha256: certificate.fingerprintSha256,
    requestedBy: certificate.requestedBy,
    serverGeneratedKey: certificate.serverGeneratedKey,
    createdAt: certificate.createdAt.toISOString(),
    ...(certificate.revokedAt === undefined ? {} : { revokedAt: certificate.revokedAt.toISOString() }),
    ...(certificate.revocationReason === undefined ? {} : { revocationReason: revocationReasonName(certificate.revocationReason) }),
    certificatePem: x509.pemEncode("CERTIFICATE", certificate.der),
  };
}

/** A token without its hash. */
export function tokenJson(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    ...(token.scope === undefined ? {} : { scope: token.scope }),
    createdBy: token.createdBy,
    createdAt: token.createdAt.toISOString(),
    ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt.toISOString() }),
    ...(token.revokedAt === undefined ? {} : { revokedAt: token.revokedAt.toISOString() }),
    ...(token.lastUsedAt === undefined ? {} : { lastUsedAt: token.lastUsedAt.toISOString() }),
  };
}

export function profileJson(profile: CertificateProfile) {
  return {
    name: profile.name,
    description: profile.description,
    keyUsage: profile.keyUsage,
    rsaKeyUsage: profile.rsaKeyUsage,
    extendedKeyUsage: profile.extendedKeyUsage,
    defaultTtlSeconds: profile.defaultTtlSeconds,
    maxTtlSeconds: profile.maxTtlSeconds,
    commonName: profile.commonName,
    subjectAltNames: profile.sans,
    keyAlgorithms: profile.keyAlgorithms,
  };
}

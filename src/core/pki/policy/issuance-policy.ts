import type { KeyAlgorithm } from "../../crypto/algorithms.js";
import { DomainError } from "../../shared/domain-error.js";
import type { CertificateProfile } from "../profiles/profile.js";
import { keyUsageFor } from "../profiles/profile.js";
import type { CertificateExtensions } from "../x509/extensions.js";
import { formatGeneralName, type GeneralName } from "../x509/general-name.js";
import type { SubjectFields } from "../x509/name.js";

/** Everything the policy needs to judge one issuance request; no I/O, no clock. */
export interface IssuanceCandidate {
  readonly profile: CertificateProfile;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly commonName?: string;
  /** The whole subject, for profiles that fix it; `otherAttributes` counts attributes beyond CN/O. */
  readonly subject?: SubjectFields & { readonly otherAttributes: number };
  readonly subjectAltNames: readonly GeneralName[];
  /** What the CSR asked for (empty for server-generated keys). */
  readonly requestedExtensions: CertificateExtensions;
  /** When it is issued; validity is measured from here (notBefore is backdated for clock skew). */
  readonly issuedAt: Date;
  readonly notAfter: Date;
  readonly issuerNotAfter: Date;
}

/** One reason a request does not fit its profile, naming the field. */
export interface PolicyViolation {
  readonly field: string;
  readonly reason: string;
}

/**
 * Judges a request against its profile: nothing is signed "almost". Returns every violation so
 * the caller sees all problems at once. CSRs may ask for a subset of the profile's usages (or none:
 * kubeadm's carry none); the certificate always gets exactly the profile's.
 */
export function checkIssuance(candidate: IssuanceCandidate): readonly PolicyViolation[] {
  const { profile, requestedExtensions: requested } = candidate;
  const violations: PolicyViolation[] = [];
  const add = (field: string, reason: string): void => {
    violations.push({ field, reason });
  };

  if (!profile.keyAlgorithms.includes(candidate.keyAlgorithm)) {
    add("publicKey", `key algorithm ${candidate.keyAlgorithm} is not allowed by profile ${profile.name} (allowed: ${profile.keyAlgorithms.join(", ")})`);
  }
  if (requested.basicConstraints?.ca === true) {
    add("basicConstraints", `CSR asks for CA:TRUE; profile ${profile.name} issues end-entity certificates only`);
  }
  const allowedKeyUsage = keyUsageFor(profile, candidate.keyAlgorithm);
  for (const usage of requested.keyUsage ?? []) {
    if (!allowedKeyUsage.includes(usage)) {
      add("keyUsage", `key usage ${usage} is not allowed by profile ${profile.name} (allowed: ${allowedKeyUsage.join(", ")})`);
    }
  }
  for (const usage of requested.extendedKeyUsage ?? []) {
    if (!profile.extendedKeyUsage.includes(usage)) {
      add("extendedKeyUsage", `extended key usage ${usage} is not allowed by profile ${profile.name}`);
    }
  }
  if (profile.commonName === "required" && (candidate.commonName === undefined || candidate.commonName === "")) {
    add("subject.commonName", `profile ${profile.name} requires a common name`);
  }
  for (const name of candidate.subjectAltNames) {
    if (!profile.sans[name.type]) add("subjectAltNames", `${name.type.toUpperCase()} names are not allowed by profile ${profile.name}: ${name.value}`);
  }
  if (profile.sans.requireDnsOrIp && !candidate.subjectAltNames.some((n) => n.type === "dns" || n.type === "ip")) {
    add("subjectAltNames", `profile ${profile.name} requires at least one DNS or IP subject alternative name`);
  }
  if (profile.subject !== undefined) checkFixedSubject(profile.subject, candidate.subject, profile.name, add);
  if (profile.allowedSubjectAltNames !== undefined) {
    const allowed = new Set(profile.allowedSubjectAltNames.map(sanKey));
    for (const name of candidate.subjectAltNames) {
      if (!allowed.has(sanKey(name))) add("subjectAltNames", `${formatGeneralName(name)} is not allowed for ${profile.name} (allowed: ${profile.allowedSubjectAltNames.map(formatGeneralName).join(", ") || "none"})`);
    }
  }
  const ttlSeconds = Math.round((candidate.notAfter.getTime() - candidate.issuedAt.getTime()) / 1000);
  if (ttlSeconds > profile.maxTtlSeconds) {
    add("ttlSeconds", `validity of ${ttlSeconds}s exceeds the profile maximum of ${profile.maxTtlSeconds}s`);
  }
  if (candidate.notAfter.getTime() > candidate.issuerNotAfter.getTime()) {
    add("ttlSeconds", `certificate would outlive its issuer (issuer expires ${candidate.issuerNotAfter.toISOString()})`);
  }
  return violations;
}

/** DNS names compare case-insensitively (RFC 4343); IPs are already canonical text. */
function sanKey(name: GeneralName): string {
  return name.type === "dns" ? `dns:${name.value.toLowerCase()}` : `${name.type}:${name.value}`;
}

/** The subject must be exactly the profile's CN and O set, with no other attributes. */
function checkFixedSubject(
  expected: NonNullable<CertificateProfile["subject"]>,
  actual: IssuanceCandidate["subject"],
  profileName: string,
  add: (field: string, reason: string) => void,
): void {
  if (actual?.commonName !== expected.commonName) {
    add("subject.commonName", `${profileName} requires CN=${expected.commonName}, the request has ${actual?.commonName === undefined ? "no CN" : `CN=${actual.commonName}`}`);
  }
  const organization = [...(actual?.organization ?? [])].sort();
  const wanted = [...expected.organization].sort();
  if (organization.join("\u0000") !== wanted.join("\u0000")) {
    add("subject.organization", `${profileName} requires ${wanted.length === 0 ? "no O" : wanted.map((o) => `O=${o}`).join(", ")}, the request has ${organization.length === 0 ? "no O" : organization.map((o) => `O=${o}`).join(", ")}`);
  }
  if ((actual?.organizationalUnit?.length ?? 0) + (actual?.country === undefined ? 0 : 1) + (actual?.state === undefined ? 0 : 1) + (actual?.locality === undefined ? 0 : 1) + (actual?.otherAttributes ?? 0) > 0) {
    add("subject", `${profileName} allows only CN and O in the subject`);
  }
}

/** Throws `policy_violation` listing every violation, or returns when there are none. */
export function assertIssuanceAllowed(candidate: IssuanceCandidate): void {
  const violations = checkIssuance(candidate);
  const first = violations[0];
  if (first === undefined) return;
  throw new DomainError("policy_violation", violations.map((v) => `${v.field}: ${v.reason}`).join("; "), { field: first.field });
}

import type { KeyAlgorithm } from "../crypto/algorithms.js";
import { invalidInput } from "../shared/domain-error.js";
import type { ReadyIssuer } from "./issuer-cache.js";
import { assertIssuanceAllowed } from "./policy/issuance-policy.js";
import type { CertificateProfile } from "./profiles/profile.js";
import { validityWindow } from "./validity.js";
import type { CertificateExtensions } from "./x509/extensions.js";
import { formatGeneralName, type GeneralName } from "./x509/general-name.js";
import { formatName, nameFields, parseName } from "./x509/name.js";

/** Most SANs one certificate may carry; more is a mistake or an abuse. */
export const MAX_SUBJECT_ALT_NAMES = 100;

/** The subject side of a request, whichever way it arrived (CSR, server-generated key, held key). */
export interface PlanSubject {
  readonly keyAlgorithm: KeyAlgorithm;
  readonly subjectDer: Uint8Array;
  readonly subjectAltNames: readonly GeneralName[];
  /** What a CSR asked for (empty otherwise). */
  readonly requestedExtensions: CertificateExtensions;
}

/** A request the policy accepted, with everything needed to sign it. */
export interface IssuancePlan {
  readonly profile: CertificateProfile;
  readonly issuer: ReadyIssuer;
  readonly now: Date;
  readonly subjectDer: Uint8Array;
  readonly subject: string;
  readonly commonName: string | undefined;
  readonly subjectAltNames: readonly GeneralName[];
  readonly keyAlgorithm: KeyAlgorithm;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Applies the issuance policy to one request: subject and SAN sanity, validity (default: the
 * profile's, capped by the issuer's remaining life), and the profile's rules. Throws
 * `policy_violation` naming every problem; returns the plan to sign otherwise. Pure: no I/O.
 */
export function planIssuance(issuer: ReadyIssuer, profile: CertificateProfile, subject: PlanSubject, now: Date, ttlSeconds?: number): IssuancePlan {
  const name = parseName(subject.subjectDer);
  const fields = nameFields(name);
  const subjectAltNames = dedupe(subject.subjectAltNames);
  if (subjectAltNames.length > MAX_SUBJECT_ALT_NAMES) throw invalidInput("subjectAltNames", `at most ${MAX_SUBJECT_ALT_NAMES} names`);
  if (name.rdns.length === 0 && subjectAltNames.length === 0) {
    throw invalidInput("subject", "a certificate needs a subject or at least one subject alternative name");
  }
  const ttl = ttlSeconds ?? Math.min(profile.defaultTtlSeconds, Math.floor((issuer.ca.notAfter.getTime() - now.getTime()) / 1000));
  const { notBefore, notAfter } = validityWindow(now, ttl);
  assertIssuanceAllowed({
    profile,
    keyAlgorithm: subject.keyAlgorithm,
    ...(fields.commonName === undefined ? {} : { commonName: fields.commonName }),
    subject: { ...fields, otherAttributes: fields.other.length },
    subjectAltNames,
    requestedExtensions: subject.requestedExtensions,
    issuedAt: now,
    notAfter,
    issuerNotAfter: issuer.ca.notAfter,
  });
  return {
    profile,
    issuer,
    now,
    subjectDer: subject.subjectDer,
    subject: formatName(name),
    commonName: fields.commonName,
    subjectAltNames,
    keyAlgorithm: subject.keyAlgorithm,
    notBefore,
    notAfter,
  };
}

/** SANs without repeats (DNS names compared case-insensitively). */
function dedupe(names: readonly GeneralName[]): GeneralName[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = formatGeneralName(name).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

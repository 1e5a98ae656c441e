import { createHash } from "node:crypto";
import type { KeyAlgorithm } from "../crypto/algorithms.js";
import { formatGeneralName, type GeneralName } from "./x509/general-name.js";
import type { SubjectFields } from "./x509/name.js";

/** What identifies an issuance request for idempotency. */
export interface HashableIssueRequest {
  readonly ca: string;
  readonly profile: string;
  readonly csrDer?: Uint8Array;
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly subject?: SubjectFields;
  readonly subjectAltNames?: readonly GeneralName[];
  readonly ttlSeconds?: number;
}

/** Canonical digest of what was asked, so a retry can be told from a different request. */
export function hashIssueRequest(request: HashableIssueRequest): string {
  const canonical = JSON.stringify([
    request.ca,
    request.profile,
    request.csrDer === undefined ? null : Buffer.from(request.csrDer).toString("base64"),
    request.keyAlgorithm ?? null,
    request.subject === undefined ? null : canonicalSubject(request.subject),
    request.subjectAltNames?.map(formatGeneralName) ?? null,
    request.ttlSeconds ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** Subject fields in a fixed order, so key order in the caller's JSON does not matter. */
function canonicalSubject(subject: SubjectFields): unknown[] {
  return [subject.commonName ?? null, subject.organization ?? null, subject.organizationalUnit ?? null, subject.country ?? null, subject.state ?? null, subject.locality ?? null];
}

import { invalidInput } from "../../shared/domain-error.js";

/**
 * CRLReason (RFC 5280 §5.3.1), by the names the API takes. `certificateHold` (6) and
 * `removeFromCRL` (8) are left out on purpose: kpki revocation is final (no hold/release), and
 * value 7 is unused in the spec.
 */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** The reason's code, or an `invalid_input` naming the accepted values. */
export function revocationReasonCode(name: string): number {
  const code = (REVOCATION_REASONS as Readonly<Record<string, number>>)[name];
  if (code === undefined) throw invalidInput("reason", `unknown revocation reason ${name} (RFC 5280 §5.3.1: ${Object.keys(REVOCATION_REASONS).join(", ")})`);
  return code;
}

/** The name of a stored reason code (for display); unknown codes show as numbers. */
export function revocationReasonName(code: number): string {
  return Object.entries(REVOCATION_REASONS).find(([, value]) => value === code)?.[0] ?? String(code);
}

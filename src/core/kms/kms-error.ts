import { DomainError, type ErrorCode } from "../shared/domain-error.js";
import type { KmipResultReason } from "./kmip-vocabulary.js";

/** A key-service error carrying the KMIP Result Reason that names it precisely. */
export function kmsError(code: ErrorCode, reason: KmipResultReason, message: string, field?: string): DomainError {
  return new DomainError(code, message, { reason, ...(field === undefined ? {} : { field }) });
}

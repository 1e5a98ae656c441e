/**
 * The closed list of failure kinds the core reports. Transports map each code once
 * (HTTP status, KMIP Result Reason, gRPC status, CLI exit code); the core never knows those numbers.
 */
export type ErrorCode =
  | "invalid_input" // the request is malformed or a value is out of range
  | "not_found" // the named object does not exist (or the caller may not know that it does)
  | "already_exists" // a unique name or key is taken
  | "conflict" // the request collides with the current state (e.g. idempotency key reused with another body)
  | "policy_violation" // well-formed, but a profile or policy forbids it
  | "wrong_state" // the object's lifecycle state does not allow the operation
  | "unauthenticated" // no or invalid credentials
  | "permission_denied" // authenticated, but not allowed
  | "limit_exceeded" // a size or rate limit was hit
  | "unsupported" // a valid request for something this service does not implement
  | "unavailable" // a dependency (database, key) cannot be reached right now
  | "internal"; // a bug or an unexpected failure

/** Optional machine-readable detail: which input field is wrong, and a finer reason name. */
export interface ErrorDetail {
  readonly field?: string;
  /**
   * A protocol-neutral name for exactly what went wrong, finer than the code. The key service uses
   * KMIP Result Reason names ("Wrong Key Lifecycle State", "Not Extractable"…): KMIP answers with
   * them and REST shows them, from one source.
   */
  readonly reason?: string;
}

/** The one error type the core throws. The message is safe to show to the caller (no secrets). */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail: ErrorDetail = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Narrowing helper for catch blocks. */
export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

/** Shorthand for the most common refusal: a named input field is invalid. */
export function invalidInput(field: string, reason: string): DomainError {
  return new DomainError("invalid_input", `${field}: ${reason}`, { field });
}

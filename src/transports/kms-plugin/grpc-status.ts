import { status as GrpcStatus } from "@grpc/grpc-js";
import { isDomainError, type ErrorCode } from "../../core/shared/domain-error.js";

/** The gRPC status of each core error code: the one place this mapping lives (house rule 5). */
const STATUS: Readonly<Record<ErrorCode, GrpcStatus>> = {
  invalid_input: GrpcStatus.INVALID_ARGUMENT,
  not_found: GrpcStatus.NOT_FOUND,
  already_exists: GrpcStatus.ALREADY_EXISTS,
  conflict: GrpcStatus.ABORTED,
  policy_violation: GrpcStatus.PERMISSION_DENIED,
  wrong_state: GrpcStatus.FAILED_PRECONDITION,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  permission_denied: GrpcStatus.PERMISSION_DENIED,
  limit_exceeded: GrpcStatus.RESOURCE_EXHAUSTED,
  unsupported: GrpcStatus.UNIMPLEMENTED,
  unavailable: GrpcStatus.UNAVAILABLE,
  internal: GrpcStatus.INTERNAL,
};

/** What a failed call answers: a DomainError's message is safe to show; anything else is an opaque INTERNAL. */
export interface GrpcFailure {
  readonly code: GrpcStatus;
  readonly details: string;
  /** Whether the error was expected (a DomainError) — unexpected ones are logged with their stack. */
  readonly expected: boolean;
}

export function grpcFailureOf(error: unknown): GrpcFailure {
  if (isDomainError(error)) return { code: STATUS[error.code], details: error.message, expected: error.code !== "internal" };
  return { code: GrpcStatus.INTERNAL, details: "internal error (see the plugin's log)", expected: false };
}

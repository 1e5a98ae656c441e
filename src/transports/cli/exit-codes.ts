/**
 * Process exit codes, one per kind of failure, so scripts and CronJobs can tell them apart.
 * The one place core error codes (and server problem codes) become exit codes.
 */
export const EXIT = {
  ok: 0,
  failure: 1, // unexpected error (a bug, or the server's 500)
  usage: 2, // bad arguments, bad configuration, invalid input
  notFound: 3,
  denied: 4, // missing, wrong or insufficient credentials
  conflict: 5, // already exists, conflicting state
  refused: 6, // the request does not fit a profile or policy, or is unsupported
  unavailable: 7, // the server or database cannot be reached
  jobFailed: 8, // `kpki rotate`: at least one scheduled job failed (the others ran; see the table)
} as const;

/** Exit code for a core `ErrorCode` or a problem+json `code` from the server. */
export function exitCodeFor(code: string): number {
  switch (code) {
    case "invalid_input":
    case "limit_exceeded":
    case "method_not_allowed":
    case "unsupported_media_type":
      return EXIT.usage;
    case "not_found":
      return EXIT.notFound;
    case "unauthenticated":
    case "permission_denied":
      return EXIT.denied;
    case "already_exists":
    case "conflict":
    case "wrong_state":
      return EXIT.conflict;
    case "policy_violation":
    case "unsupported":
      return EXIT.refused;
    case "unavailable":
      return EXIT.unavailable;
    default:
      return EXIT.failure;
  }
}

/** A failure the CLI reports as one line on stderr and an exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

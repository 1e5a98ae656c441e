import type { ErrorRequestHandler, Response } from "express";
import { DomainError, type ErrorCode } from "../../core/shared/domain-error.js";
import type { Logger } from "../../core/shared/logger.js";
import { requestState } from "./request-state.js";

/** The HTTP status of each core error code: the one place this mapping lives (house rule 5). */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_input: 400,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  policy_violation: 422,
  wrong_state: 409,
  unauthenticated: 401,
  permission_denied: 403,
  limit_exceeded: 413,
  unsupported: 422,
  unavailable: 503,
  internal: 500,
};

const TITLE: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Problem codes for statuses the framework (validator, body parser) answers with. */
const FRAMEWORK_CODES: Readonly<Record<number, HttpProblemCode>> = {
  401: "unauthenticated",
  403: "permission_denied",
  404: "not_found",
  405: "method_not_allowed",
  413: "limit_exceeded",
  415: "unsupported_media_type",
};

/** Problem codes of the HTTP layer itself, beyond the core's. */
type HttpProblemCode = ErrorCode | "method_not_allowed" | "unsupported_media_type";

interface Problem {
  readonly status: number;
  readonly code: HttpProblemCode;
  readonly detail: string;
  readonly field?: string;
  /** The KMIP Result Reason naming the failure precisely (key service errors). */
  readonly kmipResultReason?: string;
  readonly errors?: readonly { path: string; message: string }[];
  /** Response headers the problem needs (e.g. `Allow` on 405). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Writes an RFC 9457 problem+json response. */
export function sendProblem(res: Response, problem: Problem): void {
  const { requestId } = requestState(res);
  if (problem.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="kpki"');
  for (const [name, value] of Object.entries(problem.headers ?? {})) res.setHeader(name, value);
  res
    .status(problem.status)
    .type("application/problem+json")
    .send(
      JSON.stringify({
        type: `urn:kpki:problem:${problem.code}`,
        title: TITLE[problem.status] ?? "Error",
        status: problem.status,
        detail: problem.detail,
        code: problem.code,
        ...(problem.field === undefined ? {} : { field: problem.field }),
        ...(problem.kmipResultReason === undefined ? {} : { kmipResultReason: problem.kmipResultReason }),
        ...(problem.errors === undefined ? {} : { errors: problem.errors }),
        requestId,
      }),
    );
}

/** Shape of the errors express-openapi-validator and body-parser raise. */
interface FrameworkError {
  status?: number;
  statusCode?: number;
  type?: string;
  message?: string;
  errors?: { path?: string; message?: string }[];
  headers?: Record<string, string>;
}

/** What the validator says the client sent, from its "unsupported media type X" message. */
function mediaTypeSent(message: string | undefined): string {
  const sent = /unsupported media type (.+)$/.exec(message ?? "")?.[1];
  return sent === undefined || sent === "undefined" ? "none was given" : `got ${sent}`;
}

/** Turns framework errors (validation, body parsing) into problems. */
function frameworkProblem(error: FrameworkError): Problem | undefined {
  const status = error.status ?? error.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (error.type === "entity.too.large") return { status: 413, code: "limit_exceeded", detail: "request body is larger than the limit" };
  if (error.type === "entity.parse.failed") return { status: 400, code: "invalid_input", detail: "request body is not valid JSON" };
  if (error.type === "charset.unsupported") return { status: 415, code: "unsupported_media_type", detail: `${error.message ?? "unsupported charset"}: JSON must be UTF-8` };
  const errors = (error.errors ?? []).map((e) => ({ path: e.path ?? "", message: e.message ?? "" }));
  const code = FRAMEWORK_CODES[status] ?? "invalid_input";
  const detail =
    status === 415
      ? `Content-Type must be application/json (${mediaTypeSent(error.message)})`
      : status === 401
        ? "this operation requires a bearer token (Authorization: Bearer <token>)"
        : status === 403
          ? (error.message ?? "access denied")
        : errors.length > 0
          ? errors.map((e) => `${e.path} ${e.message}`.trim()).join("; ")
          : (error.message ?? "bad request");
  // Only request inputs are fields; a route-level problem (404, 405) names no field.
  const input = /^\/(body|query|params|headers)(\/.*)?$/.exec(errors[0]?.path ?? "");
  const field = input === null ? undefined : (input[2] ?? "").slice(1).replaceAll("/", ".") || input[1];
  return { status, code, detail, ...(field === undefined ? {} : { field }), ...(errors.length > 0 && status === 400 ? { errors } : {}), ...(error.headers === undefined ? {} : { headers: error.headers }) };
}

/** The key-service endpoints (KMIP operations over REST). */
const KEY_SERVICE_PATH = /^\/v1\/(objects|keys|batch|rng)(\/|$)/;

/** The last middleware: every error leaves as problem+json; unexpected ones are logged, not shown. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (error instanceof DomainError) {
      const status = STATUS[error.code];
      if (status >= 500) requestState(res).log.error({ err: error }, "request failed");
      sendProblem(res, {
        status,
        code: error.code,
        detail: error.message,
        ...(error.detail.field === undefined ? {} : { field: error.detail.field }),
        ...(error.detail.reason === undefined ? {} : { kmipResultReason: error.detail.reason }),
      });
      return;
    }
    const problem = typeof error === "object" && error !== null ? frameworkProblem(error) : undefined;
    if (problem !== undefined) {
      // The key service documents its refusals as KeyProblem (with a KMIP reason), including the
      // inputs the OpenAPI validator refuses before the request reaches it.
      const keyServiceInput = problem.status === 400 && problem.errors !== undefined && KEY_SERVICE_PATH.test(req.path);
      sendProblem(res, keyServiceInput ? { ...problem, kmipResultReason: "Invalid Field" } : problem);
      return;
    }
    (res.locals.kpki === undefined ? logger : requestState(res).log).error({ err: error }, "unexpected error");
    sendProblem(res, { status: 500, code: "internal", detail: "internal error; see the server log for the request id" });
  };
}

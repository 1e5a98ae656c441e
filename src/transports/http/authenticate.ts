import type { Request, RequestHandler } from "express";
import { ANONYMOUS, authorize, type TokenService } from "../../core/access/index.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { OpenApiRequest } from "express-openapi-validator/dist/framework/types.js";
import { requestState } from "./request-state.js";

/** Longest Authorization header accepted (a kpki token is 48 characters). */
const MAX_AUTHORIZATION_LENGTH = 512;

/**
 * Resolves the caller from `Authorization: Bearer <token>`. No header: anonymous (public
 * operations still work). A header that is present but wrong fails the request, even for public
 * operations, so a misconfigured client learns at once.
 */
export function authenticate(tokens: TokenService): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const state = requestState(res);
    if (header === undefined) {
      state.principal = ANONYMOUS;
      next();
      return;
    }
    const match = header.length <= MAX_AUTHORIZATION_LENGTH ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header) : null;
    if (match?.[1] === undefined) throw new DomainError("unauthenticated", "Authorization must be `Bearer <token>`");
    state.principal = await tokens.authenticate(match[1]);
    next();
  };
}

/** The operation the OpenAPI validator matched, or an internal error for an unmatched route. */
function operationOf(req: Request): string {
  const operationId = (req as OpenApiRequest).openapi?.schema.operationId;
  if (operationId === undefined) throw new DomainError("internal", `route ${req.method} ${req.path} has no operationId`);
  return operationId;
}

/**
 * The validator's security stage runs before it validates the request, so the access decision
 * happens there: an anonymous or unauthorized caller learns nothing about the request schema.
 * Errors carry the HTTP status the framework needs to stop the request.
 */
export function securityHandlers(): { bearerAuth: (req: Request) => boolean } {
  return {
    bearerAuth: (req) => {
      const res = req.res;
      if (res === undefined) throw new DomainError("internal", "request without response");
      try {
        authorize(requestState(res).principal, operationOf(req));
      } catch (error) {
        if (error instanceof DomainError) throw Object.assign(new Error(error.message), { status: error.code === "unauthenticated" ? 401 : 403 });
        throw error;
      }
      return true;
    },
  };
}

/**
 * The access decision for every route, by the operationId the OpenAPI validator matched: one
 * decision point (core/access `authorize`), no per-route checks to forget. Protected operations were
 * already decided in the security stage; this also covers operations the document marks public, so
 * the document can never open what the access policy keeps closed.
 */
export function authorizeOperation(): RequestHandler {
  return (req, res, next) => {
    authorize(requestState(res).principal, operationOf(req));
    next();
  };
}

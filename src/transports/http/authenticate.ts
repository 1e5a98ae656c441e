import type { Request, RequestHandler, Response } from "express";
import { ANONYMOUS, type AccessGuard, type AccessTarget, type TokenService } from "../../core/access/index.js";
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

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * What a request names, for scoped grants: the cluster, node and named key of its path; for
 * kubeadm signing also the node and the certificate names of its body (read as sent: the security
 * stage runs before validation, and anything unexpected there names nothing, which a scoped grant
 * is refused for). An operation on a managed object (`{uid}`) is decided again by the key service
 * once it knows the object's named key. The one place HTTP requests become access targets.
 */
export function requestTarget(req: Request): AccessTarget {
  const params = ((req as OpenApiRequest).openapi?.pathParams ?? {}) as Record<string, unknown>;
  const body: unknown = req.body;
  const fromBody = operationOf(req) === "signKubeadmCsrs" && typeof body === "object" && body !== null ? (body as { node?: unknown; csrs?: unknown }) : undefined;
  const cluster = text(params.cluster);
  const node = text(params.node) ?? text(fromBody?.node);
  const key = text(params.key);
  const csrs = fromBody?.csrs;
  return {
    ...(cluster === undefined ? {} : { cluster }),
    ...(node === undefined ? {} : { node }),
    ...(key === undefined ? {} : { key }),
    ...(fromBody === undefined ? {} : { kubeadmCertificates: typeof csrs === "object" && csrs !== null ? Object.keys(csrs) : [] }),
    ...(params.uid === undefined ? {} : { objectLookupPending: true as const }),
  };
}

/** The access decision for the request's operation and target (core/access, audited when a scoped grant is refused). */
async function decide(guard: AccessGuard, req: Request, res: Response): Promise<void> {
  const state = requestState(res);
  await guard.check({ principal: state.principal, requestId: state.requestId }, operationOf(req), requestTarget(req));
}

/**
 * The validator's security stage runs before it validates the request, so the access decision
 * happens there: an anonymous or unauthorized caller learns nothing about the request schema.
 * Errors carry the HTTP status the framework needs to stop the request.
 */
export function securityHandlers(guard: AccessGuard): { bearerAuth: (req: Request) => Promise<boolean> } {
  return {
    bearerAuth: async (req) => {
      const res = req.res;
      if (res === undefined) throw new DomainError("internal", "request without response");
      try {
        await decide(guard, req, res);
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
export function authorizeOperation(guard: AccessGuard): RequestHandler {
  return async (req, res, next) => {
    await decide(guard, req, res);
    next();
  };
}

import { TLSSocket } from "node:tls";
import type { Request, RequestHandler, Response } from "express";
import { ANONYMOUS, ClientCertificateError, clientPrincipal, type AccessGuard, type AccessTarget, type Principal, type TokenService } from "../../core/access/index.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { OpenApiRequest } from "express-openapi-validator/dist/framework/types.js";
import { requestState } from "./request-state.js";

/** Longest Authorization header accepted (a kpki token is 48 characters). */
const MAX_AUTHORIZATION_LENGTH = 512;

/**
 * The principal of the TLS client certificate of this connection, if the client presented one;
 * worked out once per connection (keep-alive requests reuse it). A certificate the handshake could
 * not verify (another CA, expired) or that is not a kpki client certificate is refused: 401.
 */
function certificatePrincipal(socket: unknown, clientIssuerDer: Uint8Array, known: WeakMap<TLSSocket, Principal | DomainError>): Principal | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  let outcome = known.get(socket);
  if (outcome === undefined) {
    const certificate = socket.getPeerX509Certificate();
    if (certificate === undefined) return undefined;
    try {
      if (!socket.authorized) throw new ClientCertificateError(`the client certificate is not trusted (${String(socket.authorizationError)})`);
      outcome = clientPrincipal(certificate.raw, clientIssuerDer);
    } catch (error) {
      if (!(error instanceof ClientCertificateError)) throw error;
      outcome = new DomainError("unauthenticated", error.message);
    }
    known.set(socket, outcome);
  }
  if (outcome instanceof DomainError) throw outcome;
  return outcome;
}

/**
 * Resolves the caller: `Authorization: Bearer <token>` first; else the TLS client certificate, if
 * the client presented one and `clientIssuerDer` (kpki's internal CA) is given: the principal KMIP
 * gives the same certificate (core/access clientPrincipal); else anonymous (public operations still
 * work). Credentials that are present but wrong fail the request, even for public operations, so a
 * misconfigured client learns at once.
 */
export function authenticate(tokens: TokenService, clientIssuerDer?: Uint8Array): RequestHandler {
  const known = new WeakMap<TLSSocket, Principal | DomainError>();
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const state = requestState(res);
    if (header === undefined) {
      state.principal = (clientIssuerDer === undefined ? undefined : certificatePrincipal(req.socket, clientIssuerDer, known)) ?? ANONYMOUS;
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
 * The document offers two credentials (a client certificate, a bearer token) and the validator
 * asks each scheme in turn; authentication already chose the principal, so both schemes give the
 * one decision, made once per request (a refusal is audited once). Errors carry the HTTP status
 * the framework needs to stop the request.
 */
export function securityHandlers(guard: AccessGuard): Record<"clientCertificate" | "bearerAuth", (req: Request) => Promise<boolean>> {
  const decisions = new WeakMap<Request, Promise<void>>();
  const handler = async (req: Request): Promise<boolean> => {
    const res = req.res;
    if (res === undefined) throw new DomainError("internal", "request without response");
    let decision = decisions.get(req);
    if (decision === undefined) {
      decision = decide(guard, req, res);
      decisions.set(req, decision);
    }
    try {
      await decision;
    } catch (error) {
      if (error instanceof DomainError) throw Object.assign(new Error(error.message), { status: error.code === "unauthenticated" ? 401 : 403 });
      throw error;
    }
    return true;
  };
  return { clientCertificate: handler, bearerAuth: handler };
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

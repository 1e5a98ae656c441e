import type { Response } from "express";
import { ROLE_PERMISSIONS, type Principal } from "../../core/access/index.js";
import type { Logger } from "../../core/shared/logger.js";
import type { RequestContext } from "../../core/shared/request-context.js";

/** What the middleware chain learns about a request, kept in `res.locals.kpki`. */
export interface RequestState {
  readonly requestId: string;
  readonly log: Logger;
  principal: Principal;
}

/** The request's state; set by the first middleware, so always present in handlers. */
export function requestState(res: Response): RequestState {
  return res.locals.kpki as RequestState;
}

/** The core's view of the caller. */
export function requestContext(res: Response): RequestContext {
  const state = requestState(res);
  const role = state.principal.role;
  return { principal: state.principal, requestId: state.requestId, mayIssueCredentials: role !== undefined && ROLE_PERMISSIONS[role].has("token.manage") };
}

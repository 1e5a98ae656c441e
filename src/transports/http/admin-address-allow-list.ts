import type { Request, RequestHandler } from "express";
import type { OpenApiRequest } from "express-openapi-validator/dist/framework/types.js";
import { KMS_OPERATION_IDS, OPERATION_PERMISSIONS, ROLE_PERMISSIONS, isOperationId, type Permission } from "../../core/access/index.js";
import type { AddressRanges } from "../../core/shared/address-ranges.js";
import { sendProblem } from "./error-response.js";
import { requestState } from "./request-state.js";

/**
 * The permissions only an administrator holds: what admin has and operator (the strongest other
 * role) lacks — minting tokens, reading the audit trail, taking key material or a cluster's static
 * keys out of kpki. Derived from the role table, so a permission added to admin alone is covered.
 */
export const ADMIN_ONLY_PERMISSIONS: ReadonlySet<Permission> = new Set([...ROLE_PERMISSIONS.admin].filter((permission) => !ROLE_PERMISSIONS.operator.has(permission)));

/** The permission the matched operation needs, if any. */
function permissionOf(operationId: string | undefined): Permission | undefined {
  return operationId !== undefined && isOperationId(operationId) ? OPERATION_PERMISSIONS[operationId] : undefined;
}

/** A KMIP batch is as privileged as its most privileged item (a `Get` is a key export). */
function batchNeedsAdmin(body: unknown): boolean {
  const items = (body as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items)) return false;
  return items.some((item: { operation?: unknown }) => {
    const name = item.operation;
    return typeof name === "string" && Object.hasOwn(KMS_OPERATION_IDS, name) && ADMIN_ONLY_PERMISSIONS.has(OPERATION_PERMISSIONS[KMS_OPERATION_IDS[name as keyof typeof KMS_OPERATION_IDS]]);
  });
}

/** Whether the request asks for an admin-only operation. */
export function isAdminOperation(req: Request): boolean {
  const operationId = (req as OpenApiRequest).openapi?.schema.operationId;
  const permission = permissionOf(operationId);
  if (permission !== undefined && ADMIN_ONLY_PERMISSIONS.has(permission)) return true;
  return operationId === "runBatch" && batchNeedsAdmin(req.body);
}

/**
 * KPKI_ADMIN_ALLOW: admin-only operations are refused (403) unless the connection comes from an
 * allowed address range, whoever the caller is: a stolen admin token is of no use from elsewhere.
 * Runs after the access decision (a caller without the role learns nothing new) and uses the
 * socket's address, never X-Forwarded-For.
 */
export function adminAddressAllowList(allowed: AddressRanges): RequestHandler {
  return (req, res, next) => {
    const address = req.socket.remoteAddress ?? "";
    if (!isAdminOperation(req) || allowed.contains(address)) {
      next();
      return;
    }
    const state = requestState(res);
    state.log.warn({ address, principal: state.principal.id, operation: (req as OpenApiRequest).openapi?.schema.operationId }, "admin operation refused: source address not in KPKI_ADMIN_ALLOW");
    sendProblem(res, { status: 403, code: "permission_denied", detail: "admin operations are not allowed from this address (KPKI_ADMIN_ALLOW)" });
  };
}

import { DomainError } from "../shared/domain-error.js";
import { OPERATION_PERMISSIONS, isOperationId } from "./operations.js";
import type { Principal } from "./principal.js";
import { ROLE_PERMISSIONS } from "./roles.js";

/**
 * The one access decision every transport calls before touching the core. Deny by default:
 * unknown operations, principals without a role and roles without the permission are refused.
 * Throws `unauthenticated` for anonymous callers of non-public operations (so HTTP can answer
 * 401 with a challenge) and `permission_denied` otherwise.
 */
export function authorize(principal: Principal, operation: string): void {
  if (!isOperationId(operation)) {
    throw new DomainError("permission_denied", `operation ${operation} is not in the access policy`);
  }
  const permission = OPERATION_PERMISSIONS[operation];
  if (permission === "public") return;
  if (principal.kind === "anonymous" || principal.role === undefined) {
    throw new DomainError("unauthenticated", "this operation requires a bearer token");
  }
  if (!ROLE_PERMISSIONS[principal.role].has(permission)) {
    throw new DomainError("permission_denied", `role ${principal.role} lacks permission ${permission} for ${operation}`);
  }
}

import { DomainError } from "../shared/domain-error.js";
import { OPERATION_PERMISSIONS, isOperationId } from "./operations.js";
import type { Principal } from "./principal.js";
import { isScopedRole, ROLE_PERMISSIONS } from "./roles.js";
import { scopeDenial, type AccessTarget } from "./scope.js";

/**
 * The one access decision every transport calls before touching the core. Deny by default:
 * unknown operations, principals without a role, roles without the permission, and scoped roles
 * on a target outside their scope (or a request that names none) are refused. `target` is what
 * the request names (cluster, node, named key); the key service decides again with the named key
 * of a managed object once it has loaded it. Throws `unauthenticated` for anonymous callers of
 * non-public operations (so HTTP can answer 401 with a challenge) and `permission_denied` otherwise.
 */
export function authorize(principal: Principal, operation: string, target: AccessTarget = {}): void {
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
  if (isScopedRole(principal.role)) {
    const denial = scopeDenial(principal.role, principal.scope, operation, target);
    if (denial !== undefined) throw new DomainError("permission_denied", `${operation}: ${denial}`);
  }
}

/**
 * Whether `authorize` allows this, for a part of an answer that is another operation's to give
 * (kubeadm signing hands a control-plane node sa.key: exportServiceAccountKeyFiles).
 */
export function isAllowed(principal: Principal, operation: string, target: AccessTarget = {}): boolean {
  try {
    authorize(principal, operation, target);
    return true;
  } catch (error) {
    if (error instanceof DomainError) return false;
    throw error;
  }
}

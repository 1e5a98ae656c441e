import type { AuditLog } from "../shared/audit.js";
import type { Clock } from "../shared/clock.js";
import { isDomainError } from "../shared/domain-error.js";
import type { KmsAccess } from "../kms/index.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { authorize } from "./authorize.js";
import { KMS_OPERATION_IDS } from "./kms-operations.js";
import type { Principal } from "./principal.js";
import { isScopedRole } from "./roles.js";
import type { AccessTarget } from "./scope.js";

/** Who asks, as the guard needs it. */
export interface AccessRequest {
  readonly principal: Principal;
  readonly requestId?: string;
}

/**
 * `authorize` with a record of refused cross-scope attempts: a scoped grant (one cluster, node or
 * set of named keys) that reaches for something else is refused and audited (`access.deny`, the
 * principal, the operation and the target it named). Refusals of unscoped roles and anonymous
 * 401s are not recorded: they say nothing a role does not, and anyone could flood the trail with
 * them.
 */
export class AccessGuard {
  constructor(private readonly deps: { readonly uow: UnitOfWork<{ readonly audit: AuditLog }>; readonly clock: Clock }) {}

  async check(request: AccessRequest, operation: string, target: AccessTarget = {}): Promise<void> {
    try {
      authorize(request.principal, operation, target);
    } catch (error) {
      if (isDomainError(error) && error.code === "permission_denied" && request.principal.role !== undefined && isScopedRole(request.principal.role)) {
        await this.recordDenial(request, operation, target, error.message);
      }
      throw error;
    }
  }

  /** The key service's access decisions for this caller (KmsDispatcher). */
  keyService(request: AccessRequest): KmsAccess {
    const role = request.principal.role;
    return {
      needsKeyName: role !== undefined && isScopedRole(role),
      check: (operation, target) => this.check(request, KMS_OPERATION_IDS[operation], target),
    };
  }

  private async recordDenial(request: AccessRequest, operation: string, target: AccessTarget, reason: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.uow.run((r) =>
      r.audit.record(
        {
          actor: request.principal.id,
          action: "access.deny",
          target: describeTarget(target),
          result: "failure",
          requestId: request.requestId,
          details: {
            operation,
            reason,
            role: request.principal.role ?? null,
            ...(target.cluster === undefined ? {} : { cluster: target.cluster }),
            ...(target.node === undefined ? {} : { node: target.node }),
            ...(target.key === undefined ? {} : { key: target.key }),
          },
        },
        now,
      ),
    );
  }
}

/** The audit target of a refused request: what it named, most specific first. */
function describeTarget(target: AccessTarget): string {
  if (target.key !== undefined) return `named-key:${target.key}`;
  // By name (other records name a cluster by id): a refused request may name a cluster that does not exist.
  if (target.cluster !== undefined && target.node !== undefined) return `cluster-name:${target.cluster}/node:${target.node}`;
  if (target.cluster !== undefined) return `cluster-name:${target.cluster}`;
  return "-";
}

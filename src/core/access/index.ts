/** Public surface of core/access: what transports and the composition root import. */
export { authorize, isAllowed } from "./authorize.js";
export { OPERATION_PERMISSIONS, isOperationId, type OperationId } from "./operations.js";
export { KMS_OPERATION_IDS } from "./kms-operations.js";
export { PERMISSIONS, type Permission } from "./permissions.js";
export { ROLES, ROLE_PERMISSIONS, SCOPED_ROLES, SCOPED_ROLE_OPERATIONS, UNSCOPED_ROLES, isRole, isScopedRole, type Role, type ScopedRole } from "./roles.js";
export { KEY_OPERATIONS, validateScope, type AccessTarget, type KeyOperation, type Scope } from "./scope.js";
export { AccessGuard, type AccessRequest } from "./access-guard.js";
export { ANONYMOUS, LOCAL_OPERATOR, SYSTEM, type Principal } from "./principal.js";
export type { RequestContext } from "../shared/request-context.js";
export type { ApiToken, TokenRepository } from "./api-token.js";
export { TokenService, TOKEN_PREFIX, hashToken, type AccessRepositories, type CreatedToken, type CreateTokenRequest } from "./token-service.js";
export { AuditTrail, type AuditFilter } from "./audit-trail.js";
export { ClientCertificateError, clientPrincipal } from "./client-certificate.js";

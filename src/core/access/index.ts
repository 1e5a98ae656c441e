/** Public surface of core/access: what transports and the composition root import. */
export { authorize } from "./authorize.js";
export { OPERATION_PERMISSIONS, isOperationId, type OperationId } from "./operations.js";
export { KMS_OPERATION_IDS } from "./kms-operations.js";
export { PERMISSIONS, type Permission } from "./permissions.js";
export { ROLES, ROLE_PERMISSIONS, isRole, type Role } from "./roles.js";
export { ANONYMOUS, LOCAL_OPERATOR, SYSTEM, type Principal } from "./principal.js";
export type { RequestContext } from "../shared/request-context.js";
export type { ApiToken, TokenRepository } from "./api-token.js";
export { TokenService, TOKEN_PREFIX, hashToken, type AccessRepositories, type CreatedToken, type CreateTokenRequest } from "./token-service.js";
export { AuditTrail, type AuditFilter } from "./audit-trail.js";

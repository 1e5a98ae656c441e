/** Public surface of core/pki: what transports and the composition root import. */
export type { CertificateAuthority, CaOrigin, CaStatus } from "./certificate-authority.js";
export type { IssuedCertificate, CertificateStatus } from "./issued-certificate.js";
export type { AuthorityRepository, CertificateRepository, CertificateQuery, PkiRepositories, EphemeralKeyGenerator, EphemeralKeyPair } from "./ports.js";
export { HierarchyService, DEFAULT_CA_TTL_SECONDS, type CreateAuthorityRequest } from "./hierarchy-service.js";
export { AuthorityImportService, type ImportAuthorityRequest, type InstallCertificateRequest } from "./authority-import.js";
export { IssuanceService, type IssueRequest, type IssueResult, type IssueForPublicKeyRequest, type BatchItem, type BatchRequest } from "./issuance-service.js";
export { MAX_SUBJECT_ALT_NAMES } from "./issuance-plan.js";
export { storeAuthority } from "./hierarchy-service.js";
export { CertificateInventory, type InventoryFilter } from "./certificate-inventory.js";
export { ServiceIdentityService, type ServiceTlsIdentity } from "./service-identity.js";
export { ProfileCatalog } from "./profiles/profile-catalog.js";
export { GENERIC_PROFILES } from "./profiles/generic.js";
export type { CertificateProfile, SanRule } from "./profiles/profile.js";
export { keyUsageFor } from "./profiles/profile.js";
export { assertCaName } from "./authority-names.js";
export * as x509 from "./x509/index.js";

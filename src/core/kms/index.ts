/** Public surface of core/kms: the KMIP object model, lifecycle and key operations. */
export * from "./kmip-vocabulary.js";
export type { ManagedObject, ObjectLink, KeyVersionRef } from "./managed-object.js";
export { CUSTOM_ATTRIBUTE } from "./managed-object.js";
export { NAMED_KEY_ALGORITHMS, NAMED_KEY_NAME, type NamedKey, type NamedKeyAlgorithm, type KeyVersionUsage } from "./named-key.js";
export type { ManagedObjectRepository, NamedKeyRepository, KmsRepositories, LocateQuery, DateRange } from "./ports.js";
export { ALLOWED_STATES, effectiveState, type LifecycleOperation } from "./key-state.js";
export { KEY_FORMATS, type KeyFormat } from "./key-material-formats.js";
export { attributesOf, type AttributeChange, type AttributeValue } from "./object-attributes.js";
export { ObjectService } from "./object-service.js";
export type { CreateRequest, CreateKeyPairRequest, RegisterRequest, ObjectAttributes, ObjectValue } from "./object-requests.js";
export { KeyOperationsService, MAX_DATA_BYTES, MAX_RANDOM_BYTES, type CipherMode, type EncryptRequest, type EncryptResult, type DecryptRequest } from "./key-operations-service.js";
export { NamedKeyService, type CreateNamedKeyRequest, type DataKey } from "./named-key-service.js";
export { namedKeyUsageReport, type NamedKeyUsageReport, type VersionUsageStatus } from "./named-key-usage-report.js";
export { RecentDecryptionGuard, decryptedWithin } from "./recent-decryption-guard.js";
export { ObjectCache } from "./object-cache.js";
export { UsageRecorder, type UsedOperation } from "./usage-recorder.js";
export { KmsDispatcher, placeholderOf, type BatchOutcome, type BatchOptions, type KmsAccess, type KmsAccessOperation } from "./kms-dispatcher.js";
export type { KmsOperation, KmsOperationName, KmsResult } from "./kms-operation.js";
export {
  KMS_V2_LIMITS,
  KEK_FORMAT_ANNOTATION,
  KekService,
  kekKeyId,
  parseKekKeyId,
  unknownKeyId,
  assertKeyIdOfVersion,
  isFullyQualifiedDomainName,
  assertKmsKeyId,
  assertKmsCiphertext,
  assertKmsAnnotations,
  kekAnnotations,
  kekAssociatedData,
  decodeWrappedKey,
  evaluateKekStatus,
  type KekProvider,
  type KekStatus,
  type KekEncryption,
  type KekKeyIdParts,
} from "./kek-service.js";
export { InProcessKekProvider } from "./in-process-kek-provider.js";
export { unixEndpointSocketPath } from "./unix-endpoint.js";

import type { TokenService } from "../../core/access/index.js";
import {
  applyLifecycleDatesJob,
  purgeExpiredTokensJob,
  purgeJobRunsJob,
  refreshCrlsJob,
  renewAuthoritiesJob,
  renewServiceCertificateJob,
  retireServiceAccountKeysJob,
  rotateNamedKeysJob,
  startServiceAccountKeyRotationsJob,
  startStaticKeyRotationsJob,
  type JobDefinition,
  type JobRunner,
} from "../../core/jobs/index.js";
import type { NamedKeyService, ObjectService } from "../../core/kms/index.js";
import type { ClusterEncryptionService, ServiceAccountKeyService } from "../../core/kubernetes/index.js";
import type { CrlService, HierarchyService, ServiceIdentityService } from "../../core/pki/index.js";

/** What the schedule needs from the services and the configuration. */
export interface ScheduleDependencies {
  readonly hierarchy: HierarchyService;
  readonly serviceIdentity: ServiceIdentityService;
  readonly namedKeys: NamedKeyService;
  readonly objects: ObjectService;
  readonly tokens: TokenService;
  readonly crls: CrlService;
  readonly serviceAccountKeys: ServiceAccountKeyService;
  readonly clusterEncryption: ClusterEncryptionService;
  /** The runner whose history the purge job trims. */
  readonly jobRunner: JobRunner;
  /** Renew CA certificates this long before they expire. */
  readonly renewBeforeSeconds: number;
  /** The CA that issues the service's own TLS certificate. */
  readonly serviceCertificateCa: string;
}

/** The one list of scheduled jobs and their periods (Unleash's habit: all schedules in one place). */
export function schedule(deps: ScheduleDependencies): readonly JobDefinition[] {
  return [
    rotateNamedKeysJob(deps.namedKeys, 3600),
    applyLifecycleDatesJob(deps.objects),
    renewAuthoritiesJob(deps.hierarchy, deps.renewBeforeSeconds),
    renewServiceCertificateJob(deps.serviceIdentity, deps.serviceCertificateCa),
    purgeExpiredTokensJob(deps.tokens),
    purgeJobRunsJob(deps.jobRunner),
    refreshCrlsJob(deps.crls),
    // Retire before publishing: a cluster whose overlap just ended is idle again and may be due.
    retireServiceAccountKeysJob(deps.serviceAccountKeys, 3600),
    startServiceAccountKeyRotationsJob(deps.serviceAccountKeys, 3600),
    startStaticKeyRotationsJob(deps.clusterEncryption, 3600),
  ];
}

/** Public surface of core/jobs: scheduled job definitions and the run-once-per-slot runner. */
export type { JobDefinition, JobSummary } from "./job.js";
export type { JobRun, JobRunRepository, ClaimOutcome } from "./ports.js";
export { JobRunner, slotOf, nextSlotStart, findJob, type JobOutcome, type JobOutcomeStatus, type JobStatus } from "./job-runner.js";
export { rotateNamedKeysJob } from "./rotate-named-keys.js";
export { renewAuthoritiesJob, renewServiceCertificateJob, applyLifecycleDatesJob, purgeExpiredTokensJob, purgeJobRunsJob } from "./maintenance-jobs.js";
export { refreshCrlsJob } from "./refresh-crls.js";
export { retireServiceAccountKeysJob, startServiceAccountKeyRotationsJob } from "./service-account-key-jobs.js";
export { startStaticKeyRotationsJob } from "./static-key-jobs.js";

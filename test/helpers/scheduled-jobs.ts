/**
 * The scheduled jobs in the order of src/transports/jobs/schedule.ts, written out independently so
 * the job tests notice a job added, removed or reordered there.
 */
export const SCHEDULED_JOBS = [
  "rotate-named-keys",
  "apply-lifecycle-dates",
  "renew-authorities",
  "renew-service-certificate",
  "purge-expired-tokens",
  "purge-job-runs",
  "refresh-crls",
  "retire-service-account-keys",
  "start-service-account-key-rotations",
  "start-static-key-rotations",
] as const;

import type { TokenService } from "../access/index.js";
import type { ObjectService } from "../kms/index.js";
import type { HierarchyService, ServiceIdentityService } from "../pki/index.js";
import type { JobDefinition } from "./job.js";
import type { JobRunner } from "./job-runner.js";

const DAY = 86_400;

/** Re-issues the certificates of kpki-signed CAs that expire within `renewBeforeSeconds`. */
export function renewAuthoritiesJob(hierarchy: HierarchyService, renewBeforeSeconds: number): JobDefinition {
  return {
    name: "renew-authorities",
    description: `re-issue kpki-signed CA certificates expiring within ${Math.round(renewBeforeSeconds / DAY)} days`,
    periodSeconds: DAY,
    async run(context) {
      const renewed = await hierarchy.renewExpiring(context, renewBeforeSeconds);
      return { changed: renewed.length, message: renewed.length === 0 ? "no CA due" : `renewed ${renewed.join(", ")}` };
    },
  };
}

/**
 * Renews the service's own TLS certificate before it expires, keeping its names (it is picked up at
 * the next start; a start also re-issues it when the configured names changed).
 */
export function renewServiceCertificateJob(identity: ServiceIdentityService, ca: string): JobDefinition {
  return {
    name: "renew-service-certificate",
    description: "renew kpki's own TLS certificate when it nears expiry",
    periodSeconds: DAY,
    async run(context) {
      const { renewed, notAfter } = await identity.renewIfExpiring(context, ca);
      const until = notAfter === undefined ? "" : ` (valid until ${notAfter.toISOString()})`;
      return { changed: renewed ? 1 : 0, message: renewed ? `issued a new TLS certificate${until}` : notAfter === undefined ? "no TLS certificate yet (kpki serve issues it)" : `TLS certificate is current${until}` };
    },
  };
}

/** Writes states that activation/deactivation dates made effective (KMIP: the dates drive the state). */
export function applyLifecycleDatesJob(objects: ObjectService): JobDefinition {
  return {
    name: "apply-lifecycle-dates",
    description: "move managed objects whose activation or deactivation date has passed into their new state",
    periodSeconds: 300,
    async run(context) {
      const changed = await objects.applyLifecycleDates(context);
      return { changed, message: changed === 0 ? "all states current" : `updated ${changed} objects` };
    },
  };
}

/** Purges API tokens expired for more than 30 days. */
export function purgeExpiredTokensJob(tokens: TokenService): JobDefinition {
  return {
    name: "purge-expired-tokens",
    description: "delete API tokens that expired more than 30 days ago",
    periodSeconds: DAY,
    async run(context) {
      const count = await tokens.purgeExpired(context, 30 * DAY);
      return { changed: count, message: count === 0 ? "nothing to purge" : `deleted ${count} expired tokens` };
    },
  };
}

/**
 * Keeps the run history bounded: the 5-minute job alone adds about 290 runs a day. Finished runs
 * older than `keepDays` go; the lease rows of current periods are far younger.
 */
export function purgeJobRunsJob(runner: JobRunner, keepDays = 90): JobDefinition {
  return {
    name: "purge-job-runs",
    description: `delete the history of job runs older than ${keepDays} days`,
    periodSeconds: DAY,
    async run() {
      const count = await runner.purgeHistory(keepDays * DAY);
      return { changed: count, message: count === 0 ? "nothing to purge" : `deleted ${count} old runs` };
    },
  };
}

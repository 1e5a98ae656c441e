import type { TokenService } from "../access/index.js";
import type { ObjectService } from "../kms/index.js";
import type { HierarchyService, ServiceIdentityService, x509 } from "../pki/index.js";
import type { JobDefinition } from "./job.js";

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

/** Renews the service's own TLS certificate before it expires (it is picked up at the next start). */
export function renewServiceCertificateJob(identity: ServiceIdentityService, request: { ca: string; names: readonly x509.GeneralName[] }): JobDefinition {
  return {
    name: "renew-service-certificate",
    description: "renew kpki's own TLS certificate when it nears expiry or its names changed",
    periodSeconds: DAY,
    async run(context) {
      const { renewed } = await identity.ensureTlsIdentity(context, request);
      return { changed: renewed ? 1 : 0, message: renewed ? "issued a new TLS certificate" : "TLS certificate is current" };
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

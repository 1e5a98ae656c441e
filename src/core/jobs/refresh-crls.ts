import type { CrlService } from "../pki/index.js";
import type { JobDefinition } from "./job.js";

/**
 * Issues a new base CRL (and an empty delta) for each CA whose base is older than the CRL policy's
 * base period, so CRLs never reach their nextUpdate even when nothing is revoked (RFC 5280 §5.1.2.5).
 * Checked hourly; CrlService decides which CAs are due.
 */
export function refreshCrlsJob(crls: CrlService): JobDefinition {
  return {
    name: "refresh-crls",
    description: "issue a new base CRL and delta CRL for each CA whose base CRL is due",
    periodSeconds: 3600,
    async run() {
      const refreshed = await crls.refreshDue();
      return { changed: refreshed.length, message: refreshed.length === 0 ? "all CRLs current" : `new base CRLs for ${refreshed.join(", ")}` };
    },
  };
}

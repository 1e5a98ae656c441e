import type { ClusterEncryptionService } from "../kubernetes/index.js";
import type { JobDefinition } from "./job.js";

/**
 * Starts a static key rotation (runbook step `added`, reference/kubernetes.md §3.5) for clusters
 * whose static encryption key in use is older than their key rotation period. Like publishing a
 * service-account key, the first step is safe unattended: the new key sits second in the file and
 * changes nothing until the operator rolls the file out and confirms; promotion, rewrite and removal
 * stay the operator's, because kpki cannot see which API servers run which file.
 */
export function startStaticKeyRotationsJob(encryption: ClusterEncryptionService, periodSeconds = 3600): JobDefinition {
  return {
    name: "start-static-key-rotations",
    description: "start a static encryption key rotation for clusters whose key rotation period has passed (the rollout steps stay manual)",
    periodSeconds,
    async run(context, now) {
      const started = await encryption.startDueRotations(context, now);
      return {
        changed: started.length,
        message: started.length === 0 ? "no cluster due" : `added a new static key for ${started.join(", ")}; render the file, roll it out, then confirm (kpki kubernetes encryption-config rotate next)`,
      };
    },
  };
}

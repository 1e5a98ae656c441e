import type { ServiceAccountKeyService } from "../kubernetes/index.js";
import type { JobDefinition } from "./job.js";

/**
 * Retires every service-account key whose overlap since the switch has passed (step 3 of
 * reference/kubernetes.md §5). The one rotation step safe to take unattended: by then the tokens it
 * signed have been refreshed (the kubelet renews projected tokens within 24 h), and retiring only
 * changes the sa.pub kpki hands out next; the operator still rolls it out. Publish and switch are
 * never taken here unless a cluster asks for periodic publishing (below): a switch before every
 * API server has loaded the new public key would make them reject the tokens it signs, and kpki
 * cannot see the nodes.
 */
export function retireServiceAccountKeysJob(serviceAccountKeys: ServiceAccountKeyService, periodSeconds = 3600): JobDefinition {
  return {
    name: "retire-service-account-keys",
    description: "retire service-account keys whose overlap after the switch has passed",
    periodSeconds,
    async run(context, now) {
      const retired = await serviceAccountKeys.retireDue(context, now);
      return { changed: retired.length, message: retired.length === 0 ? "no key due" : `retired the previous key of ${retired.join(", ")}` };
    },
  };
}

/**
 * Publishes a new service-account key (starts a rotation) for clusters with a rotation period whose
 * signing key has signed that long. Publishing only adds a public key to sa.pub, which is harmless
 * before and after it reaches the API servers; the switch stays a step the operator takes once the
 * new sa.pub is everywhere.
 */
export function startServiceAccountKeyRotationsJob(serviceAccountKeys: ServiceAccountKeyService, periodSeconds = 3600): JobDefinition {
  return {
    name: "start-service-account-key-rotations",
    description: "publish a new service-account key for clusters whose rotation period has passed (the switch stays manual)",
    periodSeconds,
    async run(context, now) {
      const started = await serviceAccountKeys.startDue(context, now);
      return { changed: started.length, message: started.length === 0 ? "no cluster due" : `published a new key for ${started.join(", ")}; switch after rolling out sa.pub` };
    },
  };
}

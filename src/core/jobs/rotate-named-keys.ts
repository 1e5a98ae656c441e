import type { NamedKeyService } from "../kms/index.js";
import type { JobDefinition } from "./job.js";

/** Rotates every named key whose auto-rotate period has passed. */
export function rotateNamedKeysJob(namedKeys: NamedKeyService, periodSeconds = 3600): JobDefinition {
  return {
    name: "rotate-named-keys",
    description: "rotate named keys whose rotation period has passed",
    periodSeconds,
    async run(context, now) {
      const due = await namedKeys.rotationDue(now);
      for (const name of due) await namedKeys.rotate(context, name);
      return { changed: due.length, message: due.length === 0 ? "no key due" : `rotated ${due.join(", ")}` };
    },
  };
}

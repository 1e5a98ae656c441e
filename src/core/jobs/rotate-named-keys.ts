import type { NamedKeyService } from "../kms/index.js";
import { DomainError } from "../shared/domain-error.js";
import type { JobDefinition } from "./job.js";

/**
 * Rotates every named key whose auto-rotate period has passed. One key's failure does not stop
 * the others; the run then fails naming it, and the next attempt rotates only what is still due.
 */
export function rotateNamedKeysJob(namedKeys: NamedKeyService, periodSeconds = 3600): JobDefinition {
  return {
    name: "rotate-named-keys",
    description: "rotate named keys whose rotation period has passed",
    periodSeconds,
    async run(context, now) {
      const due = await namedKeys.rotationDue(now);
      const rotated: string[] = [];
      const failed: string[] = [];
      for (const name of due) {
        try {
          rotated.push(`${name} → version ${(await namedKeys.rotate(context, name)).currentVersion}`);
        } catch (error) {
          failed.push(`${name} (${error instanceof Error ? error.message : String(error)})`);
        }
      }
      if (failed.length > 0) throw new DomainError("internal", `rotated ${rotated.length} of ${due.length} due keys${rotated.length === 0 ? "" : ` (${rotated.join(", ")})`}; failed: ${failed.join("; ")}`);
      return { changed: rotated.length, message: rotated.length === 0 ? "no key due" : `rotated ${rotated.join(", ")}` };
    },
    async preview(now) {
      const due = await namedKeys.rotationDue(now);
      return due.length === 0 ? "no key due" : `would rotate ${due.join(", ")}`;
    },
  };
}

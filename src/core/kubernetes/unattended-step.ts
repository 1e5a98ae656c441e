import { DomainError } from "../shared/domain-error.js";

/**
 * Runs a step a scheduled job chose for one cluster; false when the state moved on meanwhile (an
 * operator, another replica or a racing `kpki rotate` took a step first: `wrong_state` or
 * `conflict`), so the job reports it as not done instead of failing the run. Other errors fail.
 */
export async function skipIfMovedOn(step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    return true;
  } catch (error) {
    if (error instanceof DomainError && (error.code === "wrong_state" || error.code === "conflict")) return false;
    throw error;
  }
}

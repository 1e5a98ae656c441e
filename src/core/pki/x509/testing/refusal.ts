import { DomainError } from "../../../shared/domain-error.js";

/** Runs `fn`, which must throw a DomainError, and returns that error (test-only). */
export function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError, but nothing was thrown");
}

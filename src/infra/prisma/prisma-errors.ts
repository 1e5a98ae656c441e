import { DomainError } from "../../core/shared/domain-error.js";

/** Prisma's error code for a unique constraint violation. */
const UNIQUE_VIOLATION = "P2002";

/** True for Prisma's unique-constraint error, however the driver adapter reported it. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === UNIQUE_VIOLATION;
}

/** Runs a write and turns a unique violation into `already_exists` with the caller's message. */
export async function uniquely<T>(write: () => Promise<T>, message: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError("already_exists", message, {}, { cause: error });
    throw error;
  }
}

import { DomainError } from "../../core/shared/domain-error.js";

/** Prisma's error code for a unique constraint violation. */
const UNIQUE_VIOLATION = "P2002";

/** Prisma's error code for a failed raw query; what failed is in meta.driverAdapterError. */
const RAW_QUERY_FAILED = "P2010";

/**
 * True for Prisma's unique-constraint error, however the driver adapter reported it: P2002 from a
 * typed query; P2010 with the adapter's UniqueConstraintViolation from a raw one (both adapters
 * report that kind, e.g. SQLITE_CONSTRAINT_UNIQUE and PostgreSQL's 23505).
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, meta } = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } };
  if (code === UNIQUE_VIOLATION) return true;
  return code === RAW_QUERY_FAILED && meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation";
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

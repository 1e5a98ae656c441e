import { DomainError, isDomainError } from "../../shared/domain-error.js";

/**
 * Runs `parse` and re-labels any invalid_input it throws with the caller's field, keeping the
 * inner reason: "csr: DER: length exceeds available bytes at offset 17". Other codes pass unchanged.
 */
export function withField<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isDomainError(error) && error.code === "invalid_input" && error.detail.field !== field) {
      // "pem: …" only says where the text failed; the caller's field says it better.
      const reason = error.message.replace(/^pem: /, "");
      throw new DomainError("invalid_input", `${field}: ${reason}`, { field }, { cause: error });
    }
    throw error;
  }
}

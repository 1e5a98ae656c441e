import type { ENUM } from "./ttlv/enumerations.js";

/** A KMIP Result Reason by its enumeration name (result-reason.ts maps them to values per version). */
export type ResultReasonName = keyof typeof ENUM.ResultReason;

/**
 * A refusal decided by the KMIP transport itself (a payload that does not decode, an operation or
 * format it does not offer), with the KMIP Result Reason to answer. Errors from the key service
 * are DomainErrors and are mapped in result-reason.ts.
 */
export class KmipError extends Error {
  override readonly name = "KmipError";
  constructor(
    readonly reason: ResultReasonName,
    message: string,
  ) {
    super(message);
  }
}

export const invalidField = (message: string) => new KmipError("InvalidField", message);
export const missingData = (message: string) => new KmipError("MissingData", message);
export const notSupported = (message: string) => new KmipError("FeatureNotSupported", message);

import { invalidInput } from "../shared/domain-error.js";

/** CA names appear in URLs and on command lines: lower-case letters, digits, dots and hyphens. */
const CA_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/** Throws `invalid_input` unless `name` is a valid CA name. */
export function assertCaName(name: string, field = "name"): void {
  if (!CA_NAME.test(name)) {
    throw invalidInput(field, "must be 1–63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit");
  }
}

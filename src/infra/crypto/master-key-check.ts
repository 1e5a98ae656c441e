import type { RandomSource } from "../../core/shared/random.js";
import type { MasterKey } from "./master-key.js";
import { openSealed, seal } from "./sealing.js";

/** Settings key of the check value. */
export const MASTER_KEY_CHECK_SETTING = "master_key.check";
const AAD = "kpki:master-key-check:v1";
const PLAINTEXT = new TextEncoder().encode("kpki master key check");

/**
 * A small value sealed under the master key when the data is first created. At every start it
 * must open with the configured key, so a wrong or missing key is caught before anything is
 * read, written or bootstrapped — never a new hierarchy silently made over old data.
 */
export function createMasterKeyCheck(key: MasterKey, random: RandomSource): string {
  return JSON.stringify({ keyId: key.id, sealed: Buffer.from(seal(key, PLAINTEXT, AAD, random)).toString("base64") });
}

/** The id of the key a check value was made with, or undefined if the value is unreadable. */
export function masterKeyCheckId(value: string): string | undefined {
  try {
    const parsed = JSON.parse(value) as { keyId?: unknown };
    return typeof parsed.keyId === "string" ? parsed.keyId : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `key` opens the check value. */
export function masterKeyOpensCheck(key: MasterKey, value: string): boolean {
  try {
    const parsed = JSON.parse(value) as { sealed?: unknown };
    if (typeof parsed.sealed !== "string") return false;
    return Buffer.from(openSealed(key, Buffer.from(parsed.sealed, "base64"), AAD)).equals(Buffer.from(PLAINTEXT));
  } catch {
    return false;
  }
}

import { isCompromise, type RevocationReasonCode, type State } from "./kmip-vocabulary.js";
import { kmsError } from "./kms-error.js";
import type { ManagedObject } from "./managed-object.js";

/** Operations whose permission depends on the object's lifecycle state. */
export type LifecycleOperation =
  | "Get"
  | "GetAttributes"
  | "ModifyAttribute"
  | "Activate"
  | "Revoke"
  | "Destroy"
  | "ReKey"
  | "Encrypt"
  | "Sign"
  | "MAC"
  | "Decrypt"
  | "SignatureVerify"
  | "MACVerify";

const LIVE: readonly State[] = ["Pre-Active", "Active", "Deactivated", "Compromised"];
const ALL: readonly State[] = [...LIVE, "Destroyed", "Destroyed Compromised"];

/**
 * Which states allow each operation (KMIP 1.4 §3.22 and the usage rules of §4): protecting
 * operations (encrypt, sign, MAC) only when Active; processing operations (decrypt, verify) also
 * when Deactivated or Compromised; nothing cryptographic before activation or after destruction.
 * Activate, Revoke and Destroy have their own transition tables below.
 */
export const ALLOWED_STATES: Readonly<Record<Exclude<LifecycleOperation, "Activate" | "Revoke" | "Destroy">, readonly State[]>> = {
  Get: LIVE,
  GetAttributes: ALL,
  ModifyAttribute: LIVE,
  ReKey: LIVE,
  Encrypt: ["Active"],
  Sign: ["Active"],
  MAC: ["Active"],
  Decrypt: ["Active", "Deactivated", "Compromised"],
  SignatureVerify: ["Active", "Deactivated", "Compromised"],
  MACVerify: ["Active", "Deactivated", "Compromised"],
};

/**
 * The state that counts now: a Pre-Active object whose Activation Date has passed is Active, an
 * Active one whose Deactivation Date has passed is Deactivated (KMIP: the dates drive the state).
 */
export function effectiveState(object: Pick<ManagedObject, "state" | "activationDate" | "deactivationDate">, now: Date): State {
  let state = object.state;
  if (state === "Pre-Active" && object.activationDate !== undefined && object.activationDate.getTime() <= now.getTime()) state = "Active";
  if (state === "Active" && object.deactivationDate !== undefined && object.deactivationDate.getTime() <= now.getTime()) state = "Deactivated";
  return state;
}

function refuse(operation: string, state: State, hint = ""): never {
  const destroyed = state === "Destroyed" || state === "Destroyed Compromised";
  throw kmsError("wrong_state", destroyed ? "Object Destroyed" : "Wrong Key Lifecycle State", `${operation} is not allowed in state ${state}${hint}`);
}

/** Throws `wrong_state` (KMIP Wrong Key Lifecycle State / Object Destroyed) unless allowed. */
export function assertAllowed(operation: keyof typeof ALLOWED_STATES, state: State): void {
  if (!ALLOWED_STATES[operation].includes(state)) refuse(operation, state, state === "Pre-Active" ? " (activate it first)" : "");
}

/** Activate: Pre-Active → Active only. */
export function activated(state: State): State {
  if (state !== "Pre-Active") refuse("Activate", state);
  return "Active";
}

/**
 * Revoke (§4.20): a compromise reason moves any live object to Compromised and a Destroyed one to
 * Destroyed Compromised; any other reason moves an Active object to Deactivated.
 */
export function revoked(state: State, reason: RevocationReasonCode): State {
  if (isCompromise(reason)) {
    if (state === "Destroyed") return "Destroyed Compromised";
    if (state === "Compromised" || state === "Destroyed Compromised") refuse("Revoke (compromise)", state, ": it is compromised already");
    return "Compromised";
  }
  if (state !== "Active") refuse(`Revoke (${reason})`, state, state === "Pre-Active" ? ": a Pre-Active object can only be revoked as compromised, or destroyed" : "");
  return "Deactivated";
}

/** Destroy (§4.21): refused while Active (revoke first); Compromised becomes Destroyed Compromised. */
export function destroyed(state: State): State {
  if (state === "Active") refuse("Destroy", state, ": revoke (deactivate) it first");
  if (state === "Pre-Active" || state === "Deactivated") return "Destroyed";
  if (state === "Compromised") return "Destroyed Compromised";
  return refuse("Destroy", state);
}

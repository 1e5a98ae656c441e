import type { RevocationReasonCode } from "./kmip-vocabulary.js";
import { effectiveState } from "./key-state.js";
import { kmsError } from "./kms-error.js";
import { CUSTOM_ATTRIBUTE, type ManagedObject } from "./managed-object.js";

/** A KMIP attribute value as the API shows it. */
export type AttributeValue = string | number | boolean | readonly string[] | readonly { type: string; uid: string }[] | { code: RevocationReasonCode; message?: string };

/**
 * The object's attributes under their KMIP names (KMIP 1.4 §3): what Get Attributes returns.
 * The State is the effective one at `now`.
 */
export function attributesOf(object: ManagedObject, now: Date): Record<string, AttributeValue> {
  const date = (value: Date | undefined) => value?.toISOString();
  const entries: [string, AttributeValue | undefined][] = [
    ["Unique Identifier", object.uid],
    ["Object Type", object.objectType],
    ["Cryptographic Algorithm", object.algorithm],
    ["Cryptographic Length", object.length],
    ["Recommended Curve", object.curve],
    ["Cryptographic Usage Mask", object.usageMask],
    ["State", effectiveState(object, now)],
    ["Name", object.names.length === 0 ? undefined : object.names],
    ["Initial Date", date(object.initialDate)],
    ["Activation Date", date(object.activationDate)],
    ["Deactivation Date", date(object.deactivationDate)],
    ["Destroy Date", date(object.destroyDate)],
    ["Compromise Date", date(object.compromiseDate)],
    ["Compromise Occurrence Date", date(object.compromiseOccurrenceDate)],
    ["Revocation Reason", object.revocationReason],
    ["Link", object.links.length === 0 ? undefined : object.links],
    ["Sensitive", object.sensitive],
    ["Extractable", object.extractable],
    ["Last Change Date", date(object.lastChangeDate)],
    ...Object.entries(object.customAttributes),
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, AttributeValue] => entry[1] !== undefined));
}

/** A change to one attribute (KMIP Add / Modify / Delete Attribute). */
export type AttributeChange =
  | { readonly action: "add"; readonly name: string; readonly value: string }
  | { readonly action: "modify"; readonly name: string; readonly value: string; readonly current?: string }
  | { readonly action: "delete"; readonly name: string; readonly value?: string };

const MAX_NAMES = 16;

function parseDate(value: string, name: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime())) throw kmsError("invalid_input", "Invalid Field", `${name}: not an ISO 8601 date-time`, "value");
  return date;
}

function parseBoolean(value: string, name: string): boolean {
  if (value !== "true" && value !== "false") throw kmsError("invalid_input", "Invalid Field", `${name}: true or false`, "value");
  return value === "true";
}

/**
 * Applies one attribute change under KMIP's rules: Name and custom `x-` attributes are free;
 * Activation Date only while Pre-Active; Deactivation Date until the object is deactivated; the
 * usage mask is fixed at creation;
 * Sensitive may only become true and Extractable only false (one-way, as KMIP requires);
 * everything else is server-managed (Read Only Attribute).
 */
export function applyAttributeChange(object: ManagedObject, change: AttributeChange, now: Date): ManagedObject {
  const { name } = change;
  const state = effectiveState(object, now);
  const missing = () => kmsError("not_found", "Attribute Not Found", `attribute ${name}${change.action !== "add" && "value" in change && change.value !== undefined ? ` = ${change.value}` : ""} is not set`, "name");
  if (name === "Name") {
    const names = [...object.names];
    if (change.action === "add") {
      if (change.value === "" || change.value.length > 255) throw kmsError("invalid_input", "Invalid Field", "Name: 1–255 characters", "value");
      if (names.includes(change.value)) throw kmsError("conflict", "Invalid Field", `Name ${change.value} is already set`, "value");
      if (names.length >= MAX_NAMES) throw kmsError("limit_exceeded", "Server Limit Exceeded", `at most ${MAX_NAMES} names per object`, "value");
      return { ...object, names: [...names, change.value] };
    }
    if (change.action === "modify") {
      const index = change.current === undefined ? (names.length === 1 ? 0 : -1) : names.indexOf(change.current);
      if (index < 0) throw change.current === undefined ? kmsError("invalid_input", "Invalid Field", "Name has several values: say which one to modify (current)", "current") : missing();
      if (names.includes(change.value) && names[index] !== change.value) throw kmsError("conflict", "Invalid Field", `Name ${change.value} is already set`, "value");
      names[index] = change.value;
      return { ...object, names };
    }
    const remaining = change.value === undefined ? [] : names.filter((value) => value !== change.value);
    if (remaining.length === names.length) throw missing();
    return { ...object, names: remaining };
  }
  if (CUSTOM_ATTRIBUTE.test(name)) {
    const has = Object.hasOwn(object.customAttributes, name);
    if (change.action === "add" && has) throw kmsError("conflict", "Invalid Field", `attribute ${name} is already set (modify it instead)`, "name");
    if (change.action !== "add" && !has) throw missing();
    const customAttributes = { ...object.customAttributes };
    if (change.action === "delete") delete customAttributes[name];
    else {
      if (change.value.length > 1024) throw kmsError("invalid_input", "Invalid Field", `${name}: at most 1024 characters`, "value");
      customAttributes[name] = change.value;
    }
    return { ...object, customAttributes };
  }
  const readOnly = () => kmsError("policy_violation", "Read Only Attribute", `${name} cannot be ${change.action === "delete" ? "deleted" : "changed"} by a client (in state ${state})`, "name");
  if (change.action === "delete") {
    if (name === "Deactivation Date" && object.deactivationDate !== undefined && state !== "Deactivated") return withoutDate(object, "deactivationDate");
    throw readOnly();
  }
  switch (name) {
    case "Activation Date":
      if (state !== "Pre-Active") throw readOnly();
      return { ...object, activationDate: parseDate(change.value, name) };
    case "Deactivation Date":
      if (state === "Destroyed" || state === "Destroyed Compromised" || state === "Deactivated") throw readOnly();
      return { ...object, deactivationDate: parseDate(change.value, name) };
    case "Sensitive": {
      const value = parseBoolean(change.value, name);
      if (!value && object.sensitive) throw readOnly();
      return { ...object, sensitive: value };
    }
    case "Extractable": {
      const value = parseBoolean(change.value, name);
      if (value && !object.extractable) throw readOnly();
      return { ...object, extractable: value };
    }
    default:
      throw readOnly();
  }
}

function withoutDate(object: ManagedObject, key: "deactivationDate"): ManagedObject {
  const copy: { -readonly [K in keyof ManagedObject]: ManagedObject[K] } = { ...object };
  delete copy[key];
  return copy;
}

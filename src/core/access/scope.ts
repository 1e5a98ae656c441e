import { NAMED_KEY_NAME } from "../kms/index.js";
import { assertClusterName, assertNodeName, KUBEADM_CERTIFICATES } from "../kubernetes/index.js";
import { invalidInput } from "../shared/domain-error.js";
import type { OperationId } from "./operations.js";
import { isScopedRole, SCOPED_ROLE_OPERATIONS, type Role, type ScopedRole } from "./roles.js";

/** What a key-user scope may allow on its keys; each key operation is one of these (ADDRESSING). */
export const KEY_OPERATIONS = ["read", "encrypt", "decrypt", "rewrap", "datakey", "sign", "verify", "mac"] as const;
export type KeyOperation = (typeof KEY_OPERATIONS)[number];

/**
 * The scope of a grant: which cluster, node or named keys a scoped role (roles.ts) covers. Which
 * fields each role takes is SCOPE_FIELDS; a stored scope is the JSON of this object.
 */
export interface Scope {
  readonly cluster?: string;
  readonly node?: string;
  /** kms-plugin: exactly this named key. */
  readonly key?: string;
  /** key-user: these named keys… */
  readonly keys?: readonly string[];
  /** key-user: …and/or every named key whose name starts with this. */
  readonly keyPrefix?: string;
  /** key-user: only these operations on them. */
  readonly operations?: readonly KeyOperation[];
}
type ScopeField = keyof Scope;

/**
 * What a request names, as the transport read it from the request (path, and the node and
 * certificate names of a kubeadm signing request), or the key service from the object it loaded.
 */
export interface AccessTarget {
  readonly cluster?: string;
  readonly node?: string;
  /** The named key: from the path (`/v1/keys/{key}`), or the key whose version the managed object is. */
  readonly key?: string;
  /** The kubeadm certificate names a signing request asks for. */
  readonly kubeadmCertificates?: readonly string[];
  /**
   * A transport's first look at an operation on a managed object, addressed by Unique Identifier:
   * which named key it belongs to is known only once the key service has loaded it, and the key
   * service (KmsDispatcher) decides again then with `key` set. Nothing else may set this.
   */
  readonly objectLookupPending?: true;
}

const SCOPE_FIELDS: Readonly<Record<ScopedRole, { readonly required: readonly ScopeField[]; readonly optional: readonly ScopeField[] }>> = {
  "kubeadm-hook": { required: ["cluster"], optional: ["node"] },
  node: { required: ["cluster", "node"], optional: [] },
  "kms-plugin": { required: ["key"], optional: [] },
  "key-user": { required: ["operations"], optional: ["keys", "keyPrefix"] },
};

/** How an operation a scoped role covers names its target, and which key operation it is. */
type Addressing =
  | { readonly by: "cluster" }
  | { readonly by: "node" }
  | { readonly by: "key" | "object"; readonly use: KeyOperation }
  /** A REST batch: each item is decided on its own (by its operation and object), so the container is not. */
  | { readonly by: "batch" };

const ADDRESSING: Readonly<Partial<Record<OperationId, Addressing>>> = {
  getCluster: { by: "cluster" },
  exportServiceAccountKeyFiles: { by: "cluster" },
  signKubeadmCsrs: { by: "node" },
  signKubeletServing: { by: "node" },
  getNamedKey: { by: "key", use: "read" },
  getNamedKeyUsageReport: { by: "key", use: "read" },
  encryptWithNamedKey: { by: "key", use: "encrypt" },
  decryptWithNamedKey: { by: "key", use: "decrypt" },
  rewrapWithNamedKey: { by: "key", use: "rewrap" },
  generateDataKey: { by: "key", use: "datakey" },
  getObjectMetadata: { by: "object", use: "read" },
  getAttributes: { by: "object", use: "read" },
  getAttributeList: { by: "object", use: "read" },
  encryptData: { by: "object", use: "encrypt" },
  decryptData: { by: "object", use: "decrypt" },
  signData: { by: "object", use: "sign" },
  verifySignature: { by: "object", use: "verify" },
  computeMac: { by: "object", use: "mac" },
  verifyMac: { by: "object", use: "mac" },
  runBatch: { by: "batch" },
};

/** What kubeadm signing gives a `node` grant: the certificates a worker node may obtain (kubelet.conf). */
const WORKER_CERTIFICATES: ReadonlySet<string> = new Set(KUBEADM_CERTIFICATES.filter((spec) => spec.roles.includes("worker")).map((spec) => spec.name));

const KEY_PREFIX = /^[a-z0-9][a-z0-9._-]{0,61}$/;
const MAX_KEYS = 100;

/**
 * Why a scoped grant does not cover this operation on this target, or undefined when it does.
 * Deny by default: an operation the role does not list, a target the request does not name, a
 * scope missing a field its role requires: all refused.
 */
export function scopeDenial(role: ScopedRole, scope: Scope | undefined, operation: OperationId, target: AccessTarget): string | undefined {
  if (!SCOPED_ROLE_OPERATIONS[role].includes(operation)) return `role ${role} does not cover ${operation}`;
  const addressing = ADDRESSING[operation];
  if (scope === undefined || addressing === undefined) return `role ${role} has no scope for ${operation}`;
  switch (addressing.by) {
    case "batch":
      return undefined;
    case "cluster":
      return scope.cluster !== undefined && target.cluster === scope.cluster ? undefined : `cluster ${target.cluster ?? "(none)"} is outside the scope (cluster ${scope.cluster ?? "(none)"})`;
    case "node": {
      if (scope.cluster === undefined || target.cluster !== scope.cluster) return `cluster ${target.cluster ?? "(none)"} is outside the scope (cluster ${scope.cluster ?? "(none)"})`;
      if (target.node === undefined) return `${operation} names no node`;
      if ((role === "node" || scope.node !== undefined) && target.node !== scope.node) return `node ${target.node} is outside the scope (node ${scope.node ?? "(none)"})`;
      const beyondWorker = role === "node" ? (target.kubeadmCertificates ?? []).filter((name) => !WORKER_CERTIFICATES.has(name)) : [];
      return beyondWorker.length === 0 ? undefined : `a node grant obtains only what a worker node may (${[...WORKER_CERTIFICATES].join(", ")}), not ${beyondWorker.join(", ")}`;
    }
    case "key":
    case "object": {
      if (target.key === undefined) {
        if (addressing.by === "object" && target.objectLookupPending === true) return undefined;
        return addressing.by === "object" ? "the object is not a version of a named key in the scope" : `${operation} names no key`;
      }
      if (!keyInScope(scope, target.key)) return `named key ${target.key} is outside the scope`;
      if (scope.operations !== undefined && !scope.operations.includes(addressing.use)) return `key operation ${addressing.use} is not in the scope (${scope.operations.join(", ")})`;
      return undefined;
    }
  }
}

function keyInScope(scope: Scope, key: string): boolean {
  if (scope.key !== undefined) return key === scope.key;
  return (scope.keys?.includes(key) ?? false) || (scope.keyPrefix !== undefined && key.startsWith(scope.keyPrefix));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function keyName(value: unknown, field: string): string {
  if (typeof value !== "string" || !NAMED_KEY_NAME.test(value)) throw invalidInput(field, "a named key name: 1–63 characters of a-z, 0-9, '.', '_' and '-'");
  return value;
}

function stringField(value: unknown, field: string): string {
  if (typeof value !== "string") throw invalidInput(field, "must be a string");
  return value;
}

function uniqueList<T extends string>(value: unknown, field: string, item: (entry: unknown, field: string) => T): readonly T[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_KEYS) throw invalidInput(field, `a list of 1–${MAX_KEYS} entries`);
  const items = value.map((entry, index) => item(entry, `${field}.${index}`));
  if (new Set(items).size !== items.length) throw invalidInput(field, "lists an entry twice");
  return items;
}

/**
 * The scope a grant of `role` is created with, validated: a scoped role requires its scope, an
 * unscoped one takes none; unknown fields are refused; names must be valid cluster, node and named
 * key names. Returns undefined for an unscoped role.
 */
export function validateScope(role: Role, given: unknown): Scope | undefined {
  if (!isScopedRole(role)) {
    if (given !== undefined) throw invalidInput("scope", `role ${role} takes no scope`);
    return undefined;
  }
  const fields = SCOPE_FIELDS[role];
  if (!isObject(given)) throw invalidInput("scope", `role ${role} requires a scope with ${fields.required.join(", ")}${fields.optional.length === 0 ? "" : ` (optional: ${fields.optional.join(", ")})`}`);
  const allowed: readonly string[] = [...fields.required, ...fields.optional];
  for (const name of Object.keys(given)) if (!allowed.includes(name)) throw invalidInput(`scope.${name}`, `not a scope field of role ${role} (${allowed.join(", ")})`);
  for (const name of fields.required) if (given[name] === undefined) throw invalidInput(`scope.${name}`, `role ${role} requires it`);
  const scope: { -readonly [F in ScopeField]?: Scope[F] } = {};
  if (given.cluster !== undefined) assertClusterName((scope.cluster = stringField(given.cluster, "scope.cluster")), "scope.cluster");
  if (given.node !== undefined) assertNodeName((scope.node = stringField(given.node, "scope.node")), "scope.node");
  if (given.key !== undefined) scope.key = keyName(given.key, "scope.key");
  if (given.keys !== undefined) scope.keys = uniqueList(given.keys, "scope.keys", keyName);
  if (given.keyPrefix !== undefined) {
    const prefix = stringField(given.keyPrefix, "scope.keyPrefix");
    if (!KEY_PREFIX.test(prefix)) throw invalidInput("scope.keyPrefix", "1–62 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
    scope.keyPrefix = prefix;
  }
  if (given.operations !== undefined) {
    scope.operations = uniqueList(given.operations, "scope.operations", (entry, field) => {
      if (typeof entry !== "string" || !(KEY_OPERATIONS as readonly string[]).includes(entry)) throw invalidInput(field, `one of ${KEY_OPERATIONS.join(", ")}`);
      return entry as KeyOperation;
    });
  }
  if (role === "key-user" && scope.keys === undefined && scope.keyPrefix === undefined) throw invalidInput("scope.keys", "role key-user requires keys, keyPrefix or both");
  return scope;
}

// An EncryptionConfiguration checker written from reference/kubernetes.md §3.4 (A-valid
// validation_encryption.go, A-config config.go), independently of kpki's renderer: it parses the
// YAML text a kube-apiserver would read and lists every rule the file breaks. Rules marked
// "(kpki)" are stricter than kube-apiserver: things it accepts but that would be a bug in a file
// kpki renders (unknown fields, duplicate key names, ':' in a key name).
import { isMap, isSeq, parseAllDocuments } from "yaml";

/** The static providers and the decoded key lengths kube-apiserver accepts (§3.4: aesKeySizes, secretBoxKeySizes). */
export const STATIC_KEY_LENGTHS: Readonly<Record<string, readonly number[]>> = { aescbc: [16, 24, 32], aesgcm: [16, 24, 32], secretbox: [32] };
const PROVIDER_TYPES = ["identity", "aescbc", "aesgcm", "secretbox", "kms"];
const NON_REST_RESOURCES = ["apiserveripinfo", "serviceipallocations", "servicenodeportallocations"];
/** Go's time.ParseDuration units, in nanoseconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObject = (value: Json | undefined): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);

/** Go's `schema.ParseGroupResource`: split at the first dot. */
function groupResource(text: string): { resource: string; group: string } {
  const dot = text.indexOf(".");
  return dot < 0 ? { resource: text, group: "" } : { resource: text.slice(0, dot), group: text.slice(dot + 1) };
}

/** Strict standard base64 with padding (Go's base64.StdEncoding), or undefined. */
function decodeBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}

/** Go's time.ParseDuration, in nanoseconds, or undefined when it is not a duration. */
export function goDurationNanos(text: string): number | undefined {
  if (text === "0") return 0;
  const match = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (match === null) return undefined;
  let total = 0;
  for (const part of text.replace(/^[-+]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ""] ?? Number.NaN);
  return match[1] === "-" ? -total : total;
}

function unknownFields(object: Obj, allowed: readonly string[], path: string, problems: string[]): void {
  for (const key of Object.keys(object)) if (!allowed.includes(key)) problems.push(`${path}.${key}: unknown field (kpki)`);
}

/** The problems of one `resources` list (A-valid validateResourceNames, validateResourceOverlap). */
function resourceProblems(resources: Json[], path: string): string[] {
  const problems: string[] = [];
  const names: string[] = [];
  resources.forEach((value, i) => {
    const at = `${path}[${i}]`;
    if (typeof value !== "string" || value === "") return problems.push(`${at}: a resource is a non-empty string`);
    names.push(value);
    if (/[A-Z]/.test(value)) return problems.push(`${at}: resource name should not contain capital letters`);
    if (value === "*") return problems.push(`${at}: use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources`);
    if (NON_REST_RESOURCES.includes(value)) return problems.push(`${at}: resources which do not have REST API/s cannot be encrypted`);
    const { group } = groupResource(value);
    if (group === "events.k8s.io") return problems.push(`${at}: '*.events.k8s.io' objects are stored using the 'events' API group in etcd`);
    if (group === "extensions") return problems.push(`${at}: 'extensions' group has been removed and cannot be used for encryption`);
    return undefined;
  });
  const parsed = names.map(groupResource);
  let duplicate = false;
  let overlap = false;
  parsed.forEach((a, i) =>
    parsed.forEach((b, j) => {
      if (i === j) return;
      if (a.resource === b.resource && a.group === b.group) duplicate = true;
      else if ((a.resource === "*" && a.group === "*") || (a.group === b.group && (a.resource === "*" || b.resource === "*"))) overlap = true;
    }),
  );
  if (duplicate) problems.push(`${path}: the same resource cannot be specified multiple times`);
  if (overlap) problems.push(`${path}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked`);
  return problems;
}

/** The problems of one static provider's `keys` (A-valid validateKeys / validateKey). */
function keyProblems(type: string, body: Json | undefined, path: string): string[] {
  if (!isObject(body)) return [`${path}: ${type} needs an object with keys`];
  const problems: string[] = [];
  unknownFields(body, ["keys"], path, problems);
  const keys = body.keys;
  if (!Array.isArray(keys) || keys.length === 0) return [...problems, `${path}.keys: at least one keys is required`];
  const seen = new Set<string>();
  keys.forEach((key, i) => {
    const at = `${path}.keys[${i}]`;
    if (!isObject(key)) return problems.push(`${at}: a key is an object with name and secret`);
    unknownFields(key, ["name", "secret"], at, problems);
    if (typeof key.name !== "string" || key.name === "") problems.push(`${at}.name: name is a mandatory field for a key`);
    else {
      if (seen.has(key.name)) problems.push(`${at}.name: duplicate key name ${key.name} (kpki: the etcd prefix k8s:enc:${type}:v1:<name>: would be ambiguous)`);
      if (key.name.includes(":")) problems.push(`${at}.name: ':' in a key name makes the etcd prefix ambiguous (kpki)`);
      seen.add(key.name);
    }
    if (typeof key.secret !== "string" || key.secret === "") return problems.push(`${at}.secret: secret is a mandatory field for a key`);
    const secret = decodeBase64(key.secret);
    if (secret === undefined) return problems.push(`${at}.secret: secrets must be base64 encoded`);
    const expected = STATIC_KEY_LENGTHS[type] ?? [];
    if (!expected.includes(secret.length)) problems.push(`${at}.secret: secret is not of the expected length, got ${secret.length}, expected one of [${expected.join(" ")}]`);
    return undefined;
  });
  return problems;
}

/** The problems of a KMS provider (A-valid validateKMSConfiguration): v2 set explicitly, name, unix endpoint, timeout, no cachesize. */
function kmsProblems(body: Json | undefined, path: string, kmsNames: Set<string>): string[] {
  if (!isObject(body)) return [`${path}: kms needs an object`];
  const problems: string[] = [];
  unknownFields(body, ["apiVersion", "name", "endpoint", "timeout", "cachesize"], path, problems);
  if (body.apiVersion === undefined) problems.push(`${path}.apiVersion: must be set to v2 explicitly (an empty apiVersion means the deprecated v1)`);
  else if (body.apiVersion === "v1") problems.push(`${path}.apiVersion: KMS v1 is deprecated (v1.28) and disabled by default since v1.29`);
  else if (body.apiVersion !== "v2") problems.push(`${path}.apiVersion: unsupported apiVersion ${JSON.stringify(body.apiVersion)} for KMS provider, only v1 and v2 are supported`);
  if (typeof body.name !== "string" || body.name === "") problems.push(`${path}.name: name is a mandatory field for a KMS provider`);
  else {
    if (body.name.includes(":")) problems.push(`${path}.name: invalid KMS provider name ${body.name}, must not contain ':'`);
    if (kmsNames.has(body.name)) problems.push(`${path}.name: duplicate KMS provider name ${body.name}, names must be unique`);
    kmsNames.add(body.name);
  }
  if (typeof body.endpoint !== "string" || body.endpoint === "") problems.push(`${path}.endpoint: endpoint is a mandatory field for a KMS provider`);
  else if (!body.endpoint.startsWith("unix://")) problems.push(`${path}.endpoint: unsupported scheme for KMS provider, only unix is supported`);
  else if (body.endpoint.slice("unix://".length) === "") problems.push(`${path}.endpoint: the unix socket path is empty`);
  if (body.timeout !== undefined) {
    const nanos = typeof body.timeout === "string" ? goDurationNanos(body.timeout) : undefined;
    if (nanos === undefined) problems.push(`${path}.timeout: not a duration (e.g. 3s)`);
    else if (nanos <= 0) problems.push(`${path}.timeout: timeout should be a positive value`);
  }
  if (body.cachesize !== undefined && body.apiVersion !== "v1") problems.push(`${path}.cachesize: cachesize is not supported in v2`);
  return problems;
}

/** Every rule of reference §3.4 the file breaks; an empty list for a valid file. */
export function encryptionConfigProblems(yamlText: string): string[] {
  const documents = parseAllDocuments(yamlText);
  if (!Array.isArray(documents) || documents.length !== 1) return ["the file must hold exactly one YAML document"];
  const [document] = documents;
  if (document === undefined || document.errors.length > 0) return [`not YAML: ${document?.errors.map((e) => e.message).join("; ") ?? "empty"}`];
  if (!isMap(document.contents)) return ["the document is not a mapping"];
  const root = document.toJS() as Json;
  if (!isObject(root)) return ["the document is not a mapping"];
  const problems: string[] = [];
  unknownFields(root, ["apiVersion", "kind", "resources"], "", problems);
  if (root.apiVersion !== "apiserver.config.k8s.io/v1") problems.push(`apiVersion: expected apiserver.config.k8s.io/v1, got ${JSON.stringify(root.apiVersion)}`);
  if (root.kind !== "EncryptionConfiguration") problems.push(`kind: expected EncryptionConfiguration, got ${JSON.stringify(root.kind)}`);
  const entries = root.resources;
  if (!Array.isArray(entries) || entries.length === 0 || !isSeq(document.get("resources"))) return [...problems, "resources: at least one resources is required"];
  const kmsNames = new Set<string>();
  /** Resources already given a transformer by an earlier entry (A-config: masking and duplicates across entries). */
  const configured: { text: string; resource: string; group: string }[] = [];
  entries.forEach((entry, i) => {
    const at = `resources[${i}]`;
    if (!isObject(entry)) return problems.push(`${at}: an entry is an object with resources and providers`);
    unknownFields(entry, ["resources", "providers"], at, problems);
    const resources = entry.resources;
    if (!Array.isArray(resources) || resources.length === 0) problems.push(`${at}.resources: at least one resources.resources is required`);
    else {
      problems.push(...resourceProblems(resources, `${at}.resources`));
      for (const text of resources.filter((value): value is string => typeof value === "string")) {
        const gr = groupResource(text);
        const masking = configured.find((earlier) => (earlier.resource === "*" && (earlier.group === "*" || earlier.group === gr.group)) || (earlier.resource === gr.resource && earlier.group === gr.group));
        if (masking !== undefined) problems.push(`${at}.resources: resource ${JSON.stringify(text)} is masked by earlier rule ${JSON.stringify(masking.text)}`);
      }
      configured.push(...resources.filter((value): value is string => typeof value === "string").map((text) => ({ text, ...groupResource(text) })));
    }
    const providers = entry.providers;
    if (!Array.isArray(providers) || providers.length === 0) return problems.push(`${at}.providers: at least one resources.providers is required`);
    let identities = 0;
    providers.forEach((provider, j) => {
      const path = `${at}.providers[${j}]`;
      if (!isObject(provider)) return problems.push(`${path}: a provider is an object`);
      const types = Object.keys(provider).filter((key) => PROVIDER_TYPES.includes(key));
      unknownFields(provider, PROVIDER_TYPES, path, problems);
      if (types.length === 0) return problems.push(`${path}: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity`);
      if (types.length > 1) return problems.push(`${path}: more than one provider specified in a single element, should split into different list elements`);
      const type = types[0] ?? "";
      const body = provider[type];
      if (type === "identity") {
        identities += 1;
        if (!isObject(body) || Object.keys(body).length > 0) problems.push(`${path}.identity: identity takes no settings ({})`);
      } else if (type === "kms") problems.push(...kmsProblems(body, `${path}.kms`, kmsNames));
      else problems.push(...keyProblems(type, body, `${path}.${type}`));
      return undefined;
    });
    if (identities > 1) problems.push(`${at}.providers: identity is listed ${identities} times (kpki)`);
    return undefined;
  });
  return problems;
}

/** A provider key a record can be written with: `identity`, `<static type>:<key name>` or `kms:<name>`. */
export type WriteKey = string;

/** The providers of the entry covering `resource` (first entry listing it, or a matching wildcard). */
function providersFor(yamlText: string, resource: string): Obj[] {
  const root = parseAllDocuments(yamlText)[0]?.toJS() as Obj;
  const gr = groupResource(resource);
  const entries = (root.resources as Obj[]).filter((entry) =>
    (entry.resources as string[]).some((text) => {
      const candidate = groupResource(text);
      return text === resource || (candidate.resource === "*" && (candidate.group === "*" || candidate.group === gr.group));
    }),
  );
  return (entries[0]?.providers as Obj[] | undefined) ?? [{ identity: {} }];
}

function keysOf(provider: Obj): WriteKey[] {
  const [type, body] = Object.entries(provider)[0] ?? ["identity", {}];
  if (type === "identity") return ["identity"];
  if (type === "kms") return [`kms:${(body as { name: string }).name}`];
  return ((body as Obj).keys as { name: string }[]).map((key) => `${type}:${key.name}`);
}

/** What a kube-apiserver with this file writes `resource` with: the first key of the first provider (§3.4). */
export function writeKeyOf(yamlText: string, resource: string): WriteKey {
  return keysOf(providersFor(yamlText, resource)[0] ?? { identity: {} })[0] ?? "identity";
}

/** Every key a kube-apiserver with this file can read `resource` with: all providers are tried (§3.4). */
export function readableKeysOf(yamlText: string, resource: string): Set<WriteKey> {
  return new Set(providersFor(yamlText, resource).flatMap(keysOf));
}

/** The decoded static secrets of a file, by `<type>:<name>`. */
export function staticSecretsOf(yamlText: string): Map<WriteKey, Buffer> {
  const root = parseAllDocuments(yamlText)[0]?.toJS() as Obj;
  const secrets = new Map<WriteKey, Buffer>();
  for (const entry of root.resources as Obj[]) {
    for (const provider of entry.providers as Obj[]) {
      const [type, body] = Object.entries(provider)[0] ?? [];
      if (type === undefined || STATIC_KEY_LENGTHS[type] === undefined) continue;
      for (const key of (body as Obj).keys as { name: string; secret: string }[]) secrets.set(`${type}:${key.name}`, Buffer.from(key.secret, "base64"));
    }
  }
  return secrets;
}

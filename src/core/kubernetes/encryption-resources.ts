import { invalidInput } from "../shared/domain-error.js";

/** At most this many entries in `resources` (a request-size bound; real files list a handful). */
const MAX_RESOURCES = 32;

const NAME = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const GROUP = `${NAME}(\\.${NAME})*`;
/** `resource`, `resource.group`, `*.group`, `*.` (the core group) or `*.*` — lower-case DNS labels. */
const RESOURCE = new RegExp(`^(\\*\\.\\*|\\*\\.|\\*\\.${GROUP}|${NAME}|${NAME}\\.${GROUP})$`);

/** Resources kube-apiserver stores without a REST API: they cannot be encrypted (A-valid). */
const NON_REST_RESOURCES = ["apiserveripinfo", "serviceipallocations", "servicenodeportallocations"];

/** A `resources` entry split as Go's `schema.ParseGroupResource` does: at the first dot. */
export function parseGroupResource(text: string): { readonly resource: string; readonly group: string } {
  const dot = text.indexOf(".");
  return dot < 0 ? { resource: text, group: "" } : { resource: text.slice(0, dot), group: text.slice(dot + 1) };
}

/**
 * Checks the `resources` list of an EncryptionConfiguration entry against kube-apiserver's
 * validation (reference §3.4, A-valid `validateResourceNames` / `validateResourceOverlap`): at least
 * one; lower case; not `*` alone (use `*.` or `*.*`); not the resources without a REST API; not the
 * `events.k8s.io` group (stored as `events`) nor the removed `extensions` group; no duplicates; no
 * overlap such as `secrets` with `*.` or anything with `*.*` (the wildcard would mask it).
 */
export function validatedResources(resources: readonly string[], field = "resources"): readonly string[] {
  if (resources.length === 0) throw invalidInput(field, "at least one resource is required (e.g. secrets)");
  if (resources.length > MAX_RESOURCES) throw invalidInput(field, `at most ${MAX_RESOURCES} resources`);
  for (const text of resources) {
    if (/[A-Z]/.test(text)) throw invalidInput(field, `${JSON.stringify(text)}: resource names are lower case`);
    if (text === "*") throw invalidInput(field, "use '*.' to encrypt all the resources of the core API group, or '*.*' to encrypt all resources");
    if (text.length > 253 || !RESOURCE.test(text)) throw invalidInput(field, `${JSON.stringify(text)} is not resource, resource.group, *.group, *. or *.*`);
    if (NON_REST_RESOURCES.includes(text)) throw invalidInput(field, `${text}: resources which do not have REST APIs cannot be encrypted`);
    const { group } = parseGroupResource(text);
    if (group === "events.k8s.io") throw invalidInput(field, `${text}: '*.events.k8s.io' objects are stored using the 'events' API group in etcd; use 'events' instead`);
    if (group === "extensions") throw invalidInput(field, `${text}: the 'extensions' group has been removed and cannot be used for encryption`);
  }
  if (new Set(resources).size !== resources.length) throw invalidInput(field, "the same resource cannot be listed twice");
  const parsed = resources.map(parseGroupResource);
  for (const [i, a] of parsed.entries()) {
    for (const [j, b] of parsed.entries()) {
      if (i === j) continue;
      const masks = (a.resource === "*" && a.group === "*") || (a.group === b.group && (a.resource === "*" || b.resource === "*"));
      if (masks) throw invalidInput(field, `${resources[i] ?? ""} and ${resources[j] ?? ""} overlap: the wildcard would mask the other entry`);
    }
  }
  return resources;
}

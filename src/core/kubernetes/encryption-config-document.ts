import { DomainError } from "../shared/domain-error.js";
import { isStaticEntry, type ProviderEntry, type StaticProvider } from "./encryption-at-rest.js";

/** One key of a static provider as the file carries it: the secret is base64 (reference §3.4). */
export interface StaticKeyConfig {
  readonly name: string;
  readonly secret: string;
}

/** A KMS v2 provider (reference §3.4): `apiVersion: v2` set explicitly, a Go duration timeout, no `cachesize`. */
export interface KmsV2Config {
  readonly apiVersion: "v2";
  readonly name: string;
  readonly endpoint: string;
  readonly timeout: string;
}

/** One element of a `providers` list: exactly one provider type each (A-valid). */
export type ProviderConfig =
  | { readonly identity: Readonly<Record<string, never>> }
  | { readonly kms: KmsV2Config }
  | { readonly [P in StaticProvider]: { readonly [K in P]: { readonly keys: readonly StaticKeyConfig[] } } }[StaticProvider];

/** `apiserver.config.k8s.io/v1` EncryptionConfiguration, as kube-apiserver reads it (reference §3.4). */
export interface EncryptionConfigurationDocument {
  readonly apiVersion: "apiserver.config.k8s.io/v1";
  readonly kind: "EncryptionConfiguration";
  readonly resources: readonly { readonly resources: readonly string[]; readonly providers: readonly ProviderConfig[] }[];
}

/**
 * The EncryptionConfiguration for `resources` with the providers `entries` in order: the first one
 * encrypts, all are tried for reading (reference §3.4). Adjacent keys of the same static provider
 * share one provider element, so a key rotation reads as the documented `keys` list with the new
 * key second, then first. `secretOf` gives a static key's secret, base64.
 */
export function encryptionConfiguration(resources: readonly string[], entries: readonly ProviderEntry[], secretOf: (keyName: string) => string): EncryptionConfigurationDocument {
  const providers: ProviderConfig[] = [];
  let run: { type: StaticProvider; keys: StaticKeyConfig[] } | undefined;
  const flush = () => {
    if (run === undefined) return;
    providers.push(staticProvider(run.type, run.keys));
    run = undefined;
  };
  for (const entry of entries) {
    if (isStaticEntry(entry)) {
      if (run !== undefined && run.type !== entry.type) flush();
      run ??= { type: entry.type, keys: [] };
      run.keys.push({ name: entry.key, secret: secretOf(entry.key) });
      continue;
    }
    flush();
    providers.push(entry.type === "identity" ? { identity: {} } : { kms: { apiVersion: "v2", name: entry.name, endpoint: entry.endpoint, timeout: `${entry.timeoutSeconds}s` } });
  }
  flush();
  if (providers.length === 0) throw new DomainError("internal", "an EncryptionConfiguration needs at least one provider");
  return { apiVersion: "apiserver.config.k8s.io/v1", kind: "EncryptionConfiguration", resources: [{ resources: [...resources], providers }] };
}

function staticProvider(type: StaticProvider, keys: readonly StaticKeyConfig[]): ProviderConfig {
  switch (type) {
    case "aescbc":
      return { aescbc: { keys } };
    case "aesgcm":
      return { aesgcm: { keys } };
    case "secretbox":
      return { secretbox: { keys } };
  }
}

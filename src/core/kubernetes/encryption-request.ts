import { NAMED_KEY_NAME, unixEndpointSocketPath } from "../kms/index.js";
import { invalidInput } from "../shared/domain-error.js";
import { DEFAULT_KMS_TIMEOUT_SECONDS, isStaticProvider, MAX_KEY_ROTATION_PERIOD_SECONDS, MIN_KEY_ROTATION_PERIOD_SECONDS, type KmsEntry, type StaticProvider } from "./encryption-at-rest.js";
import { validatedResources } from "./encryption-resources.js";

/** How a cluster's encryption at rest should be (`PUT /v1/clusters/{cluster}/encryption`). */
export interface ConfigureEncryptionRequest {
  /** `static`: keys kpki generates and holds; `kms`: the KMS v2 plugin (`kpki kms-plugin`) with a named key. */
  readonly mode: "static" | "kms";
  /** static: aescbc, aesgcm or secretbox. */
  readonly provider?: StaticProvider;
  /** kms: the named key whose versions are the KEKs. */
  readonly keyName?: string;
  /** kms: the provider name (default `kpki-<keyName>`). */
  readonly pluginName?: string;
  /** kms: where the plugin listens (default unix:///var/run/kmsplugin/socket.sock). */
  readonly endpoint?: string;
  /** kms: kube-apiserver's timeout per call (default 3). */
  readonly timeoutSeconds?: number;
  /** Default `["secrets"]`; fixed once configured. */
  readonly resources?: readonly string[];
  /**
   * First configuration only: `unencrypted` (default) — the cluster holds data written without
   * encryption, so enabling goes through the runbook with `identity` as the old provider; `none` — a
   * cluster with no data yet (before kubeadm init): the file encrypts from the start.
   */
  readonly existingData?: "unencrypted" | "none";
  /**
   * static: start a key rotation when the key in use is this old (job `start-static-key-rotations`);
   * null turns it off; absent keeps the current setting.
   */
  readonly keyRotationPeriodSeconds?: number | null;
}

/** The provider a request asks for: a KMS entry, or a static provider whose key is yet to be made. */
export type RequestedProvider = { readonly type: "static"; readonly provider: StaticProvider } | { readonly type: "kms"; readonly entry: KmsEntry };

export const DEFAULT_KMS_ENDPOINT = "unix:///var/run/kmsplugin/socket.sock";
export const DEFAULT_RESOURCES: readonly string[] = ["secrets"];

/** KMS v2 provider names: no ':' (A-valid); kpki keeps them to DNS-like characters, as they sit in etcd prefixes. */
const PLUGIN_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const MAX_TIMEOUT_SECONDS = 300;

const KMS_FIELDS = ["keyName", "pluginName", "endpoint", "timeoutSeconds"] as const;

/** Validates a request's provider part (reference §3.4 rules for KMS v2 fields). */
export function requestedProvider(request: ConfigureEncryptionRequest): RequestedProvider {
  if (request.mode === "static") {
    const extra = KMS_FIELDS.find((field) => request[field] !== undefined);
    if (extra !== undefined) throw invalidInput(extra, "applies to mode kms only");
    if (request.provider === undefined || !isStaticProvider(request.provider)) throw invalidInput("provider", "mode static needs provider aescbc, aesgcm or secretbox");
    return { type: "static", provider: request.provider };
  }
  if (request.mode !== "kms") throw invalidInput("mode", "static or kms");
  if (request.provider !== undefined) throw invalidInput("provider", "applies to mode static only");
  const keyName = request.keyName;
  if (keyName === undefined || !NAMED_KEY_NAME.test(keyName)) throw invalidInput("keyName", "mode kms needs the named key (1–63 characters of a-z, 0-9, '.', '_' and '-')");
  const name = request.pluginName ?? `kpki-${keyName}`;
  if (name.includes(":")) throw invalidInput("pluginName", "a KMS provider name must not contain ':' (it is part of the etcd prefix k8s:enc:kms:v2:<name>:)");
  if (!PLUGIN_NAME.test(name)) throw invalidInput("pluginName", "1–63 characters of a-z, 0-9, '.', '_' and '-'");
  const endpoint = request.endpoint ?? DEFAULT_KMS_ENDPOINT;
  const socket = unixEndpointSocketPath(endpoint);
  if ("problem" in socket) throw invalidInput("endpoint", socket.problem);
  const timeoutSeconds = request.timeoutSeconds ?? DEFAULT_KMS_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) throw invalidInput("timeoutSeconds", `an integer from 1 to ${MAX_TIMEOUT_SECONDS} (kube-apiserver requires a positive timeout)`);
  return { type: "kms", entry: { type: "kms", name, endpoint: `unix://${socket.socketPath}`, keyName, timeoutSeconds } };
}

/** The request's resources (default `secrets`), validated as kube-apiserver would. */
export function requestedResources(request: ConfigureEncryptionRequest): readonly string[] {
  return validatedResources(request.resources ?? DEFAULT_RESOURCES);
}

/**
 * The request's static key rotation period: a number of seconds, null (off) or undefined (keep).
 * A KMS provider has no static key: its KEK rotates with the named key's own auto-rotate period.
 */
export function requestedKeyRotationPeriod(request: ConfigureEncryptionRequest): number | null | undefined {
  const period = request.keyRotationPeriodSeconds;
  if (period === undefined || period === null) return period;
  if (request.mode === "kms") {
    throw invalidInput("keyRotationPeriodSeconds", `mode kms has no static key to rotate: set the rotation period of named key ${request.keyName ?? ""} instead (kpki key named update … --rotate-period …)`);
  }
  if (!Number.isInteger(period) || period < MIN_KEY_ROTATION_PERIOD_SECONDS || period > MAX_KEY_ROTATION_PERIOD_SECONDS) {
    throw invalidInput("keyRotationPeriodSeconds", `an integer number of seconds from ${MIN_KEY_ROTATION_PERIOD_SECONDS} (1 day) to ${MAX_KEY_ROTATION_PERIOD_SECONDS} (10 years), or null to turn automatic rotation off`);
  }
  return period;
}

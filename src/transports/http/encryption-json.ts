import { Document } from "yaml";
import type { EncryptionState, ProviderEntry, RenderedEncryptionConfig } from "../../core/kubernetes/index.js";

/** A provider entry as the API shows it: names and settings, never a secret. */
function entryJson(entry: ProviderEntry) {
  switch (entry.type) {
    case "identity":
      return { type: entry.type };
    case "kms":
      return { type: entry.type, name: entry.name, endpoint: entry.endpoint, keyName: entry.keyName, timeoutSeconds: entry.timeoutSeconds };
    default:
      return { type: entry.type, key: entry.key };
  }
}

/** A cluster's encryption at rest: the file's providers in order, the runbook step, what to do next. */
export function encryptionJson(state: EncryptionState) {
  const { setup } = state;
  const rotation = setup.rotation;
  const target = rotation?.to ?? setup.provider;
  return {
    cluster: state.cluster.name,
    mode: target.type === "kms" ? "kms" : "static",
    resources: setup.resources,
    step: rotation?.step ?? "steady",
    providers: state.entries.map(entryJson),
    ...(rotation === undefined
      ? {}
      : { rotation: { kind: rotation.kind, step: rotation.step, from: entryJson(rotation.from), to: entryJson(rotation.to), startedAt: rotation.startedAt.toISOString(), updatedAt: rotation.updatedAt.toISOString() } }),
    keys: state.keys.map((key) => ({
      name: key.name,
      provider: key.provider,
      state: key.state,
      createdAt: key.createdAt.toISOString(),
      ...(key.retiredAt === undefined ? {} : { retiredAt: key.retiredAt.toISOString() }),
    })),
    nextAction: state.nextAction,
    ...(setup.keyRotationPeriodSeconds === undefined ? {} : { keyRotationPeriodSeconds: setup.keyRotationPeriodSeconds }),
    ...(state.keyRotationDueAt === undefined ? {} : { keyRotationDueAt: state.keyRotationDueAt.toISOString() }),
    warnings: state.warnings,
    createdAt: setup.createdAt.toISOString(),
    updatedAt: setup.updatedAt.toISOString(),
  };
}

/**
 * The EncryptionConfiguration as YAML, the form kube-apiserver's --encryption-provider-config reads,
 * under a comment naming the cluster and the runbook step.
 */
export function encryptionConfigYaml(rendered: RenderedEncryptionConfig, now: Date): string {
  const { state } = rendered;
  const step = state.setup.rotation === undefined ? "steady" : `${state.setup.rotation.kind} rotation, step ${state.setup.rotation.step}`;
  const document = new Document(rendered.document);
  document.commentBefore = [
    ` EncryptionConfiguration of cluster ${state.cluster.name} (${step}), rendered by kpki at ${now.toISOString()}.`,
    ` kube-apiserver --encryption-provider-config=<this file>; every control-plane node gets the same file.`,
    ...(rendered.containsSecrets ? [" It holds encryption keys: keep it mode 0600, owner root, and never commit it."] : []),
  ].join("\n");
  return document.toString({ lineWidth: 0 });
}

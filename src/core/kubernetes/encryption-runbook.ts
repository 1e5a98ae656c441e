import { DomainError } from "../shared/domain-error.js";
import { describeEntry, ROTATION_STEPS, type ClusterEncryption, type KmsEntry, type ProviderEntry, type RotationKind, type RotationStep } from "./encryption-at-rest.js";
import { parseGroupResource } from "./encryption-resources.js";

// The static-key rotation runbook of reference §3.5 (W-encrypt "Rotate a decryption key") as a state
// machine, used for every change of the provider that encrypts: a new key (kind `key`), a new
// provider (`provider`, e.g. static → KMS, which the reference does as "kms first, keep the old one
// after it, restart, rewrite") and first-time enablement (`enable`: from `identity`). The two-restart
// order (add second → restart → promote → restart) is what makes it safe with several API servers:
// while the file rolls out, servers still on the previous file must be able to read whatever servers
// on the new file write, so a provider only becomes first once every server can read it.

/** Where the runbook texts suggest putting the file (the path the Kubernetes docs use is operator's choice). */
export const SUGGESTED_CONFIG_PATH = "/etc/kubernetes/enc/encryption-config.yaml";

/** What the operator has to do next, in words and as commands. */
export interface NextAction {
  /** Where the runbook stands, one sentence. */
  readonly summary: string;
  /** What to do, in order. */
  readonly instructions: readonly string[];
  /** Commands to run as they are (the rewrite step's kubectl commands). */
  readonly commands: readonly string[];
}

/** Starts a rotation from the current provider to `to` at step `added`; refuses a second one. */
export function beginRotation(setup: ClusterEncryption, kind: RotationKind, to: ProviderEntry, now: Date, clusterName: string): ClusterEncryption {
  if (setup.rotation !== undefined) {
    throw new DomainError("conflict", `cluster ${clusterName}: a ${setup.rotation.kind} rotation is in progress (step ${setup.rotation.step}); finish it first with rotate next`);
  }
  return { ...setup, rotation: { kind, step: "added", from: setup.provider, to, startedAt: now, updatedAt: now }, updatedAt: now };
}

/** The setup after the operator confirmed `completedStep` (default: the current step). */
export interface Advanced {
  readonly setup: ClusterEncryption;
  /** The provider entry that left the file with this step (moving to `removed`). */
  readonly removed?: ProviderEntry;
  /** The step that was completed. */
  readonly completed: RotationStep;
}

/**
 * Moves the rotation one step on, only in order. `completedStep`, when given, must be the current
 * step: a repeated or concurrent confirmation is refused instead of skipping a restart.
 */
export function advanceRotation(setup: ClusterEncryption, now: Date, clusterName: string, completedStep?: RotationStep): Advanced {
  const rotation = setup.rotation;
  if (rotation === undefined) throw new DomainError("wrong_state", `cluster ${clusterName}: no rotation is in progress (encryption at rest is steady); start one with rotate start`);
  if (completedStep !== undefined && completedStep !== rotation.step) {
    throw new DomainError("conflict", `cluster ${clusterName}: the rotation is at step ${rotation.step}, not ${completedStep} (was it advanced by someone else?)`, { field: "completedStep" });
  }
  const index = ROTATION_STEPS.indexOf(rotation.step);
  const next = ROTATION_STEPS[index + 1];
  if (next === undefined) {
    return { setup: { ...setup, provider: rotation.to, rotation: undefined, updatedAt: now }, completed: rotation.step };
  }
  return {
    setup: { ...setup, rotation: { ...rotation, step: next, updatedAt: now }, updatedAt: now },
    completed: rotation.step,
    ...(next === "removed" ? { removed: rotation.from } : {}),
  };
}

/**
 * The documented re-write (reference §3.5 step 6: `kubectl get secrets --all-namespaces -o json |
 * kubectl replace -f -`, "repeat for other resources"), one command per configured resource; a
 * wildcard becomes every listable, updatable resource of its group(s).
 */
export function rewriteCommands(resources: readonly string[]): string[] {
  return resources.map((text) => {
    const { resource, group } = parseGroupResource(text);
    if (resource !== "*") return `kubectl get ${text} --all-namespaces -o json | kubectl replace -f -`;
    const filter = group === "*" ? "" : ` --api-group=${group === "" ? "''" : group}`;
    return `kubectl api-resources${filter} --verbs=list,update -o name | xargs -I{} sh -c 'kubectl get {} --all-namespaces -o json | kubectl replace -f -'`;
  });
}

/**
 * The confirmation command, naming the step it confirms: run twice by mistake, the second run is
 * refused instead of skipping a restart.
 */
const next = (cluster: string, step: RotationStep) => `Then run: kpki kubernetes encryption-config rotate next ${cluster} --completed ${step}`;

function pluginInstruction(entry: KmsEntry): string {
  return `Run the KMS v2 plugin on every control-plane node, before kube-apiserver needs it: kpki kms-plugin --listen ${entry.endpoint} --key ${entry.keyName} (with --server and --token-file of a token with role operator, or --in-process on a single-node kpki)`;
}

/** Copy the file everywhere, (first time: point kube-apiserver at it), restart every server. */
function rollOut(firstTime = false): string[] {
  return [
    `Copy the file to every control-plane node (mode 0600, owner root; e.g. ${SUGGESTED_CONFIG_PATH}): every kube-apiserver must get the same file.`,
    ...(firstTime
      ? [`If kube-apiserver does not use the file yet, add --encryption-provider-config=${SUGGESTED_CONFIG_PATH} to its flags (kubeadm: apiServer.extraArgs, and an extraVolumes entry mounting /etc/kubernetes/enc).`]
      : []),
    "Restart every kube-apiserver, one at a time, waiting until each is ready (kubectl get --raw='/readyz'); with --encryption-provider-config-automatic-reload, wait instead until every server has reloaded the file (about a minute).",
  ];
}

/** What the operator must do next for the setup as it stands (reference §3.5). */
export function nextAction(setup: ClusterEncryption, clusterName: string): NextAction {
  const rotation = setup.rotation;
  const covered = setup.resources.join(", ");
  if (rotation === undefined) {
    const provider = setup.provider;
    if (provider.type === "kms") {
      return {
        summary: `Steady: new writes of ${covered} are encrypted through the ${describeEntry(provider)}.`,
        instructions: [
          pluginInstruction(provider),
          `Keep the same file on every control-plane node (kube-apiserver --encryption-provider-config=${SUGGESTED_CONFIG_PATH}).`,
          `To rotate the key encryption key: kpki key named rotate ${provider.keyName}. No restart is needed: kube-apiserver sees the new key_id within about a minute. ` +
            "Re-write the data no earlier than 3 + N + M minutes later (N: the plugin's pick-up time, M at least 5) with the rewrite commands (reference §3.5).",
        ],
        commands: [],
      };
    }
    return {
      summary: `Steady: new writes of ${covered} are encrypted with the ${describeEntry(provider)}.`,
      instructions: [
        `Keep the same file on every control-plane node (kube-apiserver --encryption-provider-config=${SUGGESTED_CONFIG_PATH}).`,
        `To rotate the key: kpki kubernetes encryption-config rotate start ${clusterName}`,
        ...(provider.type === "aesgcm" ? ["aesgcm keys must be rotated before 200,000 writes (reference §3.4): rotate often, or prefer aescbc, secretbox or kms."] : []),
      ],
      commands: [],
    };
  }
  const from = describeEntry(rotation.from);
  const to = describeEntry(rotation.to);
  const plugin = rotation.to.type === "kms" ? pluginInstruction(rotation.to) : undefined;
  switch (rotation.step) {
    case "added":
      return {
        summary:
          rotation.kind === "enable"
            ? `Step 1 of 4 (added): the ${to} is in the file after identity: nothing is encrypted yet, but every kube-apiserver learns to read it.`
            : `Step 1 of 4 (added): the ${to} is in the file in second position: the ${from} still encrypts new writes, and every kube-apiserver learns to read the new one.`,
        instructions: [
          ...(plugin === undefined ? [] : [plugin]),
          ...rollOut(rotation.kind === "enable"),
          ...(rotation.to.type === "kms" || rotation.to.type === "identity" ? [] : [`Back up the new key ${rotation.to.key} securely: the rendered file holds it (reference §3.5 step 3).`]),
          next(clusterName, "added"),
        ],
        commands: [],
      };
    case "promoted":
      return {
        summary: `Step 2 of 4 (promoted): the ${to} is first: new writes are encrypted with it; the ${from} stays in the file to read older data.`,
        instructions: [...rollOut(), next(clusterName, "promoted")],
        commands: [],
      };
    case "rewrite":
      return {
        summary: `Step 3 of 4 (rewrite): the file is unchanged. Every object of ${covered} must now be re-written so that it is encrypted with the ${to}.`,
        instructions: [
          "Run the commands below as a cluster administrator, after every kube-apiserver runs the promoted file; repeat any that fails until it succeeds.",
          `${next(clusterName, "rewrite")} — the ${from} then leaves the file: anything not re-written would become unreadable.`,
        ],
        commands: rewriteCommands(setup.resources),
      };
    case "removed":
      return {
        summary: `Step 4 of 4 (removed): the ${from} is no longer in the file; the ${to} encrypts and reads everything.`,
        instructions: [
          ...rollOut(),
          ...(rotation.from.type === "kms" ? [`Once every kube-apiserver has restarted, the KMS plugin ${rotation.from.name} is no longer needed: stop it.`] : []),
          ...(rotation.from.type !== "kms" && rotation.from.type !== "identity"
            ? [`kpki keeps the retired key ${rotation.from.key} sealed, outside the file, for restoring etcd backups taken before the rewrite.`]
            : []),
          `${next(clusterName, "removed")} — to finish the rotation.`,
        ],
        commands: [],
      };
  }
}

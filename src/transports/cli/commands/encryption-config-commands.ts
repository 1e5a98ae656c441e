import type { Command } from "commander";
import type { ApiClient } from "../api-client.js";
import { assertWritable, parseDuration, writeOutputFile, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

/** A cluster's encryption at rest as the API returns it (the parts the CLI prints). */
interface EncryptionState {
  cluster: string;
  mode: string;
  step: string;
  resources: string[];
  providers: { type: string; key?: string; name?: string; keyName?: string }[];
  rotation?: { kind: string; step: string };
  keys: { name: string; provider: string; state: string }[];
  nextAction: { summary: string; instructions: string[]; commands: string[] };
  keyRotationPeriodSeconds?: number;
  keyRotationDueAt?: string;
  warnings: string[];
}

interface OutFlags extends RemoteFlags {
  out?: string;
  force?: boolean;
  json?: boolean;
}

interface SetFlags extends OutFlags {
  mode: string;
  provider?: string;
  key?: string;
  pluginName?: string;
  endpoint?: string;
  timeout?: string;
  resource?: string[];
  existingData?: string;
  rotationPeriod?: string;
}

const STEPS = ["added", "promoted", "rewrite", "removed"];
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const path = (cluster: string, rest = "") => `/v1/clusters/${encodeURIComponent(cluster)}/encryption${rest}`;

function providerText(provider: EncryptionState["providers"][number]): string {
  if (provider.type === "identity") return "identity";
  if (provider.type === "kms") return `kms ${provider.name ?? ""} (named key ${provider.keyName ?? ""})`;
  return `${provider.type} ${provider.key ?? ""}`;
}

/** The state for a person: where the runbook stands and what to do next. */
function describe(state: EncryptionState): string {
  const lines = [
    `cluster ${state.cluster}: ${state.mode}, ${state.rotation === undefined ? "steady" : `${state.rotation.kind} rotation at step ${state.rotation.step}`}; resources: ${state.resources.join(", ")}`,
    `file providers, in order: ${state.providers.map(providerText).join(", ")}`,
    ...(state.keys.length === 0 ? [] : [`static keys: ${state.keys.map((key) => `${key.name} (${key.provider}, ${key.state})`).join(", ")}`]),
    ...(state.keyRotationPeriodSeconds === undefined
      ? []
      : [`automatic key rotation every ${state.keyRotationPeriodSeconds / 86_400} days${state.keyRotationDueAt === undefined ? " (after the rotation in progress)" : `; the next one starts at ${state.keyRotationDueAt}`}`]),
    "",
    state.nextAction.summary,
    ...state.nextAction.instructions.map((line, i) => `  ${i + 1}. ${line}`),
    ...state.nextAction.commands.map((command) => `     $ ${command}`),
    ...state.warnings.map((warning) => `warning: ${warning}`),
  ];
  return lines.join("\n") + "\n";
}

/** Prints the state (or its JSON); with --out, first writes the file of the new step (0600). */
async function report(client: ApiClient, io: CliOutput, state: EncryptionState, flags: OutFlags): Promise<void> {
  if (flags.out !== undefined) {
    const yaml = await client.text(path(state.cluster, "/config"), "application/yaml");
    writeOutputFile(flags.out, yaml, { secret: true, force: flags.force === true });
    io.err(`wrote ${flags.out} (mode 0600): the EncryptionConfiguration of cluster ${state.cluster} for step ${state.step}\n`);
  }
  io.out(flags.json === true ? JSON.stringify(state, null, 2) + "\n" : describe(state));
}

function withOut(command: Command): Command {
  return command
    .option("--out <file>", "also write the EncryptionConfiguration of the new step to this file (mode 0600; needs a token with cluster.encryption.export, i.e. admin)")
    .option("--force", "overwrite --out if it exists")
    .option("--json", "print the state as JSON");
}

/** The PUT body from the flags. */
function configureBody(flags: SetFlags): Record<string, unknown> {
  if (flags.mode !== "static" && flags.mode !== "kms") throw new CliError(`--mode: static or kms, got ${flags.mode}`, EXIT.usage);
  if (flags.mode === "static" && flags.provider === undefined) throw new CliError("--mode static needs --provider aescbc|aesgcm|secretbox", EXIT.usage);
  if (flags.mode === "kms" && flags.key === undefined) throw new CliError("--mode kms needs --key NAME (a named key: kpki key named create NAME)", EXIT.usage);
  return {
    mode: flags.mode,
    ...(flags.provider === undefined ? {} : { provider: flags.provider }),
    ...(flags.key === undefined ? {} : { keyName: flags.key }),
    ...(flags.pluginName === undefined ? {} : { pluginName: flags.pluginName }),
    ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
    ...(flags.timeout === undefined ? {} : { timeoutSeconds: parseDuration(flags.timeout, "--timeout") }),
    ...(flags.resource === undefined ? {} : { resources: flags.resource }),
    ...(flags.existingData === undefined ? {} : { existingData: flags.existingData }),
    ...(flags.rotationPeriod === undefined ? {} : { keyRotationPeriodSeconds: flags.rotationPeriod === "off" ? null : parseDuration(flags.rotationPeriod, "--rotation-period") }),
  };
}

/**
 * `kpki kubernetes encryption-config …`: encryption at rest for a cluster's kube-apiservers over the
 * REST API — set the provider, show the state, render the EncryptionConfiguration, and walk the
 * rotation runbook (reference §3.5) one confirmed step at a time, each step printing what to do next.
 */
export function registerKubernetesCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const kubernetes = program.command("kubernetes").description("Kubernetes workflows beyond kubeadm (remote: talks to a kpki server)");
  const config = kubernetes
    .command("encryption-config")
    .description("encryption at rest for a cluster's kube-apiservers: the EncryptionConfiguration (KMS v2 plugin, or static keys kpki holds) and its rotation runbook");

  withRemoteOptions(
    withOut(
      config
        .command("set")
        .description("set the provider; the first time, with existing data, this starts the enable runbook (identity → the provider)")
        .argument("<cluster>")
        .requiredOption("--mode <mode>", "static (keys kpki generates and holds) or kms (the kpki kms-plugin with a named key)")
        .option("--provider <provider>", "static: aescbc (recommended), aesgcm or secretbox")
        .option("--key <name>", "kms: the named key (kpki key named create NAME)")
        .option("--plugin-name <name>", "kms: the provider name in the file (default kpki-<key>); part of every record's etcd prefix")
        .option("--endpoint <unix:///path.sock>", "kms: where kpki kms-plugin listens (default unix:///var/run/kmsplugin/socket.sock)")
        .option("--timeout <duration>", "kms: kube-apiserver's timeout per plugin call (default 3s)")
        .option("--resource <resource>", "a resource to encrypt (repeatable; default secrets): secrets, configmaps, deployments.apps, *.apps, *., *.*", collect)
        .option("--existing-data <what>", "first time only: unencrypted (default; enable through the runbook) or none (a cluster without data yet)")
        .option("--rotation-period <duration>", "static: start a key rotation when the key in use is this old, e.g. 90d (job start-static-key-rotations; the rollout steps stay yours), or off"),
    ),
  ).action(async (cluster: string, flags: SetFlags) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const client = clientFor(flags, env);
    const { body } = await client.json<EncryptionState>("PUT", path(cluster), configureBody(flags));
    await report(client, io, body, flags);
  });

  withRemoteOptions(config.command("show").description("where the cluster's encryption at rest stands, and what to do next (no secret)").argument("<cluster>").option("--json", "print JSON")).action(
    async (cluster: string, flags: OutFlags) => {
      const { body } = await clientFor(flags, env).json<EncryptionState>("GET", path(cluster));
      io.out(flags.json === true ? JSON.stringify(body, null, 2) + "\n" : describe(body));
    },
  );

  withRemoteOptions(
    config
      .command("render")
      .description("the EncryptionConfiguration for the current step (holds static keys: needs a token with cluster.encryption.export, i.e. admin)")
      .argument("<cluster>")
      .option("--out <file>", "write it to this file (mode 0600) and print the next action, instead of printing the file")
      .option("--force", "overwrite --out if it exists"),
  ).action(async (cluster: string, flags: OutFlags) => {
    const client = clientFor(flags, env);
    if (flags.out === undefined) {
      io.out(await client.text(path(cluster, "/config"), "application/yaml"));
      return;
    }
    assertWritable([flags.out], flags.force === true);
    const { body } = await client.json<EncryptionState>("GET", path(cluster));
    await report(client, io, body, flags);
  });

  const rotate = config.command("rotate").description("the static key rotation runbook: add the new key second → restart → promote → restart → rewrite → remove");
  withRemoteOptions(withOut(rotate.command("start").description("start a static key rotation: a new key, added second").argument("<cluster>"))).action(async (cluster: string, flags: OutFlags) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const client = clientFor(flags, env);
    const { body } = await client.json<EncryptionState>("POST", path(cluster, "/rotation"));
    await report(client, io, body, flags);
  });
  withRemoteOptions(
    withOut(
      rotate
        .command("next")
        .description("confirm the current step of the rotation in progress (key, provider change or enablement) was done, and go to the next")
        .argument("<cluster>")
        .option("--completed <step>", "the step you completed (added, promoted, rewrite, removed): refused if the rotation is elsewhere, so a repeated command skips nothing"),
    ),
  ).action(async (cluster: string, flags: OutFlags & { completed?: string }) => {
    if (flags.completed !== undefined && !STEPS.includes(flags.completed)) throw new CliError(`--completed: one of ${STEPS.join(", ")}`, EXIT.usage);
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const client = clientFor(flags, env);
    const { body } = await client.json<EncryptionState>("POST", path(cluster, "/rotation/next"), flags.completed === undefined ? {} : { completedStep: flags.completed });
    await report(client, io, body, flags);
  });
}

import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { parseDuration, table, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { applyChanges, planChanges } from "../kubeadm/file-transaction.js";
import { reportWritten } from "../kubeadm/kubeadm-sign.js";
import { checkServiceAccountFiles, planServiceAccountFiles, type ServiceAccountFiles } from "../kubeadm/service-account-files.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

// `kpki cluster sa-key …`: rotating a cluster's service-account signing key with overlap
// (reference/kubernetes.md §5), one step at a time, and writing sa.key / sa.pub for a step.

/** A version as `GET /v1/clusters/{cluster}/service-account-keys` shows it. */
interface VersionJson {
  version: number;
  state: string;
  algorithm: string;
  keyId: string;
  signingFrom?: string;
  signingUntil?: string;
  retireAfter?: string;
  retiredAt?: string;
}

/** The rotation state. */
interface KeysJson {
  cluster: string;
  step: "idle" | "published" | "switched";
  nextStep: "publish" | "switch" | "retire";
  retireAfter?: string;
  signingVersion: number;
  verificationVersions: number[];
  overlapSeconds: number;
  rotationPeriodSeconds?: number;
  versions: VersionJson[];
  taken?: string;
}

const filesSchema = z.object({
  cluster: z.string(),
  step: z.string(),
  signingVersion: z.number().int(),
  verificationVersions: z.array(z.number().int()),
  privateKeyPem: z.string(),
  publicKeyPem: z.string(),
});

const keysPath = (cluster: string, rest = "") => `/v1/clusters/${encodeURIComponent(cluster)}/service-account-keys${rest}`;
const days = (seconds: number) => (seconds % 86_400 === 0 ? `${seconds / 86_400}d` : `${seconds}s`);

/**
 * What the operator must do now that the cluster is at `keys.step` (reference §5): kpki changes
 * only what it will hand out; the files reach the nodes and the components restart by their hand.
 */
export function nextActions(keys: KeysJson): string[] {
  const signing = `version ${keys.signingVersion}`;
  const listed = `version${keys.verificationVersions.length === 1 ? "" : "s"} ${keys.verificationVersions.join(" and ")}`;
  const rollOut = `roll sa.pub and sa.key out to every control-plane node (kpki cluster sa-key render ${keys.cluster} --dir /etc/kubernetes/pki, or kpki kubeadm renew)`;
  switch (keys.step) {
    case "published":
      return [
        `step 1 of 3 (publish) done: sa.pub lists ${listed}; sa.key is still ${signing}.`,
        `Now ${rollOut} and restart every kube-apiserver, so that each of them accepts the new key before any token is signed with it.`,
        `Then: kpki cluster sa-key rotate next ${keys.cluster}   (switch)`,
      ];
    case "switched":
      return [
        `step 2 of 3 (switch) done: sa.key is ${signing}; sa.pub still lists ${listed}, so tokens the old key signed keep verifying.`,
        `Now ${rollOut}, then restart every kube-apiserver (--service-account-signing-key-file) and kube-controller-manager (--service-account-private-key-file).`,
        `The kubelet refreshes projected tokens within 24 h; recreate any Secret-based token the old key signed.`,
        `Then, from ${keys.retireAfter ?? "the end of the overlap"} (the scheduled job retire-service-account-keys does it too): kpki cluster sa-key rotate next ${keys.cluster}   (retire)`,
      ];
    case "idle":
      return keys.taken === "retire"
        ? [`step 3 of 3 (retire) done: sa.pub lists only ${listed}.`, `Now ${rollOut} and restart every kube-apiserver: tokens signed by the retired key are no longer accepted.`]
        : [`no rotation in progress: sa.key is ${signing}, sa.pub lists ${listed}.`];
  }
}

/** `kpki cluster sa-key …` under `kpki cluster`. */
export function registerServiceAccountKeyCommands(cluster: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const saKey = cluster.command("sa-key").description("the cluster's service-account signing key: versions, rotation with overlap, sa.key/sa.pub files");

  withRemoteOptions(saKey.command("list").description("the versions, their states and key ids, and where the rotation stands").argument("<cluster>")).action(
    async (name: string, flags: RemoteFlags) => {
      const { body } = await clientFor(flags, env).json<KeysJson>("GET", keysPath(name));
      io.out(
        table([
          ["VERSION", "STATE", "ALGORITHM", "KEY ID", "SIGNING FROM", "SIGNING UNTIL", "RETIRE AFTER / RETIRED"],
          ...body.versions.map((v) => [String(v.version), v.state, v.algorithm, v.keyId, v.signingFrom ?? "-", v.signingUntil ?? "-", v.retiredAt ?? v.retireAfter ?? "-"]),
        ]),
      );
      io.out(`rotation: ${body.step === "idle" ? "none in progress" : `step ${body.step}`}; next step: ${body.nextStep}${body.retireAfter === undefined ? "" : ` (without --force from ${body.retireAfter})`}; overlap ${days(body.overlapSeconds)}${body.rotationPeriodSeconds === undefined ? "" : `; a rotation starts every ${days(body.rotationPeriodSeconds)}`}\n`);
    },
  );

  const rotate = saKey.command("rotate").description("rotate with overlap: start (publish), then next (switch), then next (retire)");
  withRemoteOptions(
    rotate
      .command("start")
      .description("step 1, publish: a new key joins sa.pub; sa.key stays the old key until the switch")
      .argument("<cluster>")
      .option("--key-algorithm <alg>", "the new key's algorithm (default: the cluster's)"),
  ).action(async (name: string, flags: RemoteFlags & { keyAlgorithm?: string }) => {
    const { body } = await clientFor(flags, env).json<KeysJson>("POST", keysPath(name, "/rotation"), flags.keyAlgorithm === undefined ? {} : { keyAlgorithm: flags.keyAlgorithm });
    io.out(nextActions(body).join("\n") + "\n");
  });
  withRemoteOptions(
    rotate
      .command("next")
      .description("the next step: switch (sa.key becomes the new key) or retire (the old key leaves sa.pub, once the overlap has passed)")
      .argument("<cluster>")
      .option("--step <step>", "the step you mean (switch or retire); refused if another one is next")
      .option("--force", "retire before the overlap has passed (tokens the old key signed stop verifying)"),
  ).action(async (name: string, flags: RemoteFlags & { step?: string; force?: boolean }) => {
    if (flags.step !== undefined && flags.step !== "switch" && flags.step !== "retire") throw new CliError(`--step must be switch or retire, not ${flags.step}`, EXIT.usage);
    const { body } = await clientFor(flags, env).json<KeysJson>("POST", keysPath(name, "/rotation/next"), {
      ...(flags.step === undefined ? {} : { step: flags.step }),
      ...(flags.force === true ? { force: true } : {}),
    });
    io.out(nextActions(body).join("\n") + "\n");
  });

  withRemoteOptions(
    saKey
      .command("set")
      .description("the cluster's rotation policy")
      .argument("<cluster>")
      .option("--overlap <duration>", "how long a replaced key stays in sa.pub after the switch (default 7d, at least 1d)")
      .option("--rotation-period <duration|off>", "start a rotation (publish) this long after the current key began signing; off = only on request"),
  ).action(async (name: string, flags: RemoteFlags & { overlap?: string; rotationPeriod?: string }) => {
    if (flags.overlap === undefined && flags.rotationPeriod === undefined) throw new CliError("give --overlap and/or --rotation-period", EXIT.usage);
    await clientFor(flags, env).json("PATCH", `/v1/clusters/${encodeURIComponent(name)}`, {
      ...(flags.overlap === undefined ? {} : { serviceAccountKeyOverlapSeconds: parseDuration(flags.overlap, "--overlap") }),
      ...(flags.rotationPeriod === undefined ? {} : { serviceAccountKeyRotationPeriodSeconds: flags.rotationPeriod === "off" ? null : parseDuration(flags.rotationPeriod, "--rotation-period") }),
    });
    io.out(`service-account key policy of cluster ${name} updated\n`);
  });

  withRemoteOptions(
    saKey
      .command("render")
      .description("write sa.key (0600, the signing key of the current step) and sa.pub (0644, every key to accept) into a directory, all or nothing")
      .argument("<cluster>")
      .requiredOption("--dir <dir>", "where to write them (on a control-plane node: /etc/kubernetes/pki)")
      .option("--force", "replace an sa.key that holds none of the cluster's keys"),
  ).action(async (name: string, flags: RemoteFlags & { dir: string; force?: boolean }) => {
    const { body } = await clientFor(flags, env).json<unknown>("GET", keysPath(name, "/files"));
    const parsed = filesSchema.safeParse(body);
    if (!parsed.success) throw new CliError(`the server's service-account files are not understood: ${parsed.error.issues[0]?.message ?? "unexpected shape"}`, EXIT.failure);
    let files: ServiceAccountFiles;
    try {
      files = checkServiceAccountFiles(parsed.data, "files");
    } catch (error) {
      throw new CliError(`the server's service-account files cannot be used, nothing was written: ${error instanceof Error ? error.message : String(error)}`, EXIT.failure);
    }
    const paths = { privateKey: path.join(flags.dir, "sa.key"), publicKey: path.join(flags.dir, "sa.pub") };
    const changes = planChanges(planServiceAccountFiles({ paths, files, cluster: name, force: flags.force === true, modes: { privateKey: 0o600, publicKey: 0o644 } }));
    applyChanges(changes);
    reportWritten(changes, [], io);
    const { step, signingVersion, verificationVersions } = parsed.data;
    io.out(`sa.key: version ${signingVersion}; sa.pub: version${verificationVersions.length === 1 ? "" : "s"} ${verificationVersions.join(", ")} (rotation step ${step})\n`);
    if (changes.some((change) => change.action !== "unchanged")) {
      // After publish only sa.pub changed (read by kube-apiserver); after a switch sa.key did too, which kube-controller-manager signs with.
      io.out(`restart kube-apiserver${step === "published" ? "" : " and kube-controller-manager"} on this node so that they read the new files\n`);
    }
  });
}

import type { Command } from "commander";
import type { CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { collectExpirationInfo } from "../kubeadm/expiration-info.js";
import { formatExpirationJson, formatExpirationText, formatExpirationYaml } from "../kubeadm/expiration-printer.js";
import { runKubeadmRenew } from "../kubeadm/kubeadm-renew.js";
import { runKubeadmSign } from "../kubeadm/kubeadm-sign.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

interface DirFlags {
  certDir: string;
  kubeconfigDir: string;
}

interface SignFlags extends RemoteFlags, DirFlags {
  cluster: string;
  node: string;
  dryRun?: boolean;
  removeCsrs?: boolean;
  force?: boolean;
}

interface RenewFlags extends RemoteFlags, DirFlags {
  cluster: string;
  node: string;
  newKeys?: boolean;
  force?: boolean;
}

const dirOptions = (command: Command): Command =>
  command
    .requiredOption("--cert-dir <dir>", "kubeadm's certificate directory (kubeadm's default: /etc/kubernetes/pki)")
    .requiredOption("--kubeconfig-dir <dir>", "kubeadm's kubeconfig directory (kubeadm's default: /etc/kubernetes)");

/** `kpki kubeadm …`: kubeadm's external-CA mode with kpki as the CA. */
export function registerKubeadmCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const kubeadm = program.command("kubeadm").description("kubeadm external-CA mode: sign generate-csr output, renew, check expiration");

  withRemoteOptions(
    dirOptions(
      kubeadm
        .command("sign")
        .description(
          "sign what `kubeadm certs generate-csr` wrote, in one transaction, and write the .crt files, CA certificates, sa.key/sa.pub and completed kubeconfigs (all or nothing)",
        )
        .requiredOption("--cluster <name>", "the cluster in kpki")
        .requiredOption("--node <name>", "this node's name (kubeadm nodeRegistration.name)"),
    )
      .option("--dry-run", "show what would be created, replaced or left unchanged; reads the cluster and its CA certificates, issues and writes nothing")
      .option("--remove-csrs", "delete the .csr files once the certificates are written (kept by default, so a failed run can be retried)")
      .option("--force", "replace a CA certificate file holding another CA, or an sa.key holding another key"),
  ).action(async (flags: SignFlags) => {
    await runKubeadmSign(
      { cluster: flags.cluster, node: flags.node, dirs: dirs(flags), dryRun: flags.dryRun === true, removeCsrs: flags.removeCsrs === true, force: flags.force === true },
      clientFor(flags, env),
      io,
    );
  });

  withRemoteOptions(
    dirOptions(
      kubeadm
        .command("renew")
        .description("renew certificates in place through kpki (what `kubeadm certs renew` cannot do with an external CA); replaced files are kept in <dir>/kpki-backup-<UTC time>/")
        .argument("[names...]", "kubeadm names (apiserver, etcd-server, admin.conf …) or all")
        .requiredOption("--cluster <name>", "the cluster in kpki")
        .requiredOption("--node <name>", "this node's name (kubeadm nodeRegistration.name)"),
    )
      .option("--new-keys", "new private keys of the same algorithm instead of reusing the current ones")
      .option("--force", "replace a CA certificate file holding another CA, or an sa.key holding another key"),
  ).action(async (names: string[], flags: RenewFlags) => {
    await runKubeadmRenew(
      { cluster: flags.cluster, node: flags.node, dirs: dirs(flags), names, newKeys: flags.newKeys === true, force: flags.force === true, now: new Date() },
      clientFor(flags, env),
      io,
    );
  });

  dirOptions(kubeadm.command("check-expiration").description("kubeadm's expiration table for the files on disk (no server needed)"))
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action((flags: DirFlags & { output: string }) => {
      const info = collectExpirationInfo(dirs(flags), new Date());
      switch (flags.output) {
        case "text":
          io.out(formatExpirationText(info));
          return;
        case "json":
          io.out(formatExpirationJson(info));
          return;
        case "yaml":
          io.out(formatExpirationYaml(info));
          return;
        default:
          throw new CliError(`--output must be text, json or yaml, not ${flags.output}`, EXIT.usage);
      }
    });
}

function dirs(flags: DirFlags): { certDir: string; kubeconfigDir: string } {
  return { certDir: flags.certDir, kubeconfigDir: flags.kubeconfigDir };
}

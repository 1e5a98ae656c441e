import { Command, CommanderError } from "commander";
import { DomainError } from "../../core/shared/domain-error.js";
import type { CliOutput } from "./cli-io.js";
import { registerBackupCommands } from "./commands/backup-commands.js";
import { registerCaCommands } from "./commands/ca-commands.js";
import { registerCertCommands } from "./commands/cert-commands.js";
import { registerKubernetesCommands } from "./commands/encryption-config-commands.js";
import { registerClusterCommands } from "./commands/cluster-commands.js";
import { registerKeyCommands } from "./commands/key-commands.js";
import { registerKmsPluginCommand } from "./commands/kms-plugin-command.js";
import { registerKubeadmCommands } from "./commands/kubeadm-commands.js";
import { registerJobCommands } from "./commands/job-commands.js";
import { registerLocalCommands } from "./commands/local-commands.js";
import { registerRotateCommand } from "./commands/rotate-command.js";
import { registerTokenCommands } from "./commands/token-commands.js";
import { CliError, EXIT, exitCodeFor } from "./exit-codes.js";
import type { LocalOperations } from "./local-operations.js";

/** A configuration problem reported by the composition root (one line, exit 2). */
export interface ConfigProblem extends Error {
  readonly name: "ConfigError" | "StorageError" | "MigrationError";
}

function isConfigProblem(error: unknown): error is ConfigProblem {
  return error instanceof Error && ["ConfigError", "StorageError", "MigrationError"].includes(error.name);
}

/** The `kpki` command line. Returns the exit code; never calls process.exit itself. */
export async function runCli(argv: readonly string[], deps: { local: LocalOperations; io: CliOutput; env: NodeJS.ProcessEnv; version: string }): Promise<number> {
  const program = new Command()
    .name("kpki")
    .description("Internal PKI and KMIP-style key service for Kubernetes clusters")
    .version(deps.version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => deps.io.out(text), writeErr: (text) => deps.io.err(text) });
  registerLocalCommands(program, deps.io, deps.local);
  registerRotateCommand(program, deps.io, deps.local);
  registerBackupCommands(program, deps.io, deps.local);
  registerCaCommands(program, deps.io, deps.env);
  registerCertCommands(program, deps.io, deps.env);
  registerTokenCommands(program, deps.io, deps.env);
  registerClusterCommands(program, deps.io, deps.env);
  registerKubeadmCommands(program, deps.io, deps.env);
  registerKubernetesCommands(program, deps.io, deps.env);
  registerKeyCommands(program, deps.io, deps.env);
  registerKmsPluginCommand(program, deps.io, deps.local, deps.env);
  registerJobCommands(program, deps.io, deps.env);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      deps.io.err(`kpki: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof DomainError) {
      deps.io.err(`kpki: ${error.message}\n`);
      return exitCodeFor(error.code);
    }
    if (isConfigProblem(error)) {
      deps.io.err(`kpki: ${error.message}\n`);
      return EXIT.usage;
    }
    deps.io.err(`kpki: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failure;
  }
}

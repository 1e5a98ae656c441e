import type { Command } from "commander";
import type { CliOutput } from "../cli-io.js";
import type { LocalOperations } from "../local-operations.js";

/** `kpki serve`, `kpki migrate`, `kpki master-key rotate`: commands that run on the host itself. */
export function registerLocalCommands(program: Command, io: CliOutput, local: LocalOperations): void {
  program
    .command("serve")
    .description("run the service: HTTPS REST API (KPKI_LISTEN, default :8443); first start bootstraps the CA hierarchy")
    .option("--listen <address>", "override KPKI_LISTEN, e.g. 127.0.0.1:8443")
    .action(async (flags: { listen?: string }) => {
      await local.serve(flags.listen === undefined ? {} : { listen: flags.listen }, (text) => io.err(text));
    });

  program
    .command("migrate")
    .description("apply pending database migrations (the service also does this at start)")
    .option("--status", "only list migrations and whether each is applied")
    .action(async (flags: { status?: boolean }) => {
      for (const line of await local.migrate({ statusOnly: flags.status === true })) io.out(`${line}\n`);
    });

  const masterKey = program.command("master-key").description("the master key that seals every private key at rest");
  masterKey
    .command("rotate")
    .description(
      "re-seal every stored private key under a new master key, in one transaction. With the default key file a new key is generated next to it and swapped in; otherwise give --new-key-file. Restart every replica afterwards.",
    )
    .option("--new-key-file <path>", "the new key (base64 of 32 bytes, mode 0600), e.g. from `openssl rand -base64 32`")
    .action(async (flags: { newKeyFile?: string }) => {
      const lines = await local.rotateMasterKey(flags.newKeyFile === undefined ? {} : { newKeyFile: flags.newKeyFile }, (line) => io.err(`${line}\n`));
      for (const line of lines) io.out(`${line}\n`);
    });
}

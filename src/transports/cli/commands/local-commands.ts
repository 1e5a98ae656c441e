import type { Command } from "commander";
import type { CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
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

  const audit = program.command("audit").description("the append-only, hash-chained audit log");
  audit
    .command("verify")
    .description("check the audit hash chain on this host's database (DATABASE_URL / KPKI_DATA_DIR): names every edited, deleted, inserted or reordered entry; exit 5 when broken")
    .option("--expect-head <seq:hash>", "a head printed by an earlier verify: also detects removed newest entries")
    .action(async (flags: { expectHead?: string }) => {
      const result = await local.verifyAudit(flags.expectHead === undefined ? {} : { expectHead: parseHead(flags.expectHead) }, (line) => io.err(`${line}\n`));
      for (const line of result.lines) io.out(`${line}\n`);
      if (!result.ok) throw new CliError("the audit log does not verify (see above)", EXIT.conflict);
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

/** `--expect-head 42:ab12…` → { seq, hash }. */
function parseHead(text: string): { seq: number; hash: string } {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text);
  if (match === null) throw new CliError("--expect-head takes SEQ:HASH as printed by an earlier `kpki audit verify`", EXIT.usage);
  return { seq: Number(match[1]), hash: match[2] ?? "" };
}

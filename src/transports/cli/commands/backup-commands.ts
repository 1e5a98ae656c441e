import type { Command } from "commander";
import type { CliOutput } from "../cli-io.js";
import type { LocalOperations } from "../local-operations.js";

/** `kpki backup` and `kpki restore`: the whole database to and from one sealed file, on the host. */
export function registerBackupCommands(program: Command, io: CliOutput, local: LocalOperations): void {
  program
    .command("backup")
    .description(
      "write a backup of the whole database (one consistent snapshot) to a file sealed under the master key (AES-256-GCM, HKDF-derived key); restoring it needs the same master key",
    )
    .requiredOption("--out <file>", "the backup file to write (must not exist; mode 0600)")
    .action(async (flags: { out: string }) => {
      for (const line of await local.backup({ outFile: flags.out }, (line) => io.err(`${line}\n`))) io.out(`${line}\n`);
    });

  program
    .command("restore")
    .description(
      "restore a backup into this host's database (DATABASE_URL / KPKI_DATA_DIR; SQLite or PostgreSQL, either way), in one transaction. Refuses a database that holds data unless --force (which wipes it in the same transaction), a file that was altered, and a master key that is not the backup's",
    )
    .requiredOption("--in <file>", "the backup file")
    .option("--force", "replace the data the database holds")
    .action(async (flags: { in: string; force?: boolean }) => {
      for (const line of await local.restore({ inFile: flags.in, force: flags.force === true }, (line) => io.err(`${line}\n`))) io.out(`${line}\n`);
    });
}

import type { Command } from "commander";
import { assertWritable, parseDuration, table, writeOutputFile, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";
import { base64, readData, readOptionalData, writeData } from "./key-data.js";

/** A named key as the CLI prints it. */
interface NamedKey {
  name: string;
  algorithm: string;
  currentVersion: number;
  minDecryptionVersion: number;
  rotatePeriodSeconds?: number;
  lastRotatedAt: string;
}

/** `GET /v1/keys/{key}/usage-report`. */
interface UsageReport {
  currentVersion: number;
  windowDays: number;
  since: string;
  versions: { version: number; role: string; state: string; encryptCount: number; decryptCount: number; lastDecryptAt?: string; recentlyDecrypted: boolean }[];
  stillDecrypting: number[];
  safeMinDecryptionVersion: number;
}

const keyPath = (name: string, rest = "") => `/v1/keys/${encodeURIComponent(name)}${rest}`;
const summary = (key: NamedKey) => `${key.name} (${key.algorithm}): version ${key.currentVersion}, decrypts from ${key.minDecryptionVersion}${key.rotatePeriodSeconds === undefined ? "" : `, rotates every ${key.rotatePeriodSeconds}s`}`;

interface CiphertextFlags extends RemoteFlags {
  ciphertext?: string;
  in?: string;
  contextFile?: string;
}

/** The ciphertext from --ciphertext, or the text of --in / stdin. */
function ciphertextOf(flags: CiphertextFlags): string {
  const text = flags.ciphertext ?? readData(flags.in, "the ciphertext").toString("utf8").trim();
  if (text === "") throw new CliError("no ciphertext: give --ciphertext TEXT or --in FILE", EXIT.usage);
  return text;
}

function contextOf(flags: { contextFile?: string }): { context?: string } {
  const context = readOptionalData(flags.contextFile, "the context");
  return context === undefined ? {} : { context: base64(context) };
}

/** `kpki key named …`: encryption as a service on named keys. */
export function registerNamedKeyCommands(key: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const named = key.command("named").description("named keys: encryption as a service with rotation (ciphertexts name their version)");

  withRemoteOptions(
    named
      .command("create")
      .description("create a named key (version 1, Active)")
      .argument("<name>")
      .option("--algorithm <alg>", "AES-256-GCM (default) or AES-128-GCM")
      .option("--rotate-period <duration>", "rotate automatically this often, e.g. 30d (at least 1h)"),
  ).action(async (name: string, flags: RemoteFlags & { algorithm?: string; rotatePeriod?: string }) => {
    const { body } = await clientFor(flags, env).json<NamedKey>("POST", "/v1/keys", {
      name,
      ...(flags.algorithm === undefined ? {} : { algorithm: flags.algorithm }),
      ...(flags.rotatePeriod === undefined ? {} : { rotatePeriodSeconds: parseDuration(flags.rotatePeriod, "--rotate-period") }),
    });
    io.out(`created ${summary(body)}\n`);
  });

  withRemoteOptions(named.command("list").description("list named keys").option("--json", "print JSON")).action(async (flags: RemoteFlags & { json?: boolean }) => {
    const { body } = await clientFor(flags, env).json<{ items: NamedKey[] }>("GET", "/v1/keys");
    if (flags.json) io.out(JSON.stringify(body.items, null, 2) + "\n");
    else io.out(table([["NAME", "ALGORITHM", "VERSION", "MIN-DECRYPT", "ROTATE", "LAST-ROTATED"], ...body.items.map((k) => [k.name, k.algorithm, String(k.currentVersion), String(k.minDecryptionVersion), k.rotatePeriodSeconds === undefined ? "-" : `${k.rotatePeriodSeconds}s`, k.lastRotatedAt])]));
  });

  withRemoteOptions(named.command("info").description("a named key with its versions and their use, as JSON").argument("<name>")).action(async (name: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<NamedKey>("GET", keyPath(name));
    io.out(JSON.stringify(body, null, 2) + "\n");
  });

  withRemoteOptions(named.command("rotate").description("rotate: a new current version; older ones only decrypt").argument("<name>")).action(async (name: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<NamedKey>("POST", keyPath(name, "/rotate"));
    io.out(`rotated ${summary(body)}\n`);
  });

  withRemoteOptions(
    named
      .command("update")
      .description("change the minimum decryption version and/or the rotation period")
      .argument("<name>")
      .option("--min-decryption-version <n>", "refuse ciphertexts of older versions")
      .option("--rotate-period <duration>", "e.g. 30d, or `none` to stop automatic rotation")
      .option("--force", "retire versions even though they decrypted data within KPKI_KEY_RECENT_USE_DAYS (audited as forced)"),
  ).action(async (name: string, flags: RemoteFlags & { minDecryptionVersion?: string; rotatePeriod?: string; force?: boolean }) => {
    if (flags.minDecryptionVersion === undefined && flags.rotatePeriod === undefined) throw new CliError("nothing to change: give --min-decryption-version and/or --rotate-period", EXIT.usage);
    const { body } = await clientFor(flags, env).json<NamedKey>("PATCH", keyPath(name, flags.force === true ? "?force=true" : ""), {
      ...(flags.minDecryptionVersion === undefined ? {} : { minDecryptionVersion: Number(flags.minDecryptionVersion) }),
      ...(flags.rotatePeriod === undefined ? {} : { rotatePeriodSeconds: flags.rotatePeriod === "none" ? null : parseDuration(flags.rotatePeriod, "--rotate-period") }),
    });
    io.out(`updated ${summary(body)}\n`);
  });

  withRemoteOptions(
    named
      .command("usage-report")
      .description("which versions still decrypt data (after a rotation: what must be rewrapped before old versions are retired); exit 0 either way")
      .argument("<name>")
      .option("--window-days <n>", "how far back a decryption counts (default KPKI_KEY_RECENT_USE_DAYS of the server)")
      .option("--json", "print JSON"),
  ).action(async (name: string, flags: RemoteFlags & { windowDays?: string; json?: boolean }) => {
    const { body } = await clientFor(flags, env).json<UsageReport>("GET", keyPath(name, flags.windowDays === undefined ? "/usage-report" : `/usage-report?windowDays=${encodeURIComponent(flags.windowDays)}`));
    if (flags.json === true) {
      io.out(JSON.stringify(body, null, 2) + "\n");
      return;
    }
    io.out(
      table([
        ["VERSION", "ROLE", "STATE", "ENCRYPTS", "DECRYPTS", "LAST DECRYPT", `DECRYPTED IN ${body.windowDays}d`],
        ...body.versions.map((v) => [String(v.version), v.role, v.state, String(v.encryptCount), String(v.decryptCount), v.lastDecryptAt ?? "-", v.recentlyDecrypted ? "yes" : "no"]),
      ]),
    );
    io.out(
      body.stillDecrypting.length === 0
        ? `no version before ${body.currentVersion} decrypted anything since ${body.since}: minDecryptionVersion can go up to ${body.safeMinDecryptionVersion}\n`
        : `still decrypting since ${body.since}: version ${body.stillDecrypting.join(", ")} — rewrap the data under ${body.stillDecrypting.length === 1 ? "it before retiring it" : "them before retiring them"}; minDecryptionVersion can safely go up to ${body.safeMinDecryptionVersion}\n`,
    );
  });

  withRemoteOptions(
    named
      .command("encrypt")
      .description("encrypt with the current version; prints the ciphertext (kpki:v1:…)")
      .argument("<name>")
      .option("--in <file>", "plaintext file (default: stdin)")
      .option("--context-file <file>", "additional authenticated data; decryption needs the same"),
  ).action(async (name: string, flags: RemoteFlags & { in?: string; contextFile?: string }) => {
    const { body } = await clientFor(flags, env).json<{ ciphertext: string }>("POST", keyPath(name, "/encrypt"), { plaintext: base64(readData(flags.in, "the plaintext")), ...contextOf(flags) });
    io.out(`${body.ciphertext}\n`);
  });

  withRemoteOptions(
    named
      .command("decrypt")
      .description("decrypt a ciphertext of this key; prints the plaintext as base64, or writes it with --out")
      .argument("<name>")
      .option("--ciphertext <text>", "the ciphertext (default: read from --in or stdin)")
      .option("--in <file>", "file holding the ciphertext")
      .option("--context-file <file>", "the additional authenticated data given to encrypt")
      .option("--out <file>", "write the plaintext to a file (mode 0600)")
      .option("--force", "overwrite an existing file"),
  ).action(async (name: string, flags: CiphertextFlags & { out?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const { body } = await clientFor(flags, env).json<{ plaintext: string }>("POST", keyPath(name, "/decrypt"), { ciphertext: ciphertextOf(flags), ...contextOf(flags) });
    writeData(io, body.plaintext, { out: flags.out, secret: true, force: flags.force === true });
  });

  withRemoteOptions(
    named
      .command("rewrap")
      .description("re-encrypt a ciphertext under the current version; prints the new ciphertext")
      .argument("<name>")
      .option("--ciphertext <text>", "the ciphertext (default: read from --in or stdin)")
      .option("--in <file>", "file holding the ciphertext")
      .option("--context-file <file>", "the additional authenticated data given to encrypt"),
  ).action(async (name: string, flags: CiphertextFlags) => {
    const { body } = await clientFor(flags, env).json<{ ciphertext: string }>("POST", keyPath(name, "/rewrap"), { ciphertext: ciphertextOf(flags), ...contextOf(flags) });
    io.out(`${body.ciphertext}\n`);
  });

  withRemoteOptions(
    named
      .command("datakey")
      .description("a fresh AES data key wrapped under the named key: prints the wrapped key; the key itself goes to --out")
      .argument("<name>")
      .option("--bits <n>", "128 or 256 (default 256)")
      .option("--out <file>", "write the data key itself to a file (mode 0600); without it only the wrapped key is fetched")
      .option("--context-file <file>", "additional authenticated data")
      .option("--force", "overwrite an existing file"),
  ).action(async (name: string, flags: RemoteFlags & { bits?: string; out?: string; contextFile?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const { body } = await clientFor(flags, env).json<{ ciphertext: string; plaintext?: string }>("POST", keyPath(name, "/datakey"), {
      ...(flags.bits === undefined ? {} : { bits: Number(flags.bits) }),
      wrappedOnly: flags.out === undefined,
      ...contextOf(flags),
    });
    if (flags.out !== undefined && body.plaintext !== undefined) writeOutputFile(flags.out, Buffer.from(body.plaintext, "base64"), { secret: true, force: flags.force === true });
    io.out(`${body.ciphertext}\n`);
  });
}

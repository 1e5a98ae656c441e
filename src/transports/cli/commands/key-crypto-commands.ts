import type { Command } from "commander";
import { assertWritable, writeOutputFile, type CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";
import { base64, readData, readOptionalData, writeData } from "./key-data.js";

const objectPath = (uid: string, rest = "") => `/v1/objects/${encodeURIComponent(uid)}${rest}`;

/** Fails with exit code 6 when a verification says invalid (after printing `valid` / `invalid`). */
function reportValidity(io: CliOutput, valid: boolean, what: string): void {
  io.out(valid ? "valid\n" : "invalid\n");
  if (!valid) throw new CliError(`the ${what} does not verify`, EXIT.refused);
}

/**
 * `kpki key encrypt | decrypt | sign | verify | mac | rng`: KMIP's cryptographic operations. Data
 * comes from a file or stdin; results go to stdout as base64 (or JSON) or as raw bytes to a file.
 */
export function registerKeyCryptoCommands(key: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  withRemoteOptions(
    key
      .command("encrypt")
      .description("KMIP Encrypt: prints JSON {mode, ciphertext, iv, tag} (base64) that `kpki key decrypt` takes")
      .argument("<uid>")
      .option("--in <file>", "plaintext file (default: stdin)")
      .option("--out <file>", "write the JSON to a file")
      .option("--mode <mode>", "AES-GCM (default for AES), AES-CBC, RSA-OAEP-SHA256 (default for RSA public keys)")
      .option("--aad-file <file>", "AES-GCM additional authenticated data")
      .option("--force", "overwrite an existing file"),
  ).action(async (uid: string, flags: RemoteFlags & { in?: string; out?: string; mode?: string; aadFile?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const aad = readOptionalData(flags.aadFile, "the additional data");
    const { body } = await clientFor(flags, env).json<Record<string, string>>("POST", objectPath(uid, "/encrypt"), {
      plaintext: base64(readData(flags.in, "the plaintext")),
      ...(flags.mode === undefined ? {} : { mode: flags.mode }),
      ...(aad === undefined ? {} : { aad: base64(aad) }),
    });
    const { uid: _uid, ...envelope } = body;
    const text = JSON.stringify(envelope, null, 2) + "\n";
    if (flags.out === undefined) io.out(text);
    else writeOutputFile(flags.out, text, { force: flags.force === true });
  });

  withRemoteOptions(
    key
      .command("decrypt")
      .description("KMIP Decrypt: takes what `kpki key encrypt` printed; prints the plaintext as base64, or writes it with --out")
      .argument("<uid>")
      .option("--in <file>", "the JSON from `kpki key encrypt` (default: stdin)")
      .option("--out <file>", "write the plaintext to a file (mode 0600)")
      .option("--aad-file <file>", "AES-GCM additional authenticated data")
      .option("--force", "overwrite an existing file"),
  ).action(async (uid: string, flags: RemoteFlags & { in?: string; out?: string; aadFile?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    let envelope: Record<string, unknown>;
    try {
      envelope = JSON.parse(readData(flags.in, "the ciphertext").toString("utf8")) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError("the ciphertext input is not the JSON `kpki key encrypt` prints", EXIT.usage);
    }
    const aad = readOptionalData(flags.aadFile, "the additional data");
    const fields = Object.fromEntries(["ciphertext", "mode", "iv", "tag"].flatMap((name) => (typeof envelope[name] === "string" ? [[name, envelope[name]]] : [])));
    const { body } = await clientFor(flags, env).json<{ plaintext: string }>("POST", objectPath(uid, "/decrypt"), { ...fields, ...(aad === undefined ? {} : { aad: base64(aad) }) });
    writeData(io, body.plaintext, { out: flags.out, secret: true, force: flags.force === true });
  });

  withRemoteOptions(
    key
      .command("sign")
      .description("KMIP Sign: prints the signature as base64, or writes it with --out")
      .argument("<uid>")
      .option("--in <file>", "the message (default: stdin)")
      .option("--algorithm <alg>", "RSA-PSS-SHA256, RSA-PKCS1-SHA256/384/512, ECDSA-SHA256/384, Ed25519 (default: the key's)")
      .option("--out <file>", "write the signature (raw bytes) to a file")
      .option("--force", "overwrite an existing file"),
  ).action(async (uid: string, flags: RemoteFlags & { in?: string; algorithm?: string; out?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const { body } = await clientFor(flags, env).json<{ signature: string; algorithm: string }>("POST", objectPath(uid, "/sign"), {
      data: base64(readData(flags.in, "the message")),
      ...(flags.algorithm === undefined ? {} : { algorithm: flags.algorithm }),
    });
    writeData(io, body.signature, { out: flags.out, force: flags.force === true });
  });

  withRemoteOptions(
    key
      .command("verify")
      .description("KMIP Signature Verify: prints valid or invalid (exit code 6)")
      .argument("<uid>")
      .requiredOption("--signature <file>", "the signature (raw bytes, as `kpki key sign --out` writes it)")
      .option("--in <file>", "the message (default: stdin)")
      .option("--algorithm <alg>", "the signature algorithm (default: the key's)"),
  ).action(async (uid: string, flags: RemoteFlags & { signature: string; in?: string; algorithm?: string }) => {
    const { body } = await clientFor(flags, env).json<{ valid: boolean }>("POST", objectPath(uid, "/verify"), {
      data: base64(readData(flags.in, "the message")),
      signature: base64(readData(flags.signature, "the signature")),
      ...(flags.algorithm === undefined ? {} : { algorithm: flags.algorithm }),
    });
    reportValidity(io, body.valid, "signature");
  });

  withRemoteOptions(
    key
      .command("mac")
      .description("KMIP MAC (or MAC Verify with --verify FILE): prints the MAC as base64, or writes it with --out")
      .argument("<uid>")
      .option("--in <file>", "the data (default: stdin)")
      .option("--out <file>", "write the MAC (raw bytes) to a file")
      .option("--verify <file>", "instead: check this MAC (raw bytes); prints valid or invalid (exit code 6)")
      .option("--force", "overwrite an existing file"),
  ).action(async (uid: string, flags: RemoteFlags & { in?: string; out?: string; verify?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const data = base64(readData(flags.in, "the data"));
    const client = clientFor(flags, env);
    if (flags.verify !== undefined) {
      const { body } = await client.json<{ valid: boolean }>("POST", objectPath(uid, "/mac-verify"), { data, mac: base64(readData(flags.verify, "the MAC")) });
      reportValidity(io, body.valid, "MAC");
      return;
    }
    const { body } = await client.json<{ mac: string }>("POST", objectPath(uid, "/mac"), { data });
    writeData(io, body.mac, { out: flags.out, force: flags.force === true });
  });

  withRemoteOptions(
    key
      .command("rng")
      .description("KMIP RNG Retrieve: random bytes from the server, as base64 or to a file")
      .requiredOption("--bytes <n>", "how many (1–1024)")
      .option("--out <file>", "write them to a file (mode 0600)")
      .option("--force", "overwrite an existing file"),
  ).action(async (flags: RemoteFlags & { bytes: string; out?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const { body } = await clientFor(flags, env).json<{ data: string }>("POST", "/v1/rng", { lengthBytes: Number(flags.bytes) });
    writeData(io, body.data, { out: flags.out, secret: true, force: flags.force === true });
  });
}

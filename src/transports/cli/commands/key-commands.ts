import type { Command } from "commander";
import { assertWritable, parseDuration, readInputFile, table, writeOutputFile, type CliOutput } from "../cli-io.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";
import { base64, collect, customAttributes, list, readData, writeData } from "./key-data.js";
import { registerKeyCryptoCommands } from "./key-crypto-commands.js";
import { registerNamedKeyCommands } from "./named-key-commands.js";

/** The managed-object fields the CLI prints. */
interface ManagedObject {
  uid: string;
  objectType: string;
  algorithm?: string;
  length?: number;
  curve?: string;
  state: string;
  names: string[];
  usage: string[];
}

interface AttributeFlags extends RemoteFlags {
  name?: string[];
  attribute?: string[];
  activate?: boolean;
  extractable?: boolean;
  sensitive?: boolean;
  json?: boolean;
}

const objectPath = (uid: string, rest = "") => `/v1/objects/${encodeURIComponent(uid)}${rest}`;
const describe = (o: ManagedObject) => `${o.objectType} ${[o.algorithm, o.curve ?? o.length].filter((part) => part !== undefined).join("-")} ${o.uid} (${o.state})`.replace("  ", " ");

/** The attribute options create, create-key-pair and register share. */
function withAttributeOptions(command: Command): Command {
  return command
    .option("--name <name>", "KMIP Name (repeatable)", collect)
    .option("--attribute <x-name=value>", "custom attribute (repeatable)", collect)
    .option("--activate", "activate now (default: Pre-Active)")
    .option("--extractable", "allow `kpki key get` of the value (default: never leaves the service)")
    .option("--sensitive", "mark Sensitive: the value is never returned")
    .option("--json", "print the full JSON response");
}

function attributeFields(flags: AttributeFlags) {
  return {
    ...(flags.name === undefined ? {} : { names: flags.name }),
    ...(flags.attribute === undefined ? {} : { customAttributes: customAttributes(flags.attribute) }),
    ...(flags.activate === true ? { activate: true } : {}),
    ...(flags.extractable === true ? { extractable: true } : {}),
    ...(flags.sensitive === true ? { sensitive: true } : {}),
  };
}

/** Prints a created object: its uid alone on stdout (for scripts), a description on stderr. */
function printCreated(io: CliOutput, object: ManagedObject, json: boolean | undefined, verb = "created"): void {
  if (json) {
    io.out(JSON.stringify(object, null, 2) + "\n");
    return;
  }
  io.err(`${verb} ${describe(object)}\n`);
  io.out(`${object.uid}\n`);
}

function printPair(io: CliOutput, pair: { privateKey: ManagedObject; publicKey: ManagedObject }, json: boolean | undefined): void {
  if (json) io.out(JSON.stringify(pair, null, 2) + "\n");
  else io.out(table([["privateKey", pair.privateKey.uid, pair.privateKey.state], ["publicKey", pair.publicKey.uid, pair.publicKey.state]]));
}

/** `kpki key …`: the key service's KMIP operations over the REST API. */
export function registerKeyCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const key = program.command("key").description("managed keys: KMIP operations and named keys (remote: talks to a kpki server)");

  withRemoteOptions(
    withAttributeOptions(
      key
        .command("create")
        .description("KMIP Create: a symmetric key or secret data; prints its uid")
        .option("--type <objectType>", "SymmetricKey or SecretData", "SymmetricKey")
        .option("--algorithm <alg>", "AES (default for keys), HMAC-SHA256, HMAC-SHA384, HMAC-SHA512")
        .option("--length <bits>", "AES 128/192/256 (default 256); HMAC default: the hash size")
        .option("--usage <names>", "KMIP usage names, comma-separated (e.g. Encrypt,Decrypt)"),
    ),
  ).action(async (flags: AttributeFlags & { type: string; algorithm?: string; length?: string; usage?: string }) => {
    const algorithm = flags.algorithm ?? (flags.type === "SymmetricKey" ? "AES" : undefined);
    const { body } = await clientFor(flags, env).json<ManagedObject>("POST", "/v1/objects", {
      objectType: flags.type,
      ...(algorithm === undefined ? {} : { algorithm }),
      ...(flags.length === undefined ? {} : { length: Number(flags.length) }),
      ...(flags.usage === undefined ? {} : { usage: list(flags.usage) }),
      ...attributeFields(flags),
    });
    printCreated(io, body, flags.json);
  });

  withRemoteOptions(
    withAttributeOptions(
      key
        .command("create-key-pair")
        .description("KMIP Create Key Pair: RSA, EC or Ed25519")
        .requiredOption("--algorithm <alg>", "RSA, EC or Ed25519")
        .option("--length <bits>", "RSA 2048/3072/4096, EC 256/384")
        .option("--private-usage <names>", "usage names of the private key, comma-separated")
        .option("--public-usage <names>", "usage names of the public key, comma-separated"),
    ),
  ).action(async (flags: AttributeFlags & { algorithm: string; length?: string; privateUsage?: string; publicUsage?: string }) => {
    const { body } = await clientFor(flags, env).json<{ privateKey: ManagedObject; publicKey: ManagedObject }>("POST", "/v1/objects/key-pairs", {
      algorithm: flags.algorithm,
      ...(flags.length === undefined ? {} : { length: Number(flags.length) }),
      ...(flags.privateUsage === undefined ? {} : { privateUsage: list(flags.privateUsage) }),
      ...(flags.publicUsage === undefined ? {} : { publicUsage: list(flags.publicUsage) }),
      ...attributeFields(flags),
    });
    printPair(io, body, flags.json);
  });

  withRemoteOptions(
    withAttributeOptions(
      key
        .command("register")
        .description("KMIP Register: existing key material from a file")
        .requiredOption("--type <objectType>", "SymmetricKey, PrivateKey, PublicKey, SecretData or OpaqueObject")
        .requiredOption("--format <format>", "raw (the bytes), pem, pkcs8 or spki (DER files), jwk (JSON)")
        .requiredOption("--file <path>", "the key material")
        .option("--algorithm <alg>", "symmetric keys: AES, HMAC-SHA256, HMAC-SHA384, HMAC-SHA512")
        .option("--usage <names>", "KMIP usage names, comma-separated"),
    ),
  ).action(async (flags: AttributeFlags & { type: string; format: string; file: string; algorithm?: string; usage?: string }) => {
    const textual = flags.format === "pem" || flags.format === "jwk";
    const value = textual ? readInputFile(flags.file, "key") : base64(readData(flags.file, "the key"));
    const { body } = await clientFor(flags, env).json<ManagedObject>("POST", "/v1/objects/register", {
      objectType: flags.type,
      format: flags.format,
      value,
      ...(flags.algorithm === undefined ? {} : { algorithm: flags.algorithm }),
      ...(flags.usage === undefined ? {} : { usage: list(flags.usage) }),
      ...attributeFields(flags),
    });
    printCreated(io, body, flags.json, "registered");
  });

  withRemoteOptions(
    key
      .command("get")
      .description("KMIP Get: the value of an extractable key (needs key.export)")
      .argument("<uid>")
      .option("--format <format>", "raw, pkcs8, spki, pem or jwk (default: raw, pkcs8 or spki by type)")
      .option("--out <file>", "write it to a file (mode 0600; DER for pkcs8/spki, bytes for raw)")
      .option("--force", "overwrite an existing file"),
  ).action(async (uid: string, flags: RemoteFlags & { format?: string; out?: string; force?: boolean }) => {
    if (flags.out !== undefined) assertWritable([flags.out], flags.force === true);
    const query = flags.format === undefined ? "" : `?format=${encodeURIComponent(flags.format)}`;
    const { body } = await clientFor(flags, env).json<{ format: string; value: string }>("GET", objectPath(uid, `/value${query}`));
    const textual = body.format === "pem" || body.format === "jwk";
    if (flags.out === undefined) io.out(body.value.endsWith("\n") ? body.value : `${body.value}\n`);
    else if (textual) writeOutputFile(flags.out, body.value, { secret: true, force: flags.force === true });
    else writeData(io, body.value, { out: flags.out, secret: true, force: flags.force === true });
  });

  withRemoteOptions(key.command("info").description("a managed object's metadata as JSON (never its value)").argument("<uid>")).action(async (uid: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<ManagedObject>("GET", objectPath(uid));
    io.out(JSON.stringify(body, null, 2) + "\n");
  });

  withRemoteOptions(
    key.command("attributes").description("KMIP Get Attributes, by KMIP name").argument("<uid>").option("--name <attribute>", "only this attribute (repeatable)", collect).option("--json", "print JSON"),
  ).action(async (uid: string, flags: RemoteFlags & { name?: string[]; json?: boolean }) => {
    const query = new URLSearchParams((flags.name ?? []).map((name): [string, string] => ["name", name]));
    const { body } = await clientFor(flags, env).json<{ attributes: Record<string, unknown> }>("GET", objectPath(uid, `/attributes${flags.name === undefined ? "" : `?${query.toString()}`}`));
    if (flags.json) io.out(JSON.stringify(body.attributes, null, 2) + "\n");
    else io.out(table(Object.entries(body.attributes).map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)])));
  });

  withRemoteOptions(
    key
      .command("locate")
      .description("KMIP Locate: managed objects matching every filter")
      .option("--name <name>", "KMIP Name")
      .option("--type <objectType>", "Object Type")
      .option("--algorithm <alg>", "Cryptographic Algorithm")
      .option("--state <state>", "Pre-Active, Active, Deactivated, Compromised, Destroyed, 'Destroyed Compromised'")
      .option("--attribute <x-name=value>", "custom attribute")
      .option("--created-after <date>", "Initial Date from (RFC 3339)")
      .option("--created-before <date>", "Initial Date before (RFC 3339)")
      .option("--limit <n>", "page size (1–500)", "100")
      .option("--all", "follow every page")
      .option("--json", "print JSON"),
  ).action(async (flags: RemoteFlags & { name?: string; type?: string; algorithm?: string; state?: string; attribute?: string; createdAfter?: string; createdBefore?: string; limit?: string; all?: boolean; json?: boolean }) => {
    const client = clientFor(flags, env);
    const query = new URLSearchParams();
    const attribute = flags.attribute === undefined ? undefined : Object.entries(customAttributes([flags.attribute]) ?? {})[0];
    for (const [name, value] of [
      ["name", flags.name],
      ["objectType", flags.type],
      ["algorithm", flags.algorithm],
      ["state", flags.state],
      ["attributeName", attribute?.[0]],
      ["attributeValue", attribute?.[1]],
      ["initialDateFrom", flags.createdAfter],
      ["initialDateTo", flags.createdBefore],
      ["limit", flags.limit ?? "100"],
    ] as const) {
      if (value !== undefined) query.set(name, value);
    }
    const items: ManagedObject[] = [];
    for (;;) {
      const { body } = await client.json<{ items: ManagedObject[]; nextCursor?: string }>("GET", `/v1/objects?${query.toString()}`);
      items.push(...body.items);
      if (!flags.all || body.nextCursor === undefined) break;
      query.set("cursor", body.nextCursor);
    }
    if (flags.json) io.out(JSON.stringify(items, null, 2) + "\n");
    else io.out(table([["UID", "TYPE", "ALGORITHM", "STATE", "NAMES"], ...items.map((o) => [o.uid, o.objectType, [o.algorithm, o.curve ?? o.length].filter((p) => p !== undefined).join("-") || "-", o.state, o.names.join(",") || "-"])]));
  });

  const lifecycle = (name: string, description: string, method: string, suffix: string) =>
    withRemoteOptions(key.command(name).description(description).argument("<uid>")).action(async (uid: string, flags: RemoteFlags) => {
      const { body } = await clientFor(flags, env).json<ManagedObject>(method, objectPath(uid, suffix));
      io.out(`${describe(body)}\n`);
    });
  lifecycle("activate", "KMIP Activate: Pre-Active → Active", "POST", "/activate");

  withRemoteOptions(
    key
      .command("destroy")
      .description("KMIP Destroy: erase the key material (revoke an Active key first)")
      .argument("<uid>")
      .option("--force", "destroy a named-key version even though it decrypted data within KPKI_KEY_RECENT_USE_DAYS (audited as forced)"),
  ).action(async (uid: string, flags: RemoteFlags & { force?: boolean }) => {
    const { body } = await clientFor(flags, env).json<ManagedObject>("DELETE", objectPath(uid, flags.force === true ? "?force=true" : ""));
    io.out(`${describe(body)}\n`);
  });

  withRemoteOptions(
    key
      .command("revoke")
      .description("KMIP Revoke: deactivate, or mark compromised")
      .argument("<uid>")
      .requiredOption("--reason <reason>", "Unspecified, KeyCompromise, CACompromise, AffiliationChanged, Superseded, CessationOfOperation, PrivilegeWithdrawn")
      .option("--message <text>", "Revocation Message")
      .option("--compromise-date <date>", "when the compromise occurred (RFC 3339)"),
  ).action(async (uid: string, flags: RemoteFlags & { reason: string; message?: string; compromiseDate?: string }) => {
    const { body } = await clientFor(flags, env).json<ManagedObject>("POST", objectPath(uid, "/revoke"), {
      reason: flags.reason,
      ...(flags.message === undefined ? {} : { message: flags.message }),
      ...(flags.compromiseDate === undefined ? {} : { compromiseOccurrenceDate: flags.compromiseDate }),
    });
    io.out(`${describe(body)}\n`);
  });

  withRemoteOptions(
    key
      .command("rekey")
      .description("KMIP Re-key (or Re-key Key Pair with --pair): prints the new uid")
      .argument("<uid>")
      .option("--pair", "the uid is a private key: replace the whole key pair")
      .option("--offset <duration>", "activate the new key this long from now, e.g. 1h")
      .option("--json", "print the full JSON response"),
  ).action(async (uid: string, flags: RemoteFlags & { pair?: boolean; offset?: string; json?: boolean }) => {
    const body = flags.offset === undefined ? {} : { offsetSeconds: parseDuration(flags.offset, "--offset") };
    const client = clientFor(flags, env);
    if (flags.pair) printPair(io, (await client.json<{ privateKey: ManagedObject; publicKey: ManagedObject }>("POST", objectPath(uid, "/rekey-key-pair"), body)).body, flags.json);
    else printCreated(io, (await client.json<ManagedObject>("POST", objectPath(uid, "/rekey"), body)).body, flags.json, "re-keyed: new");
  });

  registerKeyCryptoCommands(key, io, env);
  registerNamedKeyCommands(key, io, env);
}

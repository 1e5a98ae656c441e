import type { Command } from "commander";
import { resolveRemote } from "../api-client.js";
import type { CliOutput } from "../cli-io.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { KmsPluginOptions, LocalOperations } from "../local-operations.js";
import { withRemoteOptions, type RemoteFlags } from "../remote-command.js";

interface KmsPluginFlags extends RemoteFlags {
  listen: string;
  key: string;
  inProcess?: boolean;
}

/**
 * `kpki kms-plugin --listen unix:///… --key NAME [--in-process | --server … --token-file …]`: the
 * Kubernetes KMS v2 plugin (gRPC `v2.KeyManagementService`) for kube-apiserver's
 * EncryptionConfiguration, with a named key's versions as the KEKs.
 */
export function registerKmsPluginCommand(program: Command, io: CliOutput, local: LocalOperations, env: NodeJS.ProcessEnv): void {
  withRemoteOptions(
    program
      .command("kms-plugin")
      .description(
        "serve the Kubernetes KMS v2 plugin API on a unix socket for kube-apiserver (EncryptionConfiguration `kms` provider, apiVersion v2). " +
          "The named key's versions are the KEKs: `kpki` key rotation changes the key_id, old data keeps decrypting. " +
          "By default it calls a kpki server over HTTPS (token with role kms-plugin scoped to the key, or operator); --in-process uses this host's database directly (single node).",
      )
      .requiredOption("--listen <endpoint>", "the socket, as in EncryptionConfiguration: unix:///var/run/kmsplugin/socket.sock")
      .requiredOption("--key <name>", "the named key (create it first: POST /v1/keys)")
      .option("--in-process", "use the database of this host (KPKI_DATA_DIR / DATABASE_URL, master key) instead of a kpki server"),
  ).action(async (flags: KmsPluginFlags) => {
    await local.kmsPlugin(kmsPluginOptions(flags, env), (text) => io.err(text));
  });
}

/** The flags as KmsPluginOptions: remote mode needs a token; --in-process takes no server options. */
export function kmsPluginOptions(flags: KmsPluginFlags, env: NodeJS.ProcessEnv): KmsPluginOptions {
  const base = { listen: flags.listen, key: flags.key };
  if (flags.inProcess === true) {
    const remoteFlag = (["server", "token", "tokenFile", "caCert"] as const).find((name) => flags[name] !== undefined);
    if (remoteFlag !== undefined) throw new CliError(`--in-process uses this host's database: --${remoteFlag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply`, EXIT.usage);
    return base;
  }
  const remote = resolveRemote(flags, env);
  if (remote.token === undefined) throw new CliError("the plugin calls a kpki server with a token (role kms-plugin scoped to the key, or operator): give --token-file (or --token, KPKI_TOKEN, KPKI_TOKEN_FILE), or use --in-process", EXIT.usage);
  return { ...base, remote: { server: remote.server, token: remote.token, ...(remote.caCertPem === undefined ? {} : { caCertPem: remote.caCertPem }) } };
}

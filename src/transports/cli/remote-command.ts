import type { Command } from "commander";
import { ApiClient, resolveRemote } from "./api-client.js";

/** The options every command that talks to a server takes. */
export interface RemoteFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  caCert?: string;
}

/** Adds --server, --token, --token-file and --ca-cert to a command. */
export function withRemoteOptions(command: Command): Command {
  return command
    .option("--server <url>", "kpki server URL (env KPKI_SERVER; default https://localhost:8443)")
    .option("--token <token>", "API token (env KPKI_TOKEN); prefer --token-file, which keeps it out of the process list")
    .option("--token-file <path>", "file holding the API token (env KPKI_TOKEN_FILE)")
    .option("--ca-cert <path>", "CA bundle to trust for the server (env KPKI_CA_CERT; default data/ca-bundle.pem if present)");
}

/** A client for the server the flags (or environment) name. */
export function clientFor(flags: RemoteFlags, env: NodeJS.ProcessEnv): ApiClient {
  return new ApiClient(resolveRemote(flags, env));
}

import type { Command } from "commander";
import { parseDuration, table, type CliOutput } from "../cli-io.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

interface Token {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  token?: string;
}

/** `kpki token …`: API tokens over the REST API. */
export function registerTokenCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const token = program.command("token").description("API tokens (remote: talks to a kpki server)");
  withRemoteOptions(
    token
      .command("create")
      .description("create a token; it is printed once, on stdout")
      .argument("<name>")
      .requiredOption("--role <role>", "admin, operator, issuer or reader")
      .option("--ttl <duration>", "expire after, e.g. 90d"),
  ).action(async (name: string, flags: RemoteFlags & { role: string; ttl?: string }) => {
    const { body } = await clientFor(flags, env).json<Token>("POST", "/v1/tokens", {
      name,
      role: flags.role,
      ...(flags.ttl === undefined ? {} : { ttlSeconds: parseDuration(flags.ttl, "--ttl") }),
    });
    io.err(`created token ${body.id} (${body.role}); it is shown only now:\n`);
    io.out(`${body.token ?? ""}\n`);
  });
  withRemoteOptions(token.command("list").description("list tokens (never their secrets)")).action(async (flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<{ items: Token[] }>("GET", "/v1/tokens");
    io.out(table([["ID", "NAME", "ROLE", "CREATED", "EXPIRES", "REVOKED"], ...body.items.map((t) => [t.id, t.name, t.role, t.createdAt, t.expiresAt ?? "-", t.revokedAt ?? "-"])]));
  });
  withRemoteOptions(token.command("revoke").description("revoke a token").argument("<id>")).action(async (id: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<Token>("DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
    io.out(`revoked token ${body.id} (${body.name})\n`);
  });
}

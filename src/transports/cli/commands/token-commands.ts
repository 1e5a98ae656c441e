import type { Command } from "commander";
import { parseDuration, table, type CliOutput } from "../cli-io.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

/** A token's scope as the API shows it (core/access scope.ts). */
interface TokenScope {
  cluster?: string;
  node?: string;
  key?: string;
  keys?: string[];
  keyPrefix?: string;
  operations?: string[];
}

interface Token {
  id: string;
  name: string;
  role: string;
  scope?: TokenScope;
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
      .requiredOption("--role <role>", "admin, operator, issuer, reader, auditor, job-runner; scoped: kubeadm-hook, node, kms-plugin, key-user")
      .option("--cluster <cluster>", "scope (kubeadm-hook, node): the cluster")
      .option("--node <node>", "scope (node; optional for kubeadm-hook): the node")
      .option("--key <name>", "scope (kms-plugin: the one named key; key-user: a named key, repeatable)", collect, [])
      .option("--key-prefix <prefix>", "scope (key-user): every named key whose name starts with this")
      .option("--key-operations <list>", "scope (key-user): comma-separated read,encrypt,decrypt,rewrap,datakey,sign,verify,mac")
      .option("--ttl <duration>", "expire after, e.g. 90d"),
  ).action(async (name: string, flags: RemoteFlags & ScopeFlags & { role: string; ttl?: string }) => {
    const scope = scopeOf(flags);
    const { body } = await clientFor(flags, env).json<Token>("POST", "/v1/tokens", {
      name,
      role: flags.role,
      ...(scope === undefined ? {} : { scope }),
      ...(flags.ttl === undefined ? {} : { ttlSeconds: parseDuration(flags.ttl, "--ttl") }),
    });
    io.err(`created token ${body.id} (${body.role}${body.scope === undefined ? "" : ` ${scopeText(body.scope)}`}); it is shown only now:\n`);
    io.out(`${body.token ?? ""}\n`);
  });
  withRemoteOptions(token.command("list").description("list tokens (never their secrets)")).action(async (flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<{ items: Token[] }>("GET", "/v1/tokens");
    io.out(table([["ID", "NAME", "ROLE", "SCOPE", "CREATED", "EXPIRES", "REVOKED"], ...body.items.map((t) => [t.id, t.name, t.role, t.scope === undefined ? "-" : scopeText(t.scope), t.createdAt, t.expiresAt ?? "-", t.revokedAt ?? "-"])]));
  });
  withRemoteOptions(token.command("revoke").description("revoke a token").argument("<id>")).action(async (id: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<Token>("DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
    io.out(`revoked token ${body.id} (${body.name})\n`);
  });
}

interface ScopeFlags {
  cluster?: string;
  node?: string;
  key: string[];
  keyPrefix?: string;
  keyOperations?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The scope the flags describe, as the API takes it (the server validates it against the role): a
 * kms-plugin token names its one key as `key`, a key-user token its keys as `keys`.
 */
function scopeOf(flags: ScopeFlags & { role: string }): TokenScope | undefined {
  const keys = flags.key;
  const scope: TokenScope = {
    ...(flags.cluster === undefined ? {} : { cluster: flags.cluster }),
    ...(flags.node === undefined ? {} : { node: flags.node }),
    ...(keys.length === 0 ? {} : flags.role === "kms-plugin" && keys.length === 1 ? { key: keys[0] } : { keys }),
    ...(flags.keyPrefix === undefined ? {} : { keyPrefix: flags.keyPrefix }),
    ...(flags.keyOperations === undefined ? {} : { operations: flags.keyOperations.split(",").map((entry) => entry.trim()) }),
  };
  return Object.keys(scope).length === 0 ? undefined : scope;
}

/** A scope on one line: `cluster=prod node=worker-1`, `keys=a,b keyPrefix=app- operations=encrypt,decrypt`. */
function scopeText(scope: TokenScope): string {
  return Object.entries(scope)
    .map(([field, value]) => `${field}=${Array.isArray(value) ? value.join(",") : String(value)}`)
    .join(" ");
}

import type { Command } from "commander";
import { CliError, EXIT } from "../exit-codes.js";
import { assertWritable, parseDuration, readInputFile, table, writeOutputFile, type CliOutput } from "../cli-io.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

/** The CA fields the CLI prints. */
interface Authority {
  name: string;
  parent?: string;
  origin: string;
  status: string;
  keyAlgorithm: string;
  subject: string;
  notAfter?: string;
  csrPem?: string;
  certificatePem?: string;
}

interface CreateFlags extends RemoteFlags {
  root?: boolean;
  parent?: string;
  external?: boolean;
  cn: string;
  org?: string[];
  keyAlgorithm: string;
  ttl?: string;
  pathLength?: string;
  csrOut?: string;
  force?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `kpki ca …`: the CA hierarchy over the REST API. */
export function registerCaCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const ca = program.command("ca").description("certificate authorities (remote: talks to a kpki server)");

  withRemoteOptions(ca.command("list").description("list CAs")).action(async (flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<{ items: Authority[] }>("GET", "/v1/authorities");
    io.out(table([["NAME", "PARENT", "ORIGIN", "STATUS", "KEY", "EXPIRES", "SUBJECT"], ...body.items.map((a) => [a.name, a.parent ?? "-", a.origin, a.status, a.keyAlgorithm, a.notAfter ?? "-", a.subject])]));
  });

  withRemoteOptions(
    ca
      .command("crl")
      .description("print the CA's current CRL (PEM); `openssl crl -text -noout` reads it")
      .argument("<name>")
      .option("--delta", "the delta CRL instead of the complete one"),
  ).action(async (name: string, flags: RemoteFlags & { delta?: boolean }) => {
    io.out(await clientFor(flags, env).text(`/v1/authorities/${encodeURIComponent(name)}/crl${flags.delta === true ? "/delta" : ""}`, "application/x-pem-file"));
  });

  withRemoteOptions(ca.command("get").description("show one CA as JSON").argument("<name>")).action(async (name: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<Authority>("GET", `/v1/authorities/${encodeURIComponent(name)}`);
    io.out(JSON.stringify(body, null, 2) + "\n");
  });

  withRemoteOptions(
    ca
      .command("create")
      .description("create a root CA (--root), an intermediate (--parent NAME), or a CA for an external CA to sign (--external)")
      .argument("<name>")
      .option("--root", "a self-signed root CA")
      .option("--parent <name>", "the parent CA in kpki")
      .option("--external", "generate the key and a CSR for an external CA; install its answer with `kpki ca install`")
      .requiredOption("--cn <commonName>", "subject common name")
      .option("--org <organization>", "subject organization (repeatable)", collect)
      .option("--key-algorithm <alg>", "ECDSA-P256, ECDSA-P384, RSA-2048, RSA-3072, RSA-4096 or Ed25519", "ECDSA-P256")
      .option("--ttl <duration>", "validity, e.g. 3650d (default 10 years, capped at the parent's)")
      .option("--path-length <n>", "BasicConstraints pathLenConstraint")
      .option("--csr-out <file>", "with --external: write the CSR here")
      .option("--force", "overwrite --csr-out"),
  ).action(async (name: string, flags: CreateFlags) => {
    const kinds = [flags.root, flags.parent !== undefined, flags.external].filter(Boolean).length;
    if (kinds !== 1) throw new CliError("give exactly one of --root, --parent NAME, --external", EXIT.usage);
    const type = flags.root ? "root" : flags.external ? "external" : "intermediate";
    if (flags.csrOut !== undefined) assertWritable([flags.csrOut], flags.force === true);
    const { body } = await clientFor(flags, env).json<Authority>("POST", "/v1/authorities", {
      name,
      type,
      ...(flags.parent === undefined ? {} : { parent: flags.parent }),
      subject: { commonName: flags.cn, ...(flags.org === undefined ? {} : { organization: flags.org }) },
      keyAlgorithm: flags.keyAlgorithm,
      ...(flags.ttl === undefined ? {} : { ttlSeconds: parseDuration(flags.ttl, "--ttl") }),
      ...(flags.pathLength === undefined ? {} : { pathLength: Number(flags.pathLength) }),
    });
    if (body.csrPem !== undefined && flags.csrOut !== undefined) {
      writeOutputFile(flags.csrOut, body.csrPem, { force: flags.force === true });
      io.err(`wrote the CSR for the external CA to ${flags.csrOut}\n`);
    }
    io.out(`created CA ${body.name} (${body.status}): ${body.subject}\n`);
    if (body.csrPem !== undefined && flags.csrOut === undefined) io.out(body.csrPem);
  });

  withRemoteOptions(
    ca
      .command("import")
      .description("import an existing CA certificate and private key (the key is sealed on arrival)")
      .argument("<name>")
      .requiredOption("--cert <file>", "CA certificate (PEM)")
      .requiredOption("--key <file>", "unencrypted private key (PEM: PKCS#8, PKCS#1 or SEC1)")
      .option("--parent <name>", "the kpki CA that issued it")
      .option("--chain <file>", "PEM certificates above it when its issuer is not in kpki"),
  ).action(async (name: string, flags: RemoteFlags & { cert: string; key: string; parent?: string; chain?: string }) => {
    const { body } = await clientFor(flags, env).json<Authority>("POST", "/v1/authorities/import", {
      name,
      certificate: readInputFile(flags.cert, "certificate"),
      privateKey: readInputFile(flags.key, "private key"),
      ...(flags.parent === undefined ? {} : { parent: flags.parent }),
      ...(flags.chain === undefined ? {} : { chain: readInputFile(flags.chain, "chain") }),
    });
    io.out(`imported CA ${body.name}: ${body.subject}\n`);
  });

  withRemoteOptions(
    ca
      .command("install")
      .description("install the externally signed certificate of a pending CA")
      .argument("<name>")
      .requiredOption("--cert <file>", "the signed certificate (PEM)")
      .option("--chain <file>", "the external issuer chain (PEM), nearest first"),
  ).action(async (name: string, flags: RemoteFlags & { cert: string; chain?: string }) => {
    const { body } = await clientFor(flags, env).json<Authority>("PUT", `/v1/authorities/${encodeURIComponent(name)}/certificate`, {
      certificate: readInputFile(flags.cert, "certificate"),
      ...(flags.chain === undefined ? {} : { chain: readInputFile(flags.chain, "chain") }),
    });
    io.out(`CA ${body.name} is ${body.status}\n`);
  });

  withRemoteOptions(
    ca
      .command("revoke")
      .description("revoke an intermediate CA (final): its parent's CRL lists it, it and the CAs below it are disabled, and what they issued is marked revoked")
      .argument("<name>")
      .requiredOption("--reason <reason>", "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise")
      .option("--json", "print the result as JSON"),
  ).action(async (name: string, flags: RemoteFlags & { reason: string; json?: boolean }) => {
    const { body } = await clientFor(flags, env).json<{ authority: Authority; revokedAt: string; reason: string; revokedAuthorities: string[]; revokedCertificates: number }>(
      "POST",
      `/v1/authorities/${encodeURIComponent(name)}/revoke`,
      { reason: flags.reason },
    );
    if (flags.json) io.out(JSON.stringify(body, null, 2) + "\n");
    else io.out(`revoked CA ${body.authority.name} at ${body.revokedAt}: ${body.reason}; disabled ${body.revokedAuthorities.join(", ")}; ${body.revokedCertificates} certificate(s) marked revoked\n`);
  });

  const download = (command: string, description: string, suffix: (name: string) => string) =>
    withRemoteOptions(ca.command(command).description(description).argument("<name>").option("--out <file>", "write to a file instead of stdout").option("--force", "overwrite --out")).action(
      async (name: string, flags: RemoteFlags & { out?: string; force?: boolean }) => {
        const pem = await clientFor(flags, env).text(suffix(encodeURIComponent(name)), "application/x-pem-file");
        if (flags.out === undefined) io.out(pem);
        else writeOutputFile(flags.out, pem, { force: flags.force === true });
      },
    );
  download("cert", "download the CA certificate (PEM)", (n) => `/v1/authorities/${n}/certificate`);
  download("chain", "download the CA certificate and its issuers (PEM)", (n) => `/v1/authorities/${n}/chain`);
  download("csr", "download the CSR of a CA created with --external (PEM)", (n) => `/v1/authorities/${n}/csr`);
}

import type { Command } from "commander";
import { CliError, EXIT } from "../exit-codes.js";
import { assertWritable, parseDuration, readInputFile, table, writeOutputFile, type CliOutput } from "../cli-io.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";

/** The certificate fields the CLI prints. */
interface Certificate {
  id: string;
  ca: string;
  serialNumber: string;
  profile: string;
  subject: string;
  subjectAltNames: string[];
  status: string;
  notAfter: string;
  certificatePem: string;
  chainPem?: string;
  privateKeyPem?: string;
}

interface IssueFlags extends RemoteFlags {
  ca: string;
  profile: string;
  csr?: string;
  keyAlgorithm?: string;
  cn?: string;
  org?: string[];
  san?: string[];
  ttl?: string;
  out?: string;
  idempotencyKey?: string;
  force?: boolean;
  json?: boolean;
}

interface ListFlags extends RemoteFlags {
  ca?: string;
  profile?: string;
  cn?: string;
  status?: string;
  expiringWithin?: string;
  limit?: string;
  all?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `kpki cert …`: issuance and the inventory over the REST API. */
export function registerCertCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const cert = program.command("cert").description("certificates (remote: talks to a kpki server)");

  withRemoteOptions(
    cert
      .command("issue")
      .description("issue a certificate: sign a CSR (--csr) or generate the key here (--key-algorithm)")
      .requiredOption("--ca <name>", "issuing CA")
      .requiredOption("--profile <name>", "server, client, peer … (see `GET /v1/profiles`)")
      .option("--csr <file>", "PKCS#10 CSR (PEM) to sign")
      .option("--key-algorithm <alg>", "generate the key pair on the server (returned once)")
      .option("--cn <commonName>", "subject common name (replaces the CSR's subject)")
      .option("--org <organization>", "subject organization (repeatable)", collect)
      .option("--san <name>", "DNS:x, IP:x, email:x or URI:x (repeatable; replaces the CSR's names)", collect)
      .option("--ttl <duration>", "validity, e.g. 30d (default: the profile's)")
      .option("--out <prefix>", "write <prefix>.crt, <prefix>-chain.crt and (generated keys) <prefix>.key (0600)")
      .option("--idempotency-key <key>", "retrying with the same key returns the first certificate")
      .option("--force", "overwrite existing output files")
      .option("--json", "print the full JSON response instead of PEM"),
  ).action(async (flags: IssueFlags) => {
    if ((flags.csr === undefined) === (flags.keyAlgorithm === undefined)) throw new CliError("give exactly one of --csr FILE and --key-algorithm ALG", EXIT.usage);
    if (flags.out !== undefined) assertWritable([`${flags.out}.crt`, `${flags.out}-chain.crt`, `${flags.out}.key`], flags.force === true);
    const subject = flags.cn === undefined && flags.org === undefined ? undefined : { ...(flags.cn === undefined ? {} : { commonName: flags.cn }), ...(flags.org === undefined ? {} : { organization: flags.org }) };
    const { body } = await clientFor(flags, env).json<Certificate>(
      "POST",
      "/v1/certificates",
      {
        ca: flags.ca,
        profile: flags.profile,
        ...(flags.csr === undefined ? {} : { csr: readInputFile(flags.csr, "CSR") }),
        ...(flags.keyAlgorithm === undefined ? {} : { keyAlgorithm: flags.keyAlgorithm }),
        ...(subject === undefined ? {} : { subject }),
        ...(flags.san === undefined ? {} : { subjectAltNames: flags.san }),
        ...(flags.ttl === undefined ? {} : { ttlSeconds: parseDuration(flags.ttl, "--ttl") }),
      },
      flags.idempotencyKey === undefined ? {} : { "Idempotency-Key": flags.idempotencyKey },
    );
    if (flags.out !== undefined) {
      const force = flags.force === true;
      writeOutputFile(`${flags.out}.crt`, body.certificatePem, { force });
      writeOutputFile(`${flags.out}-chain.crt`, body.chainPem ?? "", { force });
      if (body.privateKeyPem !== undefined) writeOutputFile(`${flags.out}.key`, body.privateKeyPem, { secret: true, force });
      io.err(`issued ${body.id} (serial ${body.serialNumber}, expires ${body.notAfter}): wrote ${flags.out}.crt, ${flags.out}-chain.crt${body.privateKeyPem === undefined ? "" : `, ${flags.out}.key`}\n`);
    }
    if (flags.json) io.out(JSON.stringify(body, null, 2) + "\n");
    else if (flags.out === undefined) io.out(body.certificatePem + (body.privateKeyPem ?? ""));
  });

  withRemoteOptions(
    cert
      .command("list")
      .description("list the certificate inventory, oldest first (with --status active: soonest expiry first)")
      .option("--ca <name>", "issued by this CA")
      .option("--profile <name>", "of this profile")
      .option("--cn <commonName>", "with this common name")
      .option("--status <status>", "active (listed soonest expiry first), revoked or expired")
      .option("--expiring-within <duration>", "expiring within, e.g. 30d")
      .option("--limit <n>", "page size (1–500)", "100")
      .option("--all", "follow every page")
      .option("--json", "print JSON"),
  ).action(async (flags: ListFlags) => {
    const client = clientFor(flags, env);
    const query = new URLSearchParams();
    if (flags.ca !== undefined) query.set("ca", flags.ca);
    if (flags.profile !== undefined) query.set("profile", flags.profile);
    if (flags.cn !== undefined) query.set("commonName", flags.cn);
    if (flags.status !== undefined) query.set("status", flags.status);
    if (flags.expiringWithin !== undefined) query.set("expiringBefore", new Date(Date.now() + parseDuration(flags.expiringWithin, "--expiring-within") * 1000).toISOString());
    query.set("limit", flags.limit ?? "100");
    const items: Certificate[] = [];
    for (;;) {
      const { body } = await client.json<{ items: Certificate[]; nextCursor?: string }>("GET", `/v1/certificates?${query.toString()}`);
      items.push(...body.items);
      if (!flags.all || body.nextCursor === undefined) break;
      query.set("cursor", body.nextCursor);
    }
    if (flags.json) {
      io.out(JSON.stringify(items.map(({ certificatePem: _pem, ...rest }) => rest), null, 2) + "\n");
      return;
    }
    io.out(table([["ID", "CA", "PROFILE", "STATUS", "EXPIRES", "SUBJECT"], ...items.map((c) => [c.id, c.ca, c.profile, c.status, c.notAfter, c.subject || c.subjectAltNames.join(",")])]));
  });

  withRemoteOptions(
    cert
      .command("revoke")
      .description("revoke a certificate (final); the CA's CRLs are reissued and OCSP answers revoked at once")
      .argument("<id>", "certificate id (see `kpki cert list`)")
      .requiredOption("--reason <reason>", "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise")
      .option("--json", "print the certificate as JSON"),
  ).action(async (id: string, flags: RemoteFlags & { reason: string; json?: boolean }) => {
    const { body } = await clientFor(flags, env).json<Certificate & { revokedAt?: string }>("POST", `/v1/certificates/${encodeURIComponent(id)}/revoke`, { reason: flags.reason });
    if (flags.json) io.out(JSON.stringify(body, null, 2) + "\n");
    else io.out(`revoked ${body.id} (serial ${body.serialNumber}, CA ${body.ca}) at ${body.revokedAt ?? "?"}: ${flags.reason}\n`);
  });

  withRemoteOptions(cert.command("get").description("show one certificate").argument("<id>").option("--pem", "print PEM instead of JSON")).action(
    async (id: string, flags: RemoteFlags & { pem?: boolean }) => {
      const client = clientFor(flags, env);
      if (flags.pem) {
        io.out(await client.text(`/v1/certificates/${encodeURIComponent(id)}`, "application/x-pem-file"));
        return;
      }
      const { body } = await client.json<Certificate>("GET", `/v1/certificates/${encodeURIComponent(id)}`);
      io.out(JSON.stringify(body, null, 2) + "\n");
    },
  );
}

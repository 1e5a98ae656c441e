// The `kpki` command line against a real server process over HTTPS: flags and KPKI_* variables,
// files written (and their modes), exit codes per kind of failure, and the local `migrate` command.
import { execFile } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type RunResult, type ServingKpki } from "../helpers/process.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const run = promisify(execFile);

let database: TestDatabase | undefined;
let workDir: string;
/** Where the CLI runs: no data/ here, so nothing is trusted by default. */
let clientDir: string;
let dataDir: string;
let serverEnv: Record<string, string>;
let server: ServingKpki;
let bundleFile: string;
let tokenFile: string;

const inClient = (name: string) => path.join(clientDir, name);
const remote = () => ["--server", server.url, "--ca-cert", bundleFile, "--token-file", tokenFile];
const kpki = (args: readonly string[], env: Record<string, string> = {}) => runKpki(args, { cwd: clientDir, env });
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** One line on stderr, starting "kpki: ", and the expected exit code. */
function expectOneLineFailure(result: RunResult, exitCode: number): string {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(exitCode);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kpki: /);
  expect(lines[0]).not.toMatch(/unexpected error/);
  return lines[0] ?? "";
}

async function certificatesNamed(commonName: string): Promise<{ id: string }[]> {
  const response = await httpsRequest(`${server.url}/v1/certificates?commonName=${commonName}&limit=500`, { ca: readFileSync(bundleFile, "utf8"), headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return jsonBody<{ items: { id: string }[] }>(response).items;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-cli-"));
  dataDir = path.join(workDir, "server-data");
  clientDir = path.join(workDir, "client");
  await run("mkdir", ["-p", clientDir]);
  database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  serverEnv = { KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn", ...(database === undefined ? {} : { DATABASE_URL: database.url }) };
  server = await startKpkiServer({ env: serverEnv });
  bundleFile = path.join(dataDir, "ca-bundle.pem");
  tokenFile = inClient("admin.token");
  writeFileSync(tokenFile, `${TEST_ADMIN_TOKEN}\n`, { mode: 0o600 });
  await run("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", inClient("x.key"), "-out", inClient("x.csr"), "-subj", "/CN=web.cli.test", "-addext", "subjectAltName=DNS:web.cli.test,IP:10.0.0.1"]);
});

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("kpki ca", () => {
  it("creates an intermediate with --server, --ca-cert and --token-file", async () => {
    const result = await kpki(["ca", "create", "demo", "--parent", "kpki-root", "--cn", "Demo", ...remote()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("created CA demo (active): CN=Demo\n");
  });

  it("creates one with KPKI_SERVER, KPKI_TOKEN and KPKI_CA_CERT instead of flags", async () => {
    const result = await kpki(["ca", "create", "demo-env", "--parent", "kpki-root", "--cn", "Demo Env"], { KPKI_SERVER: server.url, KPKI_TOKEN: TEST_ADMIN_TOKEN, KPKI_CA_CERT: bundleFile });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("created CA demo-env (active): CN=Demo Env\n");
  });

  it("lists CAs (KPKI_TOKEN_FILE works too)", async () => {
    const result = await kpki(["ca", "list"], { KPKI_SERVER: server.url, KPKI_TOKEN_FILE: tokenFile, KPKI_CA_CERT: bundleFile });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+PARENT\s+ORIGIN\s+STATUS\s+KEY\s+EXPIRES\s+SUBJECT$/);
    const byName = new Map(lines.slice(1).map((line) => [line.split(/\s+/)[0], line.split(/\s+/)]));
    expect([...byName.keys()].sort()).toEqual(["demo", "demo-env", "kpki-internal", "kpki-root"]);
    expect(byName.get("demo-env")?.[1]).toBe("kpki-root");
    expect(byName.get("demo")?.[1]).toBe("kpki-root");
    expect(byName.get("kpki-root")?.[1]).toBe("-");
  });
});

describe("kpki cert issue", () => {
  it("signs a CSR and writes leaf.crt and leaf-chain.crt that openssl verifies", async () => {
    const result = await kpki(["cert", "issue", "--ca", "demo", "--profile", "server", "--csr", "x.csr", "--out", "leaf", ...remote()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^issued \S+ \(serial [0-9a-f]+, expires [^)]+\): wrote leaf\.crt, leaf-chain\.crt\n$/);
    expect(existsSync(inClient("leaf.key"))).toBe(false); // the key stayed with the CSR's owner
    const { stdout } = await run("openssl", ["verify", "-CAfile", bundleFile, "-untrusted", "leaf-chain.crt", "-purpose", "sslserver", "leaf.crt"], { cwd: clientDir });
    expect(stdout.trim()).toBe("leaf.crt: OK");
    const leaf = new X509Certificate(readFileSync(inClient("leaf.crt")));
    expect(leaf.checkHost("web.cli.test")).toBe("web.cli.test");
    expect(leaf.publicKey.export({ format: "der", type: "spki" })).toEqual(createPublicKey(readFileSync(inClient("x.key"))).export({ format: "der", type: "spki" }));
  });

  it("generates the key with --key-algorithm and writes alice.key with mode 0600", async () => {
    const result = await kpki(["cert", "issue", "--ca", "demo", "--key-algorithm", "ECDSA-P256", "--cn", "alice", "--profile", "client", "--out", "alice", ...remote()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/wrote alice\.crt, alice-chain\.crt, alice\.key\n$/);
    expect(result.stdout).toBe(""); // the key went to the file only
    expect(statSync(inClient("alice.key")).mode & 0o777).toBe(0o600);
    expect(statSync(inClient("alice.crt")).mode & 0o777).toBe(0o644);
    const certificate = new X509Certificate(readFileSync(inClient("alice.crt")));
    expect(certificate.subject).toBe("CN=alice");
    const publicOfKey = createPublicKey(createPrivateKey(readFileSync(inClient("alice.key")))).export({ format: "der", type: "spki" });
    expect(certificate.publicKey.export({ format: "der", type: "spki" })).toEqual(publicOfKey);
    const { stdout } = await run("openssl", ["verify", "-CAfile", bundleFile, "-untrusted", "alice-chain.crt", "-purpose", "sslclient", "alice.crt"], { cwd: clientDir });
    expect(stdout.trim()).toBe("alice.crt: OK");
  });

  it("refuses to overwrite existing output without --force (exit 5) and leaves the files as they were", async () => {
    const before = ["alice.crt", "alice-chain.crt", "alice.key"].map((f) => sha256(inClient(f)));
    const result = await kpki(["cert", "issue", "--ca", "demo", "--key-algorithm", "ECDSA-P256", "--cn", "alice", "--profile", "client", "--out", "alice", ...remote()]);
    const line = expectOneLineFailure(result, 5);
    expect(line).toContain("alice.crt exists; refusing to overwrite it (use --force)");
    expect(["alice.crt", "alice-chain.crt", "alice.key"].map((f) => sha256(inClient(f)))).toEqual(before);
    expect(result.stdout).not.toMatch(/PRIVATE KEY/);
  });

  // Regression test: src/transports/cli/commands/cert-commands.ts sends POST /v1/certificates first and checks the --out files only afterwards (writeOutputFile), so a refused overwrite still issues a certificate — and with --key-algorithm its private key, returned once, is thrown away.
  it("refuses before asking the server, so a refused overwrite issues no certificate", async () => {
    const before = (await certificatesNamed("alice")).length;
    const result = await kpki(["cert", "issue", "--ca", "demo", "--key-algorithm", "ECDSA-P256", "--cn", "alice", "--profile", "client", "--out", "alice", ...remote()]);
    expect(result.code).toBe(5);
    expect((await certificatesNamed("alice")).length).toBe(before);
  });

  it("overwrites with --force", async () => {
    const before = sha256(inClient("alice.key"));
    const result = await kpki(["cert", "issue", "--ca", "demo", "--key-algorithm", "ECDSA-P256", "--cn", "alice", "--profile", "client", "--out", "alice", "--force", ...remote()]);
    expect(result.code, result.stderr).toBe(0);
    expect(sha256(inClient("alice.key"))).not.toBe(before);
    expect(statSync(inClient("alice.key")).mode & 0o777).toBe(0o600);
  });

  it("needs exactly one of --csr and --key-algorithm (usage error, exit 2)", async () => {
    const result = await kpki(["cert", "issue", "--ca", "demo", "--profile", "client", "--cn", "nobody", ...remote()]);
    expect(expectOneLineFailure(result, 2)).toContain("give exactly one of --csr FILE and --key-algorithm ALG");
  });
});

describe("kpki cert list", () => {
  it("prints a table and, with --json, the certificates without their PEM", async () => {
    const issuedIds = [...(await certificatesNamed("alice")).map((c) => c.id), ...(await certificatesNamed("web.cli.test")).map((c) => c.id)];
    expect(issuedIds.length).toBeGreaterThanOrEqual(3);

    const table = await kpki(["cert", "list", "--ca", "demo", ...remote()]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+CA\s+PROFILE\s+STATUS\s+EXPIRES\s+SUBJECT$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0]).sort()).toEqual([...issuedIds].sort());
    for (const line of lines.slice(1)) expect(line).toMatch(/\sdemo\s+(server|client)\s+active\s/);

    const json = await kpki(["cert", "list", "--ca", "demo", "--json", ...remote()]);
    expect(json.code, json.stderr).toBe(0);
    const items = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(items.map((c) => c.id).sort()).toEqual([...issuedIds].sort());
    for (const item of items) {
      expect(item).not.toHaveProperty("certificatePem");
      expect(item).toMatchObject({ ca: "demo", status: "active" });
    }
  });
});

describe("kpki token and credentials", () => {
  let readerToken: string;

  it("token create prints only the token on stdout", async () => {
    const result = await kpki(["token", "create", "ci", "--role", "reader", ...remote()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kpki_[A-Za-z0-9_-]{40,}\n$/);
    expect(result.stderr).toMatch(/created token \S+ \(reader\)/);
    expect(result.stderr).not.toContain(result.stdout.trim());
    readerToken = result.stdout.trim();
  });

  it("token create takes a scope for a scoped role, and token list shows it; a scoped role without one is exit 2", async () => {
    const created = await kpki(["token", "create", "apps", "--role", "key-user", "--key", "billing", "--key", "ledger", "--key-prefix", "app-", "--key-operations", "encrypt,decrypt", "--ttl", "1d", ...remote()]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/created token \S+ \(key-user keys=billing,ledger keyPrefix=app- operations=encrypt,decrypt\)/);
    const plugin = await kpki(["token", "create", "plugin", "--role", "kms-plugin", "--key", "etcd-kek", ...remote()]);
    expect(plugin.code, plugin.stderr).toBe(0);
    const listed = await kpki(["token", "list", ...remote()]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+SCOPE/);
    expect(listed.stdout).toMatch(/apps\s+key-user\s+keys=billing,ledger keyPrefix=app- operations=encrypt,decrypt\s/);
    expect(listed.stdout).toMatch(/plugin\s+kms-plugin\s+key=etcd-kek\s/);
    const unscoped = await kpki(["token", "create", "hook", "--role", "kubeadm-hook", ...remote()]);
    expect(expectOneLineFailure(unscoped, 2)).toMatch(/scope: role kubeadm-hook requires a scope with cluster/);
  });

  it("the reader token lists certificates but cannot issue (exit 4)", async () => {
    const listed = await kpki(["cert", "list", "--server", server.url, "--ca-cert", bundleFile, "--token", readerToken]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+CA/);
    const denied = await kpki(["cert", "issue", "--ca", "demo", "--profile", "server", "--csr", "x.csr", "--server", server.url, "--ca-cert", bundleFile, "--token", readerToken]);
    expect(expectOneLineFailure(denied, 4)).toMatch(/permission_denied/);
  });

  it("a wrong token gives exit 4 and one line", async () => {
    const result = await kpki(["cert", "list", "--server", server.url, "--ca-cert", bundleFile, "--token", "kpki_this-token-does-not-exist-000000000000000000"]);
    const line = expectOneLineFailure(result, 4);
    expect(line).toContain("invalid, expired or revoked token");
    expect(line).not.toContain("kpki_this-token-does-not-exist");
  });

  it("an unreachable server gives exit 7", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    const result = await kpki(["cert", "list", "--server", `https://127.0.0.1:${port}`, "--ca-cert", bundleFile, "--token-file", tokenFile]);
    expect(expectOneLineFailure(result, 7)).toContain(`cannot reach https://127.0.0.1:${port}`);
  });

  it("without --ca-cert the server's own CA is not trusted, and the message says to pass --ca-cert", async () => {
    expect(existsSync(inClient("data/ca-bundle.pem"))).toBe(false);
    const result = await kpki(["cert", "list", "--server", server.url, "--token-file", tokenFile]);
    const line = expectOneLineFailure(result, 7);
    expect(line).toMatch(/certificate/i);
    expect(line).toContain("--ca-cert");
  });
});

describe("defaults and bad flags", () => {
  it("trusts ./data/ca-bundle.pem without --ca-cert (the layout `npm start` leaves in a clone)", async () => {
    const cloneDir = path.join(workDir, "clone");
    await run("mkdir", ["-p", path.join(cloneDir, "data")]);
    writeFileSync(path.join(cloneDir, "data", "ca-bundle.pem"), readFileSync(bundleFile));
    const result = await runKpki(["ca", "list", "--server", server.url, "--token-file", tokenFile], { cwd: cloneDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kpki-root\s/m);
  });

  it("refuses a non-https --server as a usage error (exit 2) without sending the token anywhere", async () => {
    const result = await kpki(["cert", "list", "--server", `http://127.0.0.1:${server.port}`, "--ca-cert", bundleFile, "--token-file", tokenFile]);
    expect(expectOneLineFailure(result, 2)).toContain("--server must be an https:// URL");
  });

  it("a preset KPKI_BOOTSTRAP_TOKEN is never printed by the server", () => {
    expect(server.stderr()).not.toContain(TEST_ADMIN_TOKEN);
    expect(server.stdout()).not.toContain(TEST_ADMIN_TOKEN);
    expect(server.stderr()).not.toMatch(/Bootstrap admin token/);
  });
});

describe("local commands and help", () => {
  it("migrate --status on the data directory lists 0001_init as applied", async () => {
    const result = await kpki(["migrate", "--status"], serverEnv);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^applied\s+0001_init\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    expect(result.stdout).not.toMatch(/^pending/m);
  });

  // Regression test: `migrate --status` is meant to only report, but src/app.ts createLocalOperations.migrate creates the data directory (mkdirSync) and the Migrator's better-sqlite3 connection creates an empty kpki.db.
  it("migrate --status where there is no database yet reports pending and creates nothing", async () => {
    const emptyDir = path.join(workDir, "no-database");
    await run("mkdir", ["-p", emptyDir]);
    const result = await runKpki(["migrate", "--status"], { cwd: emptyDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^pending\s+0001_init$/m);
    expect(existsSync(path.join(emptyDir, "data"))).toBe(false);
  });

  it("kpki --help and kpki cert issue --help exit 0", async () => {
    const top = await kpki(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: kpki /);
    for (const command of ["serve", "migrate", "master-key", "ca", "cert", "token"]) expect(top.stdout).toMatch(new RegExp(`\\n\\s+${command}\\b`));
    const issue = await kpki(["cert", "issue", "--help"]);
    expect(issue.code).toBe(0);
    for (const flag of ["--ca <name>", "--profile <name>", "--csr <file>", "--key-algorithm <alg>", "--out <prefix>", "--server <url>", "--token-file <path>", "--ca-cert <path>"]) expect(issue.stdout).toContain(flag);
  });

  it("an unknown command is a usage error (exit 2)", async () => {
    const result = await kpki(["certificates"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command/);
  });
});

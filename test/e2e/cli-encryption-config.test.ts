// `kpki kubernetes encryption-config …` against a real server process over HTTPS: the runbook from
// the command line, each step writing the file (mode 0600, valid by the reference §3.4 checks) and
// printing what to do next; a repeated confirmation refused; exit codes.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptionConfigProblems, staticSecretsOf } from "../helpers/encryption-config-checks.js";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { cliFails as fails, cliOk as ok } from "../helpers/cli-result.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const run = promisify(execFile);

let database: TestDatabase | undefined;
let workDir: string;
let clientDir: string;
let server: ServingKpki;
let bundleFile: string;
let tokenFile: string;

const inClient = (name: string) => path.join(clientDir, name);
const remote = (token = tokenFile) => ["--server", server.url, "--ca-cert", bundleFile, "--token-file", token];
const encryption = (...args: string[]) => runKpki(["kubernetes", "encryption-config", ...args, ...remote()], { cwd: clientDir });



/** The file at `name`: mode 0600 and valid. */
function checkedFile(name: string): string {
  expect(statSync(inClient(name)).mode & 0o777).toBe(0o600);
  const yaml = readFileSync(inClient(name), "utf8");
  expect(encryptionConfigProblems(yaml), yaml).toEqual([]);
  return yaml;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-cli-enc-"));
  const dataDir = path.join(workDir, "server-data");
  clientDir = path.join(workDir, "client");
  await run("mkdir", ["-p", clientDir]);
  database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  server = await startKpkiServer({ env: { KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn", ...(database === undefined ? {} : { DATABASE_URL: database.url }) } });
  bundleFile = path.join(dataDir, "ca-bundle.pem");
  tokenFile = inClient("admin.token");
  writeFileSync(tokenFile, `${TEST_ADMIN_TOKEN}\n`, { mode: 0o600 });
  ok(await runKpki(["cluster", "create", "enc-cli", "--control-plane-endpoint", "cp.enc-cli.example:6443", "--key-algorithm", "ECDSA-P256", ...remote()], { cwd: clientDir }));
});

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("kpki kubernetes encryption-config", () => {
  it("set --out writes the first file of the enable runbook and prints step 1 with the command that confirms it", async () => {
    const out = ok(await encryption("set", "enc-cli", "--mode", "static", "--provider", "aescbc", "--out", "enc.yaml"));
    expect(out).toMatch(/^cluster enc-cli: static, enable rotation at step added; resources: secrets\n/);
    expect(out).toContain("file providers, in order: identity, aescbc key-1");
    expect(out).toContain("Step 1 of 4 (added)");
    expect(out).toContain("kpki kubernetes encryption-config rotate next enc-cli --completed added");
    expect(checkedFile("enc.yaml")).toMatch(/- identity: \{\}\n {6}- aescbc:/);
  });

  it("rotate next --completed walks the runbook, each step writing a valid file; the rewrite step prints the kubectl command", async () => {
    const promoted = ok(await encryption("rotate", "next", "enc-cli", "--completed", "added", "--out", "enc.yaml", "--force"));
    expect(promoted).toContain("Step 2 of 4 (promoted)");
    expect(checkedFile("enc.yaml")).toMatch(/- aescbc:[\s\S]*- identity: \{\}/);
    const rewrite = ok(await encryption("rotate", "next", "enc-cli", "--completed", "promoted", "--out", "enc.yaml", "--force"));
    expect(rewrite).toContain("$ kubectl get secrets --all-namespaces -o json | kubectl replace -f -");
    checkedFile("enc.yaml");
    ok(await encryption("rotate", "next", "enc-cli", "--completed", "rewrite", "--out", "enc.yaml", "--force"));
    expect(checkedFile("enc.yaml")).not.toContain("identity");
    const steady = ok(await encryption("rotate", "next", "enc-cli", "--completed", "removed"));
    expect(steady).toContain("Steady: new writes of secrets are encrypted with the aescbc key key-1");
  });

  it("a repeated confirmation is refused (exit 5) and skips nothing", async () => {
    const started = ok(await encryption("rotate", "start", "enc-cli", "--out", "rotation.yaml"));
    expect(started).toContain("Back up the new key key-2");
    expect(staticSecretsOf(checkedFile("rotation.yaml")).size).toBe(2);
    ok(await encryption("rotate", "next", "enc-cli", "--completed", "added"));
    expect(fails(await encryption("rotate", "next", "enc-cli", "--completed", "added"), 5)).toMatch(/at step promoted, not added/);
    const shown = JSON.parse(ok(await encryption("show", "enc-cli", "--json"))) as { step: string };
    expect(shown.step).toBe("promoted");
  });

  it("render prints the file; an existing --out is refused before anything changes", async () => {
    const printed = ok(await encryption("render", "enc-cli"));
    expect(encryptionConfigProblems(printed)).toEqual([]);
    expect(fails(await encryption("rotate", "next", "enc-cli", "--out", "rotation.yaml"), 5)).toMatch(/rotation.yaml exists/);
    const shown = JSON.parse(ok(await encryption("show", "enc-cli", "--json"))) as { step: string };
    expect(shown.step).toBe("promoted");
  });

  it("refusals: no provider (exit 2), an unknown cluster (exit 3), a token without the export permission (exit 4), a second start (exit 5)", async () => {
    expect(fails(await encryption("set", "enc-cli", "--mode", "static"), 2)).toMatch(/--provider/);
    expect(fails(await encryption("show", "no-such-cluster"), 3)).toMatch(/no-such-cluster does not exist/);
    const created = await httpsRequest(`${server.url}/v1/tokens`, { method: "POST", ca: readFileSync(bundleFile, "utf8"), headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: { name: "enc-operator", role: "operator" } });
    writeFileSync(inClient("operator.token"), jsonBody<{ token: string }>(created).token, { mode: 0o600 });
    const asOperator = await runKpki(["kubernetes", "encryption-config", "render", "enc-cli", ...remote(inClient("operator.token"))], { cwd: clientDir });
    expect(fails(asOperator, 4)).toMatch(/cluster.encryption.export/);
    expect(fails(await encryption("rotate", "start", "enc-cli"), 5)).toMatch(/already in progress/);
  });

  it("set --rotation-period gives a static setup a key rotation period that show reports; bad periods are refused (exit 2)", async () => {
    ok(await runKpki(["cluster", "create", "enc-cli-periodic", "--control-plane-endpoint", "cp.enc-cli-periodic.example:6443", "--key-algorithm", "ECDSA-P256", ...remote()], { cwd: clientDir }));
    const set = ok(await encryption("set", "enc-cli-periodic", "--mode", "static", "--provider", "secretbox", "--existing-data", "none", "--rotation-period", "90d"));
    expect(set).toMatch(/automatic key rotation every 90 days; the next one starts at \d{4}-\d\d-\d\dT/);
    expect(fails(await encryption("set", "enc-cli-periodic", "--mode", "static", "--provider", "secretbox", "--rotation-period", "1h"), 2)).toMatch(/keyRotationPeriodSeconds/);
    expect(fails(await encryption("set", "enc-cli-periodic", "--mode", "static", "--provider", "secretbox", "--rotation-period", "soon"), 2)).toMatch(/--rotation-period/);
    const off = ok(await encryption("set", "enc-cli-periodic", "--mode", "static", "--provider", "secretbox", "--rotation-period", "off"));
    expect(off).not.toContain("automatic key rotation");
  });
});

// `kpki key …` against a real server process over HTTPS: the KMIP operations and named keys from
// the command line, files written (bytes, modes), exit codes, and openssl checking what it signs.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKpki, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
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
const remote = () => ["--server", server.url, "--ca-cert", bundleFile, "--token-file", tokenFile];
const kpki = (...args: string[]) => runKpki(["key", ...args, ...remote()], { cwd: clientDir });
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;



beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-cli-keys-"));
  const dataDir = path.join(workDir, "server-data");
  clientDir = path.join(workDir, "client");
  await run("mkdir", ["-p", clientDir]);
  database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  server = await startKpkiServer({ env: { KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "warn", ...(database === undefined ? {} : { DATABASE_URL: database.url }) } });
  bundleFile = path.join(dataDir, "ca-bundle.pem");
  tokenFile = inClient("admin.token");
  writeFileSync(tokenFile, `${TEST_ADMIN_TOKEN}\n`, { mode: 0o600 });
  writeFileSync(inClient("message.txt"), "the message kpki signs and encrypts\n");
});

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe("managed objects", () => {
  let aes: string;

  it("create prints the uid on stdout (and what it made on stderr); info shows the metadata", async () => {
    const result = await kpki("create", "--algorithm", "AES", "--name", "cli-aes", "--attribute", "x-owner=cli", "--activate");
    aes = ok(result).trim();
    expect(aes).toMatch(UID);
    expect(result.stderr).toBe(`created SymmetricKey AES-256 ${aes} (Active)\n`);
    const info = JSON.parse(ok(await kpki("info", aes))) as { state: string; names: string[]; extractable: boolean; customAttributes: Record<string, string> };
    expect(info).toMatchObject({ state: "Active", names: ["cli-aes"], extractable: false, customAttributes: { "x-owner": "cli" } });
  });

  it("encrypt writes the envelope JSON; decrypt --out writes the plaintext bytes with mode 0600", async () => {
    ok(await kpki("encrypt", aes, "--in", "message.txt", "--out", "message.enc.json"));
    const envelope = JSON.parse(readFileSync(inClient("message.enc.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(envelope).sort()).toEqual(["ciphertext", "iv", "mode", "tag"]);
    expect(envelope.mode).toBe("AES-GCM");
    ok(await kpki("decrypt", aes, "--in", "message.enc.json", "--out", "message.dec"));
    expect(readFileSync(inClient("message.dec"))).toEqual(readFileSync(inClient("message.txt")));
    expect(statSync(inClient("message.dec")).mode & 0o777).toBe(0o600);
    // Without --out the plaintext is printed as base64.
    expect(Buffer.from(ok(await kpki("decrypt", aes, "--in", "message.enc.json")).trim(), "base64").toString()).toBe("the message kpki signs and encrypts\n");
    fails(await kpki("decrypt", aes, "--in", "message.enc.json", "--out", "message.dec"), 5); // exists: refuses to overwrite
  });

  it("get of a key that is not extractable is refused (exit 4), naming the KMIP reason's cause", async () => {
    expect(fails(await kpki("get", aes), 4)).toContain("not Extractable");
  });

  it("attributes prints the KMIP attributes; locate finds by name and by custom attribute", async () => {
    const attributes = ok(await kpki("attributes", aes));
    expect(attributes).toMatch(/^State\s+Active$/m);
    expect(attributes).toMatch(/^Name\s+\["cli-aes"\]$/m);
    expect(attributes).toMatch(/^x-owner\s+cli$/m);
    const byName = ok(await kpki("locate", "--name", "cli-aes")).trimEnd().split("\n");
    expect(byName[0]).toMatch(/^UID\s+TYPE\s+ALGORITHM\s+STATE\s+NAMES$/);
    expect(byName.slice(1)).toEqual([expect.stringMatching(new RegExp(`^${aes}\\s+SymmetricKey\\s+AES-256\\s+Active\\s+cli-aes$`))]);
    const byAttribute = JSON.parse(ok(await kpki("locate", "--attribute", "x-owner=cli", "--state", "Active", "--json"))) as { uid: string }[];
    expect(byAttribute.map((o) => o.uid)).toEqual([aes]);
  });

  it("rekey prints the replacement's uid; revoke and destroy walk the lifecycle; destroying an Active key is exit 5", async () => {
    const replacement = ok(await kpki("rekey", aes)).trim();
    expect(replacement).toMatch(UID);
    expect(replacement).not.toBe(aes);
    expect(ok(await kpki("locate", "--name", "cli-aes"))).toContain(replacement);
    expect(fails(await kpki("destroy", replacement), 5)).toContain("revoke");
    expect(ok(await kpki("revoke", replacement, "--reason", "CessationOfOperation", "--message", "done"))).toBe(`SymmetricKey AES-256 ${replacement} (Deactivated)\n`);
    expect(ok(await kpki("destroy", replacement))).toBe(`SymmetricKey AES-256 ${replacement} (Destroyed)\n`);
  });

  it("mac writes the MAC; mac --verify prints valid, or invalid with exit 6", async () => {
    const hmac = ok(await kpki("create", "--algorithm", "HMAC-SHA256", "--activate")).trim();
    ok(await kpki("mac", hmac, "--in", "message.txt", "--out", "message.mac"));
    expect(readFileSync(inClient("message.mac"))).toHaveLength(32);
    expect(ok(await kpki("mac", hmac, "--in", "message.txt", "--verify", "message.mac"))).toBe("valid\n");
    writeFileSync(inClient("other.txt"), "another message");
    const invalid = await kpki("mac", hmac, "--in", "other.txt", "--verify", "message.mac");
    expect(invalid.stdout).toBe("invalid\n");
    fails(invalid, 6);
  });

  it("create-key-pair, sign and verify; openssl verifies the signature with the public key from get", async () => {
    const pairOutput = ok(await kpki("create-key-pair", "--algorithm", "EC", "--length", "384", "--activate"));
    const [privateUid, publicUid] = ["privateKey", "publicKey"].map((name) => new RegExp(`^${name}\\s+(\\S+)\\s+Active$`, "m").exec(pairOutput)?.[1] ?? "");
    expect(privateUid).toMatch(UID);
    expect(publicUid).toMatch(UID);
    ok(await kpki("sign", privateUid ?? "", "--in", "message.txt", "--out", "message.sig"));
    expect(ok(await kpki("verify", publicUid ?? "", "--in", "message.txt", "--signature", "message.sig"))).toBe("valid\n");
    fails(await kpki("verify", publicUid ?? "", "--in", "other.txt", "--signature", "message.sig"), 6);

    ok(await kpki("get", publicUid ?? "", "--format", "pem", "--out", "ec.pub.pem"));
    expect(statSync(inClient("ec.pub.pem")).mode & 0o777).toBe(0o600);
    const { stdout } = await run("openssl", ["dgst", "-sha384", "-verify", "ec.pub.pem", "-signature", "message.sig", "message.txt"], { cwd: clientDir });
    expect(stdout.trim()).toBe("Verified OK");
  });

  it("register takes an openssl key file; get --format pkcs8 --out writes the same DER (0600)", async () => {
    await run("openssl", ["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"], { cwd: clientDir });
    await run("openssl", ["pkey", "-in", "ed.pem", "-outform", "DER", "-out", "ed.der"], { cwd: clientDir });
    const result = await kpki("register", "--type", "PrivateKey", "--format", "pem", "--file", "ed.pem", "--extractable");
    const uid = ok(result).trim();
    expect(result.stderr).toBe(`registered PrivateKey Ed25519-256 ${uid} (Pre-Active)\n`);
    ok(await kpki("get", uid, "--format", "pkcs8", "--out", "ed.back.der"));
    expect(readFileSync(inClient("ed.back.der"))).toEqual(readFileSync(inClient("ed.der")));
    expect(statSync(inClient("ed.back.der")).mode & 0o777).toBe(0o600);
    const fromDer = ok(await kpki("register", "--type", "PrivateKey", "--format", "pkcs8", "--file", "ed.der")).trim();
    expect(fromDer).toMatch(UID);
  });

  it("rng prints base64 of the requested bytes, or writes them to a file", async () => {
    expect(Buffer.from(ok(await kpki("rng", "--bytes", "24")).trim(), "base64")).toHaveLength(24);
    ok(await kpki("rng", "--bytes", "32", "--out", "random.bin"));
    expect(readFileSync(inClient("random.bin"))).toHaveLength(32);
  });

  it("refusals are one line with the server's reason: an unknown uid is exit 3", async () => {
    expect(fails(await kpki("info", "00000000-0000-7000-8000-000000000000"), 3)).toContain("does not exist");
  });
});

describe("named keys", () => {
  it("create, encrypt, rotate, decrypt the old version, rewrap, datakey, update, list and info", async () => {
    expect(ok(await kpki("named", "create", "cli-app"))).toBe("created cli-app (AES-256-GCM): version 1, decrypts from 1\n");
    writeFileSync(inClient("context.bin"), "tenant-7");
    const v1 = ok(await kpki("named", "encrypt", "cli-app", "--in", "message.txt", "--context-file", "context.bin")).trim();
    expect(v1).toMatch(/^kpki:v1:cli-app:1:[A-Za-z0-9_-]+$/);
    expect(ok(await kpki("named", "rotate", "cli-app"))).toBe("rotated cli-app (AES-256-GCM): version 2, decrypts from 1\n");

    ok(await kpki("named", "decrypt", "cli-app", "--ciphertext", v1, "--context-file", "context.bin", "--out", "named.dec"));
    expect(readFileSync(inClient("named.dec"))).toEqual(readFileSync(inClient("message.txt")));
    writeFileSync(inClient("v1.txt"), `${v1}\n`);
    const v2 = ok(await kpki("named", "rewrap", "cli-app", "--in", "v1.txt", "--context-file", "context.bin")).trim();
    expect(v2).toMatch(/^kpki:v1:cli-app:2:/);

    const wrapped = ok(await kpki("named", "datakey", "cli-app", "--out", "data.key")).trim();
    expect(wrapped).toMatch(/^kpki:v1:cli-app:2:/);
    expect(readFileSync(inClient("data.key"))).toHaveLength(32);
    expect(statSync(inClient("data.key")).mode & 0o777).toBe(0o600);
    expect(Buffer.from(ok(await kpki("named", "decrypt", "cli-app", "--ciphertext", wrapped)).trim(), "base64")).toEqual(readFileSync(inClient("data.key")));

    // Version 1 decrypted moments ago: retiring it needs --force.
    expect(fails(await kpki("named", "update", "cli-app", "--min-decryption-version", "2", "--rotate-period", "30d"), 5)).toMatch(/refusing to raise the minimum decryption version of cli-app to 2: named key cli-app version 1 decrypted 2 times/);
    expect(ok(await kpki("named", "update", "cli-app", "--min-decryption-version", "2", "--rotate-period", "30d", "--force"))).toBe("updated cli-app (AES-256-GCM): version 2, decrypts from 2, rotates every 2592000s\n");
    expect(fails(await kpki("named", "decrypt", "cli-app", "--ciphertext", v1, "--context-file", "context.bin"), 6)).toContain("minimum decryption version");
    const list = ok(await kpki("named", "list")).trimEnd().split("\n");
    expect(list[0]).toMatch(/^NAME\s+ALGORITHM\s+VERSION\s+MIN-DECRYPT\s+ROTATE\s+LAST-ROTATED$/);
    expect(list.slice(1)).toEqual([expect.stringMatching(/^cli-app\s+AES-256-GCM\s+2\s+2\s+2592000s\s+\S+$/)]);
    const info = JSON.parse(ok(await kpki("named", "info", "cli-app"))) as { versions: { version: number; state: string; decryptCount: number }[] };
    expect(info.versions.map((v) => [v.version, v.state, v.decryptCount])).toEqual([
      [1, "Deactivated", 2],
      [2, "Active", 1],
    ]);
    const report = ok(await kpki("named", "usage-report", "cli-app")).trimEnd().split("\n");
    expect(report[0]).toMatch(/^VERSION\s+ROLE\s+STATE\s+ENCRYPTS\s+DECRYPTS\s+LAST DECRYPT\s+DECRYPTED IN 30d$/);
    expect(report.slice(1, 3)).toEqual([expect.stringMatching(/^1\s+retired\s+Deactivated\s+1\s+2\s+\S+Z\s+yes$/), expect.stringMatching(/^2\s+current\s+Active\s+2\s+1\s+\S+Z\s+yes$/)]);
    // Version 1 is retired already (below the minimum), so nothing older still decrypts.
    expect(report[3]).toMatch(/^no version before 2 decrypted anything since \S+: minDecryptionVersion can go up to 2$/);
    expect(JSON.stringify(info)).not.toContain(readFileSync(inClient("data.key")).toString("base64"));
  });
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KPKI_BIN, PROJECT_ROOT, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database.js";

/**
 * The README's quick start and walkthrough, run as written against a real `kpki serve`: only the
 * port (the test picks a free one), the token placeholder and `npx kpki` (→ this checkout's
 * bin/kpki.js) are substituted.
 */
const TOKEN = "kpki_readme-walkthrough-token-0123456789abcdefghijk";
const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");

/** The ```sh blocks of the section headed `heading`. */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`README has no section ${heading}`);
  const end = readme.indexOf("\n## ", start + 3);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
}

let dir: string;
let database: TestDatabase;
let server: ServingKpki;

function run(script: string) {
  const substituted = script
    .replaceAll("https://localhost:8443", `https://localhost:${server.port}`)
    .replaceAll("kpki_…the token printed at first start…", TOKEN)
    .replaceAll("npx kpki", `node ${KPKI_BIN}`);
  return spawnSync("bash", ["--norc", "--noprofile", "-euo", "pipefail", "-c", substituted], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir }, timeout: 120_000 });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kpki-readme-"));
  database = await createTestDatabase();
  server = await startKpkiServer({
    cwd: dir,
    env: { KPKI_DATA_DIR: "data", KPKI_BOOTSTRAP_TOKEN: TOKEN, KPKI_LOG_LEVEL: "warn", ...(database.provider === "postgresql" ? { DATABASE_URL: database.url } : {}) },
  });
});

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("README", () => {
  it("quick start: curl --cacert data/ca-bundle.pem …/healthz answers", () => {
    const curl = shellBlocks("Quick start").find((block) => block.includes("curl"));
    expect(curl).toBeDefined();
    const result = run(curl ?? "");
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ status: "ok" });
  });

  it("walkthrough: issues with curl and the CLI, openssl verifies both, then sees alice revoked", () => {
    const blocks = shellBlocks("Walkthrough: issue certificates and check them with openssl");
    expect(blocks).toHaveLength(2);
    const result = run(blocks.join("\n"));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("web.crt: OK");
    expect(result.stdout).toContain("alice.crt: OK");
    expect(result.stdout).toMatch(/DNS:web\.example\.internal, IP Address:10\.0\.0\.5/);
    expect(result.stdout).toContain("TLS Web Server Authentication");
    expect(result.stdout).toMatch(/demo\s+client\s+active/);
    expect(result.stdout).toMatch(/"status": "active"/);
    expect(result.stdout).toContain("alice.crt: revoked");
    expect(result.stdout).toContain("Reason: keyCompromise");
    expect(result.stdout).toContain("Key Compromise");
    expect(result.stdout).toContain("alice.crt: refused");
  });
});

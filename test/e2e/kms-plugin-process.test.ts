// `kpki kms-plugin` as a process: what a static pod or systemd unit runs. A stale socket from a
// killed run is replaced, a socket in use is refused with a clear message, SIGTERM ends it with exit
// 0 and no socket left; bad flags are usage errors (exit 2). Both modes are wired by the
// composition root (src/app.ts createLocalOperations.kmsPlugin).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_OPERATOR } from "../../src/core/access/index.js";
import { kmsV2Client } from "../helpers/kms-v2-client.js";
import { childEnv, PROJECT_ROOT, type ExitStatus } from "../helpers/process.js";
import { startTestRuntime } from "../helpers/runtime.js";
import type { TestDatabase } from "../helpers/test-database.js";
import { leaveStaleSocket } from "../helpers/unix-socket.js";

const KEY = "proc-kek";
/** Until program.ts registers `kms-plugin`, the command runs from the sources (see the fixture). */
const ENTRY = ["--import", "tsx", path.join(PROJECT_ROOT, "test", "fixtures", "kms-plugin", "kpki-kms-plugin.ts")];

interface PluginProcess {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  readonly exited: Promise<ExitStatus>;
}

const running = new Set<ChildProcess>();

function spawnPlugin(args: readonly string[], env: Record<string, string>): PluginProcess {
  const child = spawn(process.execPath, [...ENTRY, "kms-plugin", ...args], { cwd: PROJECT_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let text = "";
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      text += chunk;
      for (const listener of [...listeners]) listener();
    });
  }
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once("close", (code, signal) => {
      running.delete(child);
      for (const listener of [...listeners]) listener();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    output: () => text,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(() => reject(new Error(`${pattern} did not appear within ${timeoutMs} ms:\n${text}`))), timeoutMs);
        const done = (outcome: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          outcome();
        };
        const check = () => {
          const match = pattern.exec(text);
          if (match !== null) done(() => resolve(match));
          else if (child.exitCode !== null || child.signalCode !== null) done(() => reject(new Error(`${pattern} never appeared; the process exited first:\n${text}`)));
        };
        listeners.add(check);
        check();
      }),
  };
}

let database: TestDatabase;
let dataDir: string;
let env: Record<string, string>;
const sockets = mkdtempSync(path.join(os.tmpdir(), "kpki-kmsp-"));

beforeAll(async () => {
  const t = await startTestRuntime();
  await t.runtime.services.namedKeys.create({ principal: LOCAL_OPERATOR }, { name: KEY });
  await t.close({ keepData: true });
  database = t.database;
  dataDir = t.dataDir;
  env = { DATABASE_URL: database.url, KPKI_DATA_DIR: dataDir, KPKI_LOG_LEVEL: "info" };
});

afterAll(async () => {
  for (const child of running) child.kill("SIGKILL");
  await database?.drop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  rmSync(sockets, { recursive: true, force: true });
});

describe("kpki kms-plugin --in-process", () => {
  it("replaces a stale socket, refuses a second plugin on it, and on SIGTERM exits 0 without leaving the socket", async () => {
    const socketPath = path.join(sockets, "kms.sock");
    await leaveStaleSocket(socketPath);
    const plugin = spawnPlugin(["--listen", `unix://${socketPath}`, "--key", KEY, "--in-process"], env);
    const announced = await plugin.waitFor(/listening on unix:\/\/(\S+); Status: ok, key_id (kpki-proc-kek-v1-[0-9a-f]{12})/);
    expect(announced[1]).toBe(socketPath);
    expect(plugin.output()).toMatch(/removed a stale socket file left by a previous run/);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);

    const client = kmsV2Client(socketPath);
    try {
      expect((await client.status()).key_id).toBe(announced[2]);
      const seed = randomBytes(32);
      const encrypted = await client.encrypt(seed);
      expect((await client.decrypt({ ciphertext: encrypted.ciphertext, key_id: encrypted.key_id, annotations: encrypted.annotations })).plaintext.equals(seed)).toBe(true);

      const second = spawnPlugin(["--listen", `unix://${socketPath}`, "--key", KEY, "--in-process"], env);
      expect((await second.exited).code).toBe(5);
      expect(second.output()).toMatch(new RegExp(`kpki: ${socketPath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is in use: another process is listening on it`));
      expect((await client.status()).healthz).toBe("ok");
    } finally {
      client.close();
    }

    plugin.child.kill("SIGTERM");
    expect(await plugin.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(socketPath)).toBe(false);
    expect(plugin.output()).toMatch(/KMS v2 plugin stopped/);
  });
});

describe("kpki kms-plugin (remote mode)", () => {
  it("starts while the kpki server is unreachable, reports it in Status, and stops on SIGTERM", async () => {
    const socketPath = path.join(sockets, "remote.sock");
    const plugin = spawnPlugin(["--listen", `unix://${socketPath}`, "--key", KEY, "--server", "https://127.0.0.1:1", "--token", "kpki_not-a-real-token-0123456789"], env);
    await plugin.waitFor(/listening on unix:\/\/\S+; Status: not ok \(key service: cannot reach kpki at https:\/\/127\.0\.0\.1:1: ECONNREFUSED\)/);
    const client = kmsV2Client(socketPath);
    try {
      const status = await client.status();
      expect(status.healthz).toMatch(/cannot reach kpki/);
    } finally {
      client.close();
    }
    plugin.child.kill("SIGTERM");
    expect((await plugin.exited).code).toBe(0);
    expect(plugin.output()).not.toContain("kpki_not-a-real-token");
    expect(existsSync(socketPath)).toBe(false);
  });
});

describe("kpki kms-plugin refuses bad flags (exit 2, one line)", () => {
  it.each([
    ["a TCP endpoint", ["--listen", "tcp://127.0.0.1:9000", "--key", KEY, "--in-process"], /--listen: expected unix:\/\/\/absolute\/path.sock/],
    ["remote mode without a token", ["--listen", "unix:///tmp/kpki-unused.sock", "--key", KEY, "--server", "https://127.0.0.1:1"], /give --token-file/],
    ["--in-process with a server option", ["--listen", "unix:///tmp/kpki-unused.sock", "--key", KEY, "--in-process", "--server", "https://127.0.0.1:1"], /--server does not apply/],
    ["a plain http server", ["--listen", "unix:///tmp/kpki-unused.sock", "--key", KEY, "--server", "http://127.0.0.1:1", "--token", "t"], /--server must be an https:\/\/ URL/],
  ])("%s", async (_label, args, message) => {
    const plugin = spawnPlugin(args, env);
    const status = await plugin.exited;
    expect(status.code, plugin.output()).toBe(2);
    expect(plugin.output()).toMatch(message);
  });
});

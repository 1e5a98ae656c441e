// Real `kpki` processes for end-to-end tests: spawn `node bin/kpki.js …` with a clean environment,
// collect its output, wait for "kpki: serving", stop it with SIGTERM. Every wait has a timeout so a
// broken build or a hung child fails the test instead of hanging the suite; stopAllKpki() (call it
// in afterAll) kills whatever a test left running.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where package.json and bin/ are). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The executable under test; it imports the compiled dist/main.js (`npm run build`). */
export const KPKI_BIN = path.join(PROJECT_ROOT, "bin", "kpki.js");

/** Environment variables passed through from the test process; everything else is explicit. */
const INHERITED = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ"] as const;

/** Default waits: generous, because test files run in parallel on few cores. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 60_000;

/** How a process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A spawned kpki process and what it has written so far. */
export interface KpkiProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** Resolves with the first match of `pattern` on `stream`; rejects on exit or timeout. */
  waitFor(pattern: RegExp, stream: "stdout" | "stderr", timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then waits for the exit; SIGKILL and rejects if it does not exit in time. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
}

/** A `kpki serve` process that announced its URL. */
export interface ServingKpki extends KpkiProcess {
  /** https://127.0.0.1:PORT as announced on stderr. */
  readonly url: string;
  readonly port: number;
}

/** Output of a finished command. */
export interface RunResult extends ExitStatus {
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for spawning. `env` is added to a clean environment (PATH, HOME, … only). */
export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

const live = new Set<KpkiProcess>();

function assertBuilt(): void {
  if (!existsSync(path.join(PROJECT_ROOT, "dist", "main.js"))) {
    throw new Error("dist/main.js is missing: run `npm run build` before the process tests");
  }
}

/** The clean environment a child gets: the few inherited variables plus `extra` (undefined removes). */
export function childEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `node bin/kpki.js ...args`. */
export function spawnKpki(args: readonly string[], options: SpawnOptions = {}): KpkiProcess {
  assertBuilt();
  const child = spawn(process.execPath, [KPKI_BIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: childEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let done = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr?.on("data", (chunk: string) => {
    err += chunk;
    notify();
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    // "close" fires after the process exited AND its stdio streams ended, so the output is complete.
    child.once("close", (code, signal) => {
      done = true;
      live.delete(handle);
      notify();
      resolve({ code, signal });
    });
    child.once("error", () => {
      done = true;
      live.delete(handle);
      notify();
      resolve({ code: null, signal: null });
    });
  });

  const describe = () => `\`kpki ${args.join(" ")}\`\n--- stdout ---\n${out.slice(-4000)}\n--- stderr ---\n${err.slice(-4000)}`;

  const handle: KpkiProcess = {
    child,
    args,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => done,
    waitFor: (pattern, stream, timeoutMs = START_TIMEOUT_MS) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stream === "stdout" ? out : err);
          if (match !== null) {
            finish();
            resolve(match);
          } else if (done) {
            finish();
            reject(new Error(`${pattern} never appeared on ${stream}; the process exited first.\n${describe()}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${pattern} did not appear on ${stream} within ${timeoutMs} ms.\n${describe()}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    stop: async (timeoutMs = STOP_TIMEOUT_MS) => {
      if (!done) child.kill("SIGTERM");
      const timeout = new Promise<"timeout">((resolve) => {
        const timer = setTimeout(() => resolve("timeout"), timeoutMs);
        void exited.then(() => clearTimeout(timer));
      });
      const result = await Promise.race([exited, timeout]);
      if (result === "timeout") {
        child.kill("SIGKILL");
        await exited;
        throw new Error(`kpki did not exit within ${timeoutMs} ms of SIGTERM (killed).\n${describe()}`);
      }
      return result;
    },
  };
  live.add(handle);
  return handle;
}

/** Runs a command to completion; kills it and rejects when it takes longer than `timeoutMs`. */
export async function runKpki(args: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  const proc = spawnKpki(args, options);
  const timeoutMs = options.timeoutMs ?? RUN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const result = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (result === "timeout") {
    proc.child.kill("SIGKILL");
    await proc.exited;
    throw new Error(`\`kpki ${args.join(" ")}\` did not finish within ${timeoutMs} ms (killed).\nstdout: ${proc.stdout()}\nstderr: ${proc.stderr()}`);
  }
  return { ...result, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** The line `kpki serve` prints on stderr once it listens. */
export const SERVING_LINE = /kpki: serving (https:\/\/(?:\[[0-9a-fA-F:]+\]|[^\s:]+):(\d+))/;

/** Starts `kpki serve` and waits until it announces its URL (KPKI_LISTEN defaults to 127.0.0.1:0). */
export async function startKpkiServer(options: SpawnOptions & { timeoutMs?: number } = {}): Promise<ServingKpki> {
  const proc = spawnKpki(["serve"], { ...options, env: { KPKI_LISTEN: "127.0.0.1:0", ...options.env } });
  try {
    const match = await proc.waitFor(SERVING_LINE, "stderr", options.timeoutMs ?? START_TIMEOUT_MS);
    const url = match[1] ?? "";
    return Object.assign(proc, { url, port: Number(match[2]) });
  } catch (error) {
    if (!proc.hasExited()) {
      proc.child.kill("SIGKILL");
      await proc.exited;
    }
    throw error;
  }
}

/** Kills every kpki process still running (afterAll). */
export async function stopAllKpki(): Promise<void> {
  await Promise.all(
    [...live].map(async (proc) => {
      try {
        await proc.stop(10_000);
      } catch {
        // stop() already killed it with SIGKILL
      }
    }),
  );
}

/** An HTTPS answer. */
export interface HttpsResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/**
 * One HTTPS request with node:https, trusting only `ca` (PEM) when given; rejects with the TLS
 * error (e.g. SELF_SIGNED_CERT_IN_CHAIN) when the server certificate does not verify.
 */
export function httpsRequest(
  url: string,
  options: { method?: string; ca?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number; clientCertificate?: { readonly certPem: string; readonly keyPem: string } } = {},
): Promise<HttpsResponse> {
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        agent: false,
        headers: {
          Accept: "application/json",
          ...options.headers,
          ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": String(payload.length) }),
        },
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.clientCertificate === undefined ? {} : { cert: options.clientCertificate.certPem, key: options.clientCertificate.keyPem }),
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** JSON body of a response (throws with the text when it is not JSON). */
export function jsonBody<T>(response: HttpsResponse): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new Error(`expected JSON, got HTTP ${response.status}: ${response.text.slice(0, 500)}`);
  }
}

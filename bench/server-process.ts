/**
 * Starts `kpki serve` (the built bin/kpki.js) as a separate process on loopback for benchmarks,
 * with a fresh data dir and a preset admin token, and measures its CPU time from /proc.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { processCpuSeconds } from "./peer-process.js";

export const BENCH_TOKEN = "kpki_bench-admin-token-0123456789abcdefghijklmnop";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A running server. */
export interface BenchServer {
  readonly url: string;
  readonly caBundle: string;
  readonly pid: number;
  /** The data directory (database, master key) of this server. */
  readonly dataDir: string;
  /** The KMIP port, when KPKI_KMIP_LISTEN enabled the listener. */
  readonly kmipPort?: number;
  /** User + system CPU seconds the server process has used so far. */
  cpuSeconds(): number;
  /** Stops the server; its data directory is removed unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startBenchServer(env: Record<string, string> = {}, nodeArgs: readonly string[] = [], existingDataDir?: string): Promise<BenchServer> {
  const dataDir = existingDataDir ?? mkdtempSync(path.join(os.tmpdir(), "kpki-bench-"));
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(root, "bin", "kpki.js"), "serve"], {
    env: { ...process.env, KPKI_DATA_DIR: dataDir, KPKI_LISTEN: "127.0.0.1:0", KPKI_BOOTSTRAP_TOKEN: BENCH_TOKEN, KPKI_LOG_LEVEL: "warn", KPKI_RATE_LIMIT_PER_ADDRESS: "0", KPKI_RATE_LIMIT_PER_PRINCIPAL: "0", ...env },
    // KPKI_BENCH_SERVER_LOG=FILE keeps the server's log (JSON lines) for diagnosing a failed run.
    stdio: ["ignore", process.env.KPKI_BENCH_SERVER_LOG === undefined ? "ignore" : openSync(process.env.KPKI_BENCH_SERVER_LOG, "a"), "pipe"],
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kpki serve did not start:\n${stderr}`)), 60_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /kpki: serving (https:\/\/\S+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`kpki serve exited with ${code}:\n${stderr}`)));
  });
  const pid = child.pid ?? 0;
  const kmip = /kpki: KMIP \(TTLV over mutual TLS\) on \S+:(\d+)/.exec(stderr);
  return {
    url,
    caBundle: readFileSync(path.join(dataDir, "ca-bundle.pem"), "utf8"),
    pid,
    dataDir,
    ...(kmip?.[1] === undefined ? {} : { kmipPort: Number(kmip[1]) }),
    cpuSeconds: () => processCpuSeconds(pid),
    stop: async (options = {}) => {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
      if (options.keepData !== true) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

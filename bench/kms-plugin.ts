/**
 * The KMS v2 plugin as kube-apiserver uses it: Encrypt and Decrypt of 32-byte seeds by a gRPC
 * client (from the upstream proto) over the unix socket, sequential and with 8 concurrent callers,
 * in both modes — in-process (the plugin on its own SQLite database) and remote (the plugin calling
 * a `kpki serve` process over HTTPS with keep-alive). ARCHITECTURE.md §5 target: p99 under 1 ms
 * in-process. The gRPC client runs in a process of its own (as kube-apiserver does) on the same
 * cores; in remote mode the REST server is a
 * separate process. The `baseline`
 * rows are the same plugin with a provider that answers at once: the cost of gRPC over the socket.
 */
import { randomBytes } from "node:crypto";
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openRuntime, type Runtime } from "../src/app.js";
import { loadConfig } from "../src/config/load-config.js";
import { LOCAL_OPERATOR } from "../src/core/access/index.js";
import { InProcessKekProvider, KekService, type KekProvider } from "../src/core/kms/index.js";
import { createLogger } from "../src/infra/logging/logger.js";
import { RemoteKekProvider } from "../src/infra/remote-kpki/remote-kek-provider.js";
import { startKmsPluginServer } from "../src/transports/kms-plugin/server.js";
import { createClient, formatSpread, RUNS } from "./https-client.js";
import type { KmsClientJob, KmsClientResult } from "./kms-client-process.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";
import type { Spread } from "./spread.js";
import { textTable } from "./table.js";

export interface KmsPluginFigure {
  /** `baseline`: the same plugin with a provider that answers at once (gRPC + the KMS v2 checks only). */
  readonly mode: "baseline" | "in-process" | "remote";
  readonly operation: "Encrypt" | "Decrypt";
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: Spread;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface KmsPluginBenchOptions {
  /** Length of each measured run (default 3000 ms). */
  readonly durationMs?: number;
  readonly concurrencies?: readonly number[];
}

const KEY = "bench-kek";
const WARM_UP_CALLS = 2000;
const DECRYPT_POOL = 256;

/** Runs the client side in a process of its own (bench/kms-client-process.ts) and waits for its results. */
function inClientProcess(job: KmsClientJob): Promise<KmsClientResult[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./kms-client-process.ts", import.meta.url)), { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (message: { results?: KmsClientResult[]; error?: string }) => {
      if (message.results !== undefined) resolve(message.results);
      else reject(new Error(`KMS v2 client process: ${message.error ?? "no result"}`));
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`KMS v2 client process exited with ${code} before answering`)));
    child.send(job);
  });
}

/** Runs every case against one plugin; the provider is already set up. */
async function measure(mode: KmsPluginFigure["mode"], provider: KekProvider, socketDir: string, options: Required<KmsPluginBenchOptions>): Promise<KmsPluginFigure[]> {
  const plugin = await startKmsPluginServer({ endpoint: `unix://${path.join(socketDir, `${mode}.sock`)}`, kek: new KekService(provider, KEY), logger: createLogger("silent") });
  const figures: KmsPluginFigure[] = [];
  try {
    const job: KmsClientJob = { socketPath: plugin.socketPath, warmUpCalls: WARM_UP_CALLS, decryptPool: DECRYPT_POOL, durationMs: options.durationMs, concurrencies: options.concurrencies, runs: RUNS };
    for (const { operation, concurrency, result } of await inClientProcess(job)) {
      figures.push({ mode, operation, concurrency, requests: result.requests, errors: result.errors, perSecond: result.perSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms });
    }
  } finally {
    await plugin.stop();
  }
  return figures;
}

export async function runKmsPluginBench(options: KmsPluginBenchOptions = {}): Promise<KmsPluginFigure[]> {
  const settings: Required<KmsPluginBenchOptions> = { durationMs: options.durationMs ?? 3000, concurrencies: options.concurrencies ?? [1, 8] };
  const socketDir = mkdtempSync(path.join(os.tmpdir(), "kpki-bench-kms-"));
  const figures: KmsPluginFigure[] = [];
  try {
    // In-process: the plugin opens the database itself (single-node mode).
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "kpki-bench-kms-data-"));
    let runtime: Runtime | undefined;
    try {
      const config = loadConfig({ KPKI_DATA_DIR: dataDir, DATABASE_URL: `file:${path.join(dataDir, "kpki.db")}`, KPKI_LOG_LEVEL: "silent" });
      runtime = await openRuntime(config, createLogger("silent"));
      await runtime.services.namedKeys.create({ principal: LOCAL_OPERATOR }, { name: KEY });
      const provider = new InProcessKekProvider({ namedKeys: runtime.services.namedKeys, keyName: KEY, context: { principal: { id: "kms-plugin:bench", displayName: "bench" } } });
      // The floor: transport and checks, with answers made once by the real provider.
      const fixed = await provider.encrypt(randomBytes(32));
      const baseline: KekProvider = { status: () => provider.status(), encrypt: async () => fixed, decrypt: async () => new Uint8Array(32) };
      figures.push(...(await measure("baseline", baseline, socketDir, settings)));
      figures.push(...(await measure("in-process", provider, socketDir, settings)));
    } finally {
      await runtime?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }

    // Remote: the plugin calls `kpki serve` (another process) over HTTPS.
    const server = await startBenchServer();
    const remote = new RemoteKekProvider({ serverUrl: server.url, token: BENCH_TOKEN, caCertPem: server.caBundle, keyName: KEY });
    try {
      const rest = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
      const created = await rest.call("POST", "/v1/keys", { name: KEY });
      rest.close();
      if (created.status !== 201) throw new Error(`creating ${KEY}: ${JSON.stringify(created.body)}`);
      figures.push(...(await measure("remote", remote, socketDir, settings)));
    } finally {
      remote.close();
      await server.stop();
    }
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
  return figures;
}

export function formatKmsPluginBench(figures: readonly KmsPluginFigure[]): string {
  const rows = [["mode", "operation", "conc.", "ops/s", "p50 ms", "p99 ms", "errors"]];
  for (const f of figures) rows.push([f.mode, f.operation, String(f.concurrency), formatSpread(f.perSecond), f.p50Ms.toFixed(3), f.p99Ms.toFixed(3), String(f.errors)]);
  return textTable(rows);
}

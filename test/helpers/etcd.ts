// A real etcd 3.4 (Debian etcd-server: /usr/bin/etcd, /usr/bin/etcdctl) on loopback with the TLS
// flags kubeadm's static pod uses (reference/kubernetes.md §1.6), for interop tests of the etcd
// certificates kpki signs. Random free ports, a temporary data dir, and every wait has a timeout;
// stopAllEtcd() (afterAll) stops whatever is still running and removes its data dir.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./kubeadm-checks.js";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** A running etcd member. */
export interface EtcdServer {
  /** https://127.0.0.1:<client port> */
  readonly clientUrl: string;
  /** https://127.0.0.1:<peer port> */
  readonly peerUrl: string;
  readonly peerPort: number;
  /** etcd's log (zap JSON lines on stderr) so far. */
  logs(): string;
  /** SIGTERM, SIGKILL after a timeout; removes the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The pki files etcd is started with (kubeadm's layout under --cert-dir). */
export interface EtcdPki {
  /** kubeadm's --cert-dir: etcd/server.*, etcd/peer.*, etcd/ca.crt below it. */
  readonly certDir: string;
}

const running = new Set<EtcdServer>();

/**
 * Starts a one-member etcd named `name` with kubeadm's flags: server and peer certificates,
 * client and peer certificate authentication against etcd/ca.crt. Resolves once etcd says it
 * serves client traffic over TLS; rejects (with its log) if it exits or does not get there.
 */
export async function startEtcd(options: { name: string; pki: EtcdPki; timeoutMs?: number }): Promise<EtcdServer> {
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), "kpki-etcd-"));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `https://127.0.0.1:${clientPort}`;
  const peerUrl = `https://127.0.0.1:${peerPort}`;
  const etcdDir = path.join(options.pki.certDir, "etcd");
  const args = [
    "--name", options.name,
    "--data-dir", path.join(dataRoot, "member"),
    "--listen-client-urls", clientUrl,
    "--advertise-client-urls", clientUrl,
    "--listen-peer-urls", peerUrl,
    "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", `${options.name}=${peerUrl}`,
    "--initial-cluster-state", "new",
    "--cert-file", path.join(etcdDir, "server.crt"),
    "--key-file", path.join(etcdDir, "server.key"),
    "--peer-cert-file", path.join(etcdDir, "peer.crt"),
    "--peer-key-file", path.join(etcdDir, "peer.key"),
    "--client-cert-auth",
    "--trusted-ca-file", path.join(etcdDir, "ca.crt"),
    "--peer-client-cert-auth",
    "--peer-trusted-ca-file", path.join(etcdDir, "ca.crt"),
    "--logger", "zap",
    "--log-outputs", "stderr",
  ];
  const child: ChildProcess = spawn("etcd", args, { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
  let exited = false;
  const closed = new Promise<void>((resolve) => {
    child.once("close", () => {
      exited = true;
      resolve();
    });
    child.once("error", (error) => {
      log += `\nspawn error: ${error.message}`;
      exited = true;
      resolve();
    });
  });
  let stopped = false;
  const server: EtcdServer = {
    clientUrl,
    peerUrl,
    peerPort,
    logs: () => log,
    stop: async () => {
      if (!stopped) {
        stopped = true;
        if (!exited) child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS)));
        if ((await Promise.race([closed, timeout])) === "timeout") {
          child.kill("SIGKILL");
          await closed;
        }
        clearTimeout(timer);
        running.delete(server);
      }
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
  running.add(server);
  const deadline = Date.now() + (options.timeoutMs ?? START_TIMEOUT_MS);
  // etcd 3.4 logs this once the TLS client listener is up (embed/serve.go).
  while (!/"msg":"serving client traffic securely"/.test(log)) {
    if (exited || Date.now() > deadline) {
      await server.stop();
      throw new Error(`etcd ${exited ? "exited" : `did not serve within ${options.timeoutMs ?? START_TIMEOUT_MS} ms`}: etcd ${args.join(" ")}\n${log.slice(-6000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return server;
}

/** Stops every etcd still running (afterAll). */
export async function stopAllEtcd(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

/** What an etcdctl run printed. */
export interface EtcdctlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `ETCDCTL_API=3 etcdctl --endpoints … --cacert … --cert … --key … <args>` with short dial and
 * command timeouts (default 5s; a client expected to be refused can pass "1s"), so a refused
 * client fails in seconds.
 */
export function etcdctl(options: { endpoint: string; cacert: string; cert: string; key: string; commandTimeout?: string }, args: readonly string[]): Promise<EtcdctlResult> {
  const timeout = options.commandTimeout ?? "5s";
  const argv = ["--endpoints", options.endpoint, "--cacert", options.cacert, "--cert", options.cert, "--key", options.key, "--dial-timeout", timeout, "--command-timeout", timeout, ...args];
  return new Promise((resolve) => {
    execFile("etcdctl", argv, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ETCDCTL_API: "3" }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

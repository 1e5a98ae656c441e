import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { DomainError } from "../../core/shared/domain-error.js";
import type { Logger } from "../../core/shared/logger.js";

/** Which file a bound socket is, so shutdown removes only its own (not one a successor created). */
export interface SocketIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** How long a connection attempt may take before the socket is taken to be in use. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Makes `socketPath` free to bind: creates the directory (0700) if missing; an existing socket
 * file nobody listens on (left by a process that died) is removed; a socket something listens on,
 * or a file that is not a socket, is refused — never taken over or deleted.
 */
export async function prepareSocketPath(socketPath: string, logger: Logger): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const stats = await lstat(socketPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new DomainError("conflict", `${socketPath} exists and is not a socket; refusing to replace it`, { field: "listen" });
  if (await isListening(socketPath)) {
    throw new DomainError("conflict", `${socketPath} is in use: another process is listening on it (is another kms-plugin running?); refusing to start`, { field: "listen" });
  }
  await unlink(socketPath);
  logger.warn({ socket: socketPath }, "removed a stale socket file left by a previous run");
}

/** Restricts the bound socket to its owner (0600) and records which file it is. */
export async function claimSocket(socketPath: string): Promise<SocketIdentity> {
  await chmod(socketPath, 0o600);
  const stats = await lstat(socketPath);
  return { dev: stats.dev, ino: stats.ino };
}

/** Removes the socket file if it is still the one this process bound. */
export async function releaseSocket(socketPath: string, identity: SocketIdentity): Promise<void> {
  const stats = await lstat(socketPath).catch(() => undefined);
  if (stats?.isSocket() === true && stats.dev === identity.dev && stats.ino === identity.ino) await unlink(socketPath).catch(() => undefined);
}

/** Whether a process accepts connections on the socket (ECONNREFUSED: a stale file). */
function isListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const done = (outcome: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(() => done(() => resolve(true)), PROBE_TIMEOUT_MS);
    socket.once("connect", () => done(() => resolve(true)));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      done(() => {
        if (error.code === "ECONNREFUSED" || error.code === "ENOENT") resolve(false);
        else reject(new DomainError("permission_denied", `cannot check whether ${socketPath} is in use: ${error.code ?? error.message}`, { field: "listen" }));
      }),
    );
  });
}

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Server, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { KekService } from "../../core/kms/index.js";
import type { Logger } from "../../core/shared/logger.js";
import { parseUnixEndpoint } from "./endpoint.js";
import { kmsV2Handlers } from "./kms-v2-service.js";
import { claimSocket, prepareSocketPath, releaseSocket } from "./socket-file.js";

/** What the plugin needs; the composition root provides it. */
export interface KmsPluginServerOptions {
  /** `unix:///path/socket.sock`, as in EncryptionConfiguration's `endpoint`. */
  readonly endpoint: string;
  readonly kek: KekService;
  readonly logger: Logger;
  /** How long stop() lets in-flight calls finish before cancelling them (default 10 s). */
  readonly shutdownGraceMs?: number;
}

/** A listening plugin. */
export interface RunningKmsPlugin {
  readonly socketPath: string;
  /** Stops accepting calls, lets in-flight ones finish (up to the grace period), removes the socket. */
  stop(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/**
 * Largest request accepted. kube-apiserver's largest is a Decrypt with 32 KiB of annotations and
 * 1 KiB each of ciphertext and key_id; a little more gets to the limit checks, which say what is
 * wrong, instead of gRPC's bare RESOURCE_EXHAUSTED.
 */
const MAX_REQUEST_BYTES = 256 * 1024;

/** `proto/kms/v2/api.proto` of this package, found from this module whether run from src/ or dist/. */
export function kmsV2ProtoPath(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "proto", "kms", "v2", "api.proto");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`proto/kms/v2/api.proto not found above ${fileURLToPath(import.meta.url)}`);
  }
}

/** `v2.KeyManagementService` from the upstream proto; field names as in the proto (keepCase). */
function kmsV2Service(): ServiceDefinition {
  const definitions = loadSync(kmsV2ProtoPath(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const service = definitions["v2.KeyManagementService"];
  if (service === undefined || !("Status" in service && "Encrypt" in service && "Decrypt" in service)) throw new Error("api.proto does not define v2.KeyManagementService");
  return service;
}

/**
 * Serves the Kubernetes KMS v2 plugin API on a unix socket: a stale socket file is replaced, a
 * socket in use refused; the socket is created 0600 and removed again on stop.
 */
export async function startKmsPluginServer(options: KmsPluginServerOptions): Promise<RunningKmsPlugin> {
  const { logger } = options;
  const socketPath = parseUnixEndpoint(options.endpoint);
  await prepareSocketPath(socketPath, logger);
  const server = new Server({ "grpc.max_receive_message_length": MAX_REQUEST_BYTES });
  server.addService(kmsV2Service(), kmsV2Handlers(options.kek, logger));
  // Created with mode 0600 (no window where another user could connect); chmod'ed again below.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (error) => (error === null ? resolve() : reject(error)));
    });
  } finally {
    process.umask(umask);
  }
  const identity = await claimSocket(socketPath);
  logger.info({ socket: socketPath, key: options.kek.keyName }, "KMS v2 plugin listening");
  let stopping: Promise<void> | undefined;
  return {
    socketPath,
    stop: () =>
      (stopping ??= (async () => {
        const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        const finished = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), grace);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!finished) {
          logger.warn({ graceMs: grace }, "KMS plugin calls still running after the grace period: cancelling them");
          server.forceShutdown();
        }
        await releaseSocket(socketPath, identity);
        logger.info({ socket: socketPath }, "KMS v2 plugin stopped");
      })()),
  };
}

import path from "node:path";
import { DomainError } from "../../core/shared/domain-error.js";

/** Longest path a unix socket address holds on Linux (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The socket path of a `unix:///absolute/path.sock` endpoint — the form EncryptionConfiguration's
 * `endpoint` takes (k8s.io/kms `util.ParseEndpoint`; `unix:/path` is the same URL). Linux abstract
 * sockets (`unix:///@name`) are refused: gRPC for Node cannot listen on them, and they have no
 * file permissions to protect the plugin.
 */
export function parseUnixEndpoint(endpoint: string): string {
  const socketPath = endpoint.startsWith("unix:///") ? endpoint.slice("unix://".length) : /^unix:\/[^/]/.test(endpoint) ? endpoint.slice("unix:".length) : undefined;
  if (socketPath === undefined) throw invalid(`expected unix:///absolute/path.sock, got ${JSON.stringify(endpoint)}`);
  if (socketPath.startsWith("/@")) throw invalid("abstract unix sockets (unix:///@name) are not supported: use a path, e.g. unix:///var/run/kmsplugin/socket.sock");
  if (socketPath.includes("\0")) throw invalid("the path contains a NUL character");
  const normalized = path.normalize(socketPath);
  if (Buffer.byteLength(normalized, "utf8") > MAX_SOCKET_PATH_BYTES) throw invalid(`the socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of unix sockets`);
  return normalized;
}

function invalid(message: string): DomainError {
  return new DomainError("invalid_input", `--listen: ${message}`, { field: "listen" });
}

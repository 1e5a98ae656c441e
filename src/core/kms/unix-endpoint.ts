import path from "node:path";

/** Longest path a unix socket address holds on Linux (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The socket path of a KMS plugin endpoint `unix:///absolute/path.sock` — the form
 * EncryptionConfiguration's `endpoint` takes (reference §3.1: k8s.io/kms `util.ParseEndpoint` accepts
 * only unix URLs; `unix:/path` is the same URL) — or why it is not one kpki can serve. Linux abstract
 * sockets (`unix:///@name`) are refused: gRPC for Node cannot listen on them, and they have no file
 * permissions to protect the plugin.
 */
export function unixEndpointSocketPath(endpoint: string): { readonly socketPath: string } | { readonly problem: string } {
  const socketPath = endpoint.startsWith("unix:///") ? endpoint.slice("unix://".length) : /^unix:\/[^/]/.test(endpoint) ? endpoint.slice("unix:".length) : undefined;
  if (socketPath === undefined) return { problem: `expected unix:///absolute/path.sock, got ${JSON.stringify(endpoint)}` };
  if (socketPath.startsWith("/@")) return { problem: "abstract unix sockets (unix:///@name) are not supported: use a path, e.g. unix:///var/run/kmsplugin/socket.sock" };
  if (socketPath.includes("\0")) return { problem: "the path contains a NUL character" };
  const normalized = path.normalize(socketPath);
  if (Buffer.byteLength(normalized, "utf8") > MAX_SOCKET_PATH_BYTES) return { problem: `the socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of unix sockets` };
  return { socketPath: normalized };
}

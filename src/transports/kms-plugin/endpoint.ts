import { unixEndpointSocketPath } from "../../core/kms/index.js";
import { DomainError } from "../../core/shared/domain-error.js";

/**
 * The socket path of a `unix:///absolute/path.sock` endpoint — the form EncryptionConfiguration's
 * `endpoint` takes; the rules are core/kms's, shared with the EncryptionConfiguration renderer.
 */
export function parseUnixEndpoint(endpoint: string): string {
  const parsed = unixEndpointSocketPath(endpoint);
  if ("problem" in parsed) throw new DomainError("invalid_input", `--listen: ${parsed.problem}`, { field: "listen" });
  return parsed.socketPath;
}

import { invalidInput } from "../shared/domain-error.js";
import { x509 } from "../pki/index.js";

/**
 * A SAN given as a bare string, as kubeadm's certSANs: an IP address becomes an IP SAN, an RFC 1123
 * (or wildcard) name a DNS SAN; anything else is refused (kubeadm drops it with a warning — a
 * service that issues under policy should say so instead).
 */
export function sanFromText(text: string, field: string): x509.GeneralName {
  const octets = x509.parseIpAddress(text);
  if (octets !== undefined) return { type: "ip", value: x509.formatIpAddress(octets) };
  const problem = x509.dnsNameProblem(text);
  if (problem !== undefined) throw invalidInput(field, `${problem} (expected an IP address or a DNS name)`);
  return { type: "dns", value: text.toLowerCase() };
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address, split; undefined if malformed. */
function splitEndpoint(endpoint: string): { host: string; port?: number } | undefined {
  if (endpoint.split(":").length > 2 && !endpoint.startsWith("[")) return { host: endpoint };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(endpoint);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined) return undefined;
  return match?.[3] === undefined ? { host } : { host, port: Number(match[3]) };
}

/** The host part of a controlPlaneEndpoint. */
export function endpointHost(endpoint: string): string {
  return splitEndpoint(endpoint)?.host ?? endpoint;
}

/** Checks a controlPlaneEndpoint (`host` or `host:port`, host an IP or DNS name). */
export function assertEndpoint(endpoint: string, field: string): void {
  const parts = splitEndpoint(endpoint);
  if (parts === undefined) throw invalidInput(field, `"${endpoint}" is not host or host:port`);
  if (parts.port !== undefined && (parts.port < 1 || parts.port > 65535)) throw invalidInput(field, "port must be 1–65535");
  sanFromText(parts.host, field);
}

/**
 * The first usable address of a CIDR (network address + 1): the API server's service IP, which
 * kubeadm puts into the apiserver certificate (reference §1.3: index 1 of the first serviceSubnet).
 */
export function firstServiceIp(cidr: string, field: string): string {
  const [address, bitsText] = cidr.split("/");
  const octets = address === undefined ? undefined : x509.parseIpAddress(address);
  const bits = Number(bitsText);
  if (octets === undefined || bitsText === undefined || !Number.isInteger(bits) || bits < 0 || bits > octets.length * 8 - 2) {
    throw invalidInput(field, `"${cidr}" is not a CIDR with room for a service IP (e.g. 10.96.0.0/12)`);
  }
  const network = Uint8Array.from(octets, (byte, index) => {
    const keep = Math.max(0, Math.min(8, bits - index * 8));
    return byte & (0xff << (8 - keep)) & 0xff;
  });
  for (let i = network.length - 1; i >= 0; i--) {
    const next = (network[i] ?? 0) + 1;
    network[i] = next & 0xff;
    if (next <= 0xff) break;
  }
  return x509.formatIpAddress(network);
}

/** Kubernetes node names are DNS subdomains (RFC 1123), lower case, ≤ 253 characters. */
export function assertNodeName(name: string, field = "node"): void {
  if (name.length > 253 || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) {
    throw invalidInput(field, `"${name}" is not a valid node name (lower-case RFC 1123 subdomain)`);
  }
}

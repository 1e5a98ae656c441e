import { isIPv6 } from "node:net";
import type { Request, RequestHandler, Response } from "express";
import { sendProblem } from "./error-response.js";
import { requestState } from "./request-state.js";
import { TokenBuckets, type RateLimit } from "./token-buckets.js";

/** The request rates the REST API admits (per process; see TokenBuckets). Unset: no limit. */
export interface HttpRateLimits {
  readonly perAddress?: RateLimit;
  readonly perPrincipal?: RateLimit;
}

/**
 * The bucket a source address counts against: an IPv4 address, or the /64 of an IPv6 address. One
 * IPv6 host usually holds a whole /64 (RFC 4291 §2.5.1, SLAAC), so counting single addresses would
 * let it pick a fresh one per request. The socket's address, never X-Forwarded-For: behind a proxy
 * every client shares the proxy's address.
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!isIPv6(address)) return address;
  // The URL parser writes an IPv6 address in its canonical form (RFC 5952: lower case, hex groups, "::").
  const canonical = new URL(`http://[${address.replace(/%.*$/, "")}]/`).hostname.slice(1, -1);
  const [head = "", tail = ""] = canonical.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const groups = canonical.includes("::") ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups] : headGroups;
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** 429 Too Many Requests (RFC 6585 §4) with Retry-After in seconds (RFC 9110 §10.2.3). */
function limited(buckets: TokenBuckets, keyOf: (req: Request, res: Response) => string | undefined, what: string): RequestHandler {
  return (req, res, next) => {
    const key = keyOf(req, res);
    const result = key === undefined ? { allowed: true as const } : buckets.take(key);
    if (result.allowed) {
      next();
      return;
    }
    sendProblem(res, {
      status: 429,
      code: "limit_exceeded",
      detail: `too many requests from this ${what}; retry after ${result.retryAfterSeconds} s`,
      headers: { "Retry-After": String(result.retryAfterSeconds) },
    });
  };
}

/** Counts every request, authenticated or not, against its source address: runs before authentication, so a flood of bad tokens is limited too. */
export function limitBySourceAddress(limit: RateLimit): RequestHandler {
  return limited(new TokenBuckets(limit), (req) => sourceKey(req.socket.remoteAddress), "address");
}

/** Counts an authenticated caller's requests against its principal (every replica of it, from any address). Anonymous requests count only by address. */
export function limitByPrincipal(limit: RateLimit): RequestHandler {
  return limited(
    new TokenBuckets(limit),
    (_req, res) => {
      const principal = requestState(res).principal;
      return principal.kind === "anonymous" ? undefined : principal.id;
    },
    "principal",
  );
}

import { Agent, request } from "node:https";
import { DomainError, type ErrorCode } from "../../core/shared/domain-error.js";

/** Where a remote kpki is and how to authenticate to it. */
export interface KpkiServerOptions {
  /** `https://host:port` of `kpki serve`. */
  readonly serverUrl: string;
  /** Bearer API token. Never logged, never part of an error message. */
  readonly token: string;
  /** PEM CA bundle to trust for the server certificate (default: the system's). */
  readonly caCertPem?: string;
  /** Deadline of one request, connection included (default 2500 ms, under kube-apiserver's 3 s). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2_500;
/** The largest answer read; the key service's JSON answers here are a few hundred bytes. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const ERROR_CODES: readonly ErrorCode[] = [
  "invalid_input",
  "not_found",
  "already_exists",
  "conflict",
  "policy_violation",
  "wrong_state",
  "unauthenticated",
  "permission_denied",
  "limit_exceeded",
  "unsupported",
  "unavailable",
  "internal",
];

/**
 * A small JSON client for the kpki REST API: one keep-alive HTTPS agent (the plugin's calls reuse
 * warm TLS connections), a deadline per request, and failures as DomainErrors — the server's
 * problem+json code as it is, a transport failure as `unavailable`.
 */
export class KpkiHttpClient {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly timeoutMs: number;
  readonly #authorization: string;

  constructor(options: KpkiServerOptions) {
    this.base = new URL(options.serverUrl);
    if (this.base.protocol !== "https:") throw new DomainError("invalid_input", `server: must be an https:// URL, got ${this.base.protocol}//…`, { field: "server" });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#authorization = `Bearer ${options.token}`;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, minVersion: "TLSv1.2", ...(options.caCertPem === undefined ? {} : { ca: options.caCertPem }) });
  }

  /** `https://host:port`, for messages. */
  get origin(): string {
    return this.base.origin;
  }

  /** Sends a JSON request and returns the parsed JSON answer (2xx), or throws a DomainError. */
  async json(method: "GET" | "POST", path: string, body?: unknown, requestId?: string): Promise<unknown> {
    try {
      return await this.once(method, path, body, requestId);
    } catch (error) {
      // A kept-alive connection the server closed meanwhile (e.g. it restarted): try once on a new one.
      if (error instanceof StaleConnectionError) return this.once(method, path, body, requestId);
      throw error;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private once(method: string, path: string, body: unknown, requestId: string | undefined): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), "utf8");
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const req = request(
        new URL(path, this.base),
        {
          method,
          agent: this.agent,
          headers: {
            Accept: "application/json",
            Authorization: this.#authorization,
            ...(requestId === undefined || requestId === "" ? {} : { "X-Request-Id": requestId }),
            ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": String(payload.length) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new DomainError("internal", `${this.base.origin} answered more than ${MAX_RESPONSE_BYTES} bytes`));
            else chunks.push(chunk);
          });
          res.on("error", (error) => finish(() => reject(this.transportError(error))));
          res.on("end", () =>
            finish(() => {
              const status = res.statusCode ?? 0;
              const text = Buffer.concat(chunks).toString("utf8");
              if (status >= 200 && status < 300) {
                try {
                  resolve(text === "" ? undefined : (JSON.parse(text) as unknown));
                } catch {
                  reject(new DomainError("internal", `${this.base.origin}${path} answered HTTP ${status} with a body that is not JSON`));
                }
              } else reject(problemError(status, text, method, path));
            }),
          );
        },
      );
      const timer = setTimeout(() => req.destroy(new DomainError("unavailable", `no answer from ${this.base.origin} within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on("error", (error: NodeJS.ErrnoException) =>
        finish(() => reject(req.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE") ? new StaleConnectionError() : this.transportError(error))),
      );
      req.end(payload);
    });
  }

  private transportError(error: Error & { code?: string }): DomainError {
    if (error instanceof DomainError) return error;
    const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(error.code ?? "") ? " (is the CA bundle right?)" : "";
    return new DomainError("unavailable", `cannot reach kpki at ${this.base.origin}: ${error.code ?? error.message}${hint}`, {}, { cause: error });
  }
}

/** A request that failed on a reused keep-alive connection before any answer: safe to send again. */
class StaleConnectionError extends Error {}

/** The server's problem+json (`code`, `detail`) as a DomainError; the HTTP status decides when there is no code. */
function problemError(status: number, text: string, method: string, path: string): DomainError {
  let problem: { code?: unknown; detail?: unknown; field?: unknown; kmipResultReason?: unknown } = {};
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    // not problem+json (a proxy's page): fall back on the status
  }
  const code = typeof problem.code === "string" && (ERROR_CODES as readonly string[]).includes(problem.code) ? (problem.code as ErrorCode) : codeOfStatus(status);
  const detail = typeof problem.detail === "string" ? problem.detail : `HTTP ${status}`;
  return new DomainError(code, `kpki ${method} ${path}: ${detail}`, {
    ...(typeof problem.field === "string" ? { field: problem.field } : {}),
    ...(typeof problem.kmipResultReason === "string" ? { reason: problem.kmipResultReason } : {}),
  });
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return "unauthenticated";
  if (status === 403) return "permission_denied";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 413) return "limit_exceeded";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "invalid_input";
  return "internal";
}

import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { CliError, EXIT, exitCodeFor } from "./exit-codes.js";

/** Where and how to reach a kpki server. */
export interface RemoteOptions {
  readonly server: string;
  readonly token?: string;
  /** PEM bundle of CAs to trust for the server's certificate. */
  readonly caCertPem?: string;
}

/** A response body: parsed JSON, or text for PEM downloads. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Largest response the CLI reads (an inventory page of 500 certificates is well below). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * Resolves --server/--token/--token-file/--ca-cert, falling back to KPKI_SERVER, KPKI_TOKEN,
 * KPKI_TOKEN_FILE, KPKI_CA_CERT and finally https://localhost:8443 with ./data/ca-bundle.pem.
 */
export function resolveRemote(options: { server?: string; token?: string; tokenFile?: string; caCert?: string }, env: NodeJS.ProcessEnv): RemoteOptions {
  const server = options.server ?? env.KPKI_SERVER ?? "https://localhost:8443";
  if (!/^https:\/\/[^/]+/.test(server)) throw new CliError(`--server must be an https:// URL, got ${server}`, EXIT.usage);
  const tokenFile = options.tokenFile ?? env.KPKI_TOKEN_FILE;
  let token = options.token ?? env.KPKI_TOKEN;
  if (token === undefined && tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch {
      throw new CliError(`cannot read the token file ${tokenFile}`, EXIT.usage);
    }
  }
  const caCert = options.caCert ?? env.KPKI_CA_CERT ?? (existsSync("data/ca-bundle.pem") ? "data/ca-bundle.pem" : undefined);
  let caCertPem: string | undefined;
  if (caCert !== undefined) {
    try {
      caCertPem = readFileSync(caCert, "utf8");
    } catch {
      throw new CliError(`cannot read the CA certificate file ${caCert}`, EXIT.usage);
    }
  }
  return { server: server.replace(/\/+$/, ""), ...(token === undefined || token === "" ? {} : { token }), ...(caCertPem === undefined ? {} : { caCertPem }) };
}

/** A small HTTPS client for the kpki REST API; problem+json answers become CliErrors. */
export class ApiClient {
  constructor(private readonly remote: RemoteOptions) {}

  async json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: ApiResponse["headers"] }> {
    const response = await this.send(method, path, body, { Accept: "application/json", ...headers });
    return { status: response.status, body: (response.text === "" ? undefined : JSON.parse(response.text)) as T, headers: response.headers };
  }

  async text(path: string, accept: string): Promise<string> {
    return (await this.send("GET", path, undefined, { Accept: accept })).text;
  }

  private send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<ApiResponse> {
    const url = new URL(path, this.remote.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: {
            ...headers,
            ...(this.remote.token === undefined ? {} : { Authorization: `Bearer ${this.remote.token}` }),
            ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": String(payload.length) }),
          },
          ...(this.remote.caCertPem === undefined ? {} : { ca: this.remote.caCertPem }),
          minVersion: "TLSv1.2",
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new CliError("response too large", EXIT.failure));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status >= 400) {
              reject(problemError(status, text));
              return;
            }
            resolve({ status, headers: res.headers, text });
          });
        },
      );
      req.on("timeout", () => req.destroy(new CliError(`no answer from ${this.remote.server} within 60 s`, EXIT.unavailable)));
      req.on("error", (error: Error & { code?: string }) => {
        if (error instanceof CliError) {
          reject(error);
          return;
        }
        const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(error.code ?? "") ? " (pass --ca-cert data/ca-bundle.pem or set KPKI_CA_CERT)" : "";
        reject(new CliError(`cannot reach ${this.remote.server}: ${error.message}${hint}`, EXIT.unavailable));
      });
      req.end(payload);
    });
  }
}

/** The server's problem+json as one line and the matching exit code. */
function problemError(status: number, text: string): CliError {
  try {
    const problem = JSON.parse(text) as { code?: string; detail?: string; title?: string };
    return new CliError(`${problem.detail ?? problem.title ?? `HTTP ${status}`} (${problem.code ?? status})`, exitCodeFor(problem.code ?? ""));
  } catch {
    return new CliError(`HTTP ${status}: ${text.slice(0, 200)}`, status >= 500 ? EXIT.failure : EXIT.usage);
  }
}

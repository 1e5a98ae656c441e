import type { Socket } from "node:net";
import type { RequestHandler } from "express";
import { sendProblem } from "./error-response.js";

/** Largest request head (request line + header fields) Node's parser accepts; longer → 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Most header fields a request may carry (a browser sends about 20, curl 3). */
export const MAX_REQUEST_HEADERS = 100;

/**
 * Node's parser keeps only the first `server.maxHeadersCount` fields and drops the rest silently,
 * so the server admits one more than the limit and this refuses a request that reached it: 431
 * (RFC 6585 §5) instead of answering a request whose later headers were thrown away.
 */
export function limitHeaderCount(): RequestHandler {
  return (req, res, next) => {
    if (req.rawHeaders.length / 2 <= MAX_REQUEST_HEADERS) {
      next();
      return;
    }
    sendProblem(res, { status: 431, code: "limit_exceeded", detail: `a request may carry at most ${MAX_REQUEST_HEADERS} header fields` });
  };
}

/** The answer to a request Node's parser refused before any handler ran, by its error code. */
const PARSER_REFUSALS: Readonly<Record<string, { status: number; title: string; code: string; detail: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: "Request Header Fields Too Large", code: "limit_exceeded", detail: `the request head is larger than ${MAX_HEADER_BYTES} bytes` },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: "Request Timeout", code: "limit_exceeded", detail: "the request was not received in time" },
};

/**
 * `clientError` handler: what Node does by default (431 for an oversized head, 408 for a timeout,
 * 400 otherwise, then close), with a problem+json body (RFC 9457) like every other refusal.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const refusal = PARSER_REFUSALS[error.code ?? ""] ?? { status: 400, title: "Bad Request", code: "invalid_input", detail: "the request is not valid HTTP/1.1" };
  const body = JSON.stringify({ type: `urn:kpki:problem:${refusal.code}`, title: refusal.title, status: refusal.status, detail: refusal.detail, code: refusal.code });
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

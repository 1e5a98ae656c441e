import { createServer, type Server } from "node:https";
import type { Express } from "express";
import { answerClientError, MAX_HEADER_BYTES, MAX_REQUEST_HEADERS } from "./header-limits.js";

/** PEM material for the listener. */
export interface TlsMaterial {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** CAs a client certificate is verified against (the service's own chain: its internal CA and root). */
  readonly clientCaPem: readonly string[];
}

/**
 * HTTPS with TLS 1.2 as the floor (1.0/1.1 are deprecated by RFC 8996). Client certificates are
 * requested but not required (token clients present none); one that is presented is verified
 * against `clientCaPem` and, if it fails, refused per request with 401 (authenticate.ts) rather
 * than in the handshake, so the client learns why. Header and request timeouts bound slow clients;
 * the head's size and field count are capped (header-limits.ts).
 */
export function createHttpsServer(app: Express, tls: TlsMaterial): Server {
  const server = createServer(
    {
      cert: tls.certificateChainPem,
      key: tls.privateKeyPem,
      minVersion: "TLSv1.2",
      requestCert: true,
      rejectUnauthorized: false,
      ca: [...tls.clientCaPem],
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    app,
  );
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
  server.on("clientError", answerClientError);
  return server;
}

import { createServer, type TLSSocket } from "node:tls";
import type { Logger } from "../../core/shared/logger.js";
import { ClientCertificateError, clientPrincipal } from "../../core/access/index.js";
import type { KmipConnectionMetrics } from "./connection-metrics.js";
import { KmipConnection, type ConnectionLimits } from "./kmip-connection.js";
import type { KmipProcessor } from "./kmip-processor.js";

/** What the KMIP listener needs; the composition root provides it. */
export interface KmipServerOptions {
  readonly host: string | undefined;
  readonly port: number;
  /** The service's TLS certificate and chain, and its key (the same identity as HTTPS). */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** Trust anchors for client certificates: kpki's internal CA and the root above it. */
  readonly trustedCaPem: readonly string[];
  /** The internal CA certificate that must have issued each client certificate. */
  readonly clientIssuerDer: Uint8Array;
  readonly processor: KmipProcessor;
  readonly logger: Logger;
  /** Connection counts for /metrics (none when absent). */
  readonly metrics?: KmipConnectionMetrics;
  readonly limits: ConnectionLimits & {
    /** Connections accepted at once; more are refused by the listener. */
    readonly maxConnections: number;
  };
}

/** A listening KMIP server. */
export interface RunningKmipServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, lets each connection finish its message in flight, then closes it. */
  stop(): Promise<void>;
}

/** How long stop() waits for connections to finish before cutting them. */
const STOP_GRACE_MS = 5_000;

/**
 * KMIP over TLS (KMIP 1.4 Profiles §3.1 Basic Authentication Suite / 2.0 TLS profiles): TLS 1.2
 * and 1.3, a client certificate required and verified against kpki's CAs, then mapped to a
 * principal with the roles REST uses.
 */
export async function startKmipServer(options: KmipServerOptions): Promise<RunningKmipServer> {
  const { logger, limits } = options;
  const connections = new Set<KmipConnection>();
  let counter = 0;
  const server = createServer(
    {
      cert: options.certificateChainPem,
      key: options.privateKeyPem,
      ca: [...options.trustedCaPem],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      handshakeTimeout: 10_000,
    },
    (socket: TLSSocket) => {
      const id = `kmip-${++counter}`;
      let client: { principal: ReturnType<typeof clientPrincipal> } | { refusal: string };
      try {
        const certificate = socket.getPeerX509Certificate();
        if (certificate === undefined) throw new ClientCertificateError("no client certificate");
        client = { principal: clientPrincipal(certificate.raw, options.clientIssuerDer) };
      } catch (error) {
        if (!(error instanceof ClientCertificateError)) logger.warn({ connection: id, err: error }, "KMIP: client certificate could not be read");
        client = { refusal: error instanceof ClientCertificateError ? error.message : "the client certificate could not be read" };
      }
      logger.debug({ connection: id, principal: "principal" in client ? client.principal.id : undefined, protocol: socket.getProtocol() }, "KMIP: connection");
      const connection = new KmipConnection(socket, client, options.processor, limits, logger, id);
      connections.add(connection);
      options.metrics?.opened();
      socket.once("close", () => {
        connections.delete(connection);
        options.metrics?.closed();
      });
      connection.start();
    },
  );
  server.maxConnections = limits.maxConnections;
  // Past the limit Node closes the new socket before TLS (the client's handshake fails); say so,
  // or an operator only sees clients that cannot connect.
  server.on("drop", (dropped?: { remoteAddress?: string }) => logger.warn({ remoteAddress: dropped?.remoteAddress, maxConnections: limits.maxConnections }, "KMIP: connection refused, KPKI_KMIP_MAX_CONNECTIONS reached"));
  server.on("tlsClientError", (error) => logger.debug({ err: error.message }, "KMIP: TLS handshake failed"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address : { address: options.host ?? "::", port: options.port };
  return {
    host: bound.address,
    port: bound.port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.finish();
      const timer = setTimeout(() => {
        for (const connection of connections) connection.abort();
      }, STOP_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  };
}

import type { Server } from "node:https";
import type { Logger } from "../../core/shared/logger.js";

/**
 * Stops accepting connections and resolves once every accepted request has been answered; requests
 * still running after `graceMillis` have their connections closed. `server.close()` closes the
 * listener and the idle keep-alive connections; responses from then on carry `Connection: close`
 * (RFC 9112 §9.6), so a keep-alive connection busy at that moment closes after its response instead
 * of holding the drain open until its keep-alive timeout.
 */
export function drainHttpsServer(server: Server, options: { readonly logger: Logger; readonly graceMillis: number }): Promise<void> {
  return new Promise((resolve) => {
    server.prependListener("request", (_req, res) => res.setHeader("Connection", "close"));
    const cut = setTimeout(() => {
      options.logger.warn({ graceMillis: options.graceMillis }, "shutdown: HTTP requests still running after the grace period; closing their connections");
      server.closeAllConnections();
    }, options.graceMillis);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
  });
}

import type { Server } from "node:https";
import { buildHttpApp, prepareService, serviceTlsMaterial } from "../../src/app.js";
import type { Config } from "../../src/config/config.js";
import { createHttpsServer } from "../../src/transports/http/https-server.js";
import type { TestRuntime } from "./runtime.js";

/** A test runtime's services behind the HTTPS listener `kpki serve` uses, on `::` (IPv4 and IPv6 loopback). */
export interface HttpsListener {
  /** https://127.0.0.1:PORT */
  readonly v4: string;
  /** https://[::1]:PORT */
  readonly v6: string;
  close(): Promise<void>;
}

/**
 * Listens with the runtime's services over real HTTPS (createHttpsServer around buildHttpApp, the
 * service's own TLS identity), with `config` changed for this listener only (e.g. rate limits).
 */
export async function listenHttps(t: TestRuntime, config: Partial<Config> = {}): Promise<HttpsListener> {
  const { identity } = await prepareService(t.runtime);
  const app = buildHttpApp({ ...t.runtime, config: { ...t.runtime.config, ...config } });
  const server: Server = createHttpsServer(app, await serviceTlsMaterial(t.runtime, identity));
  await new Promise<void>((resolve) => server.listen(0, "::", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    v4: `https://127.0.0.1:${port}`,
    v6: `https://[::1]:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

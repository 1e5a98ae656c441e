// The composition root: the only place that constructs adapters and wires them into services.
import { webcrypto } from "node:crypto";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Server } from "node:https";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { Config } from "./config/config.js";
import { LOCAL_OPERATOR, SYSTEM, TokenService } from "./core/access/index.js";
import { BootstrapService, INTERNAL_CA_NAME, ROOT_CA_NAME } from "./core/bootstrap/bootstrap-service.js";
import { ResealService } from "./core/crypto/reseal-service.js";
import {
  AuthorityImportService,
  CertificateInventory,
  GENERIC_PROFILES,
  HierarchyService,
  IssuanceService,
  ProfileCatalog,
  ServiceIdentityService,
  x509,
} from "./core/pki/index.js";
import type { Clock } from "./core/shared/clock.js";
import type { Logger } from "./core/shared/logger.js";
import { EphemeralKeyPool } from "./infra/crypto/ephemeral-key-pool.js";
import { createMasterKeyRing, type MasterKey } from "./infra/crypto/master-key.js";
import { MASTER_KEY_CHECK_SETTING, createMasterKeyCheck } from "./infra/crypto/master-key-check.js";
import { NodeRandomSource } from "./infra/crypto/node-random.js";
import { WebCryptoBackend } from "./infra/crypto/webcrypto-backend.js";
import { openStorage, type OpenStorage } from "./infra/open-storage.js";
import { PrismaUnitOfWork } from "./infra/prisma/prisma-unit-of-work.js";
import { createHttpApp } from "./transports/http/server.js";
import { createHttpsServer } from "./transports/http/https-server.js";
import { loadOpenApiDocument } from "./transports/http/openapi-document.js";

/** The wall clock. */
const systemClock: Clock = { now: () => new Date() };

/** The wired services, shared by every transport. */
export interface Services {
  readonly hierarchy: HierarchyService;
  readonly authorityImport: AuthorityImportService;
  readonly issuance: IssuanceService;
  readonly inventory: CertificateInventory;
  readonly profiles: ProfileCatalog;
  readonly tokens: TokenService;
  readonly serviceIdentity: ServiceIdentityService;
  readonly bootstrap: BootstrapService;
}

/** An opened installation: storage, crypto and services, ready for a transport. */
export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly storage: OpenStorage;
  readonly crypto: WebCryptoBackend;
  readonly uow: PrismaUnitOfWork;
  readonly clock: Clock;
  readonly services: Services;
  close(): Promise<void>;
}

/** Opens storage (verifying the master key, migrating) and wires the services. */
export async function openRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const random = new NodeRandomSource();
  const storage = await openStorage(config, { logger, random });
  const crypto = new WebCryptoBackend({ crypto: webcrypto, keyRing: storage.keyRing, random });
  const keyPool = new EphemeralKeyPool();
  keyPool.start();
  const uow = new PrismaUnitOfWork(storage.db, storage.target.provider);
  const clock = systemClock;
  const profiles = new ProfileCatalog(GENERIC_PROFILES);
  const base = { uow, crypto, clock, random };
  const hierarchy = new HierarchyService(base);
  const issuance = new IssuanceService({ ...base, profiles, ephemeralKeys: keyPool });
  const tokens = new TokenService({ uow, clock, random });
  const services: Services = {
    hierarchy,
    authorityImport: new AuthorityImportService(base),
    issuance,
    inventory: new CertificateInventory({ uow, clock }),
    profiles,
    tokens,
    serviceIdentity: new ServiceIdentityService({ ...base, issuance }),
    bootstrap: new BootstrapService({
      uow,
      hierarchy,
      tokens,
      clock,
      instanceId: `${hostname()}:${process.pid}`,
      sleep: (millis) => sleep(millis),
      rootCaTtlSeconds: config.rootCaTtlDays * 86_400,
    }),
  };
  return {
    config,
    logger,
    storage,
    crypto,
    uow,
    clock,
    services,
    close: async () => {
      keyPool.stop();
      await storage.close();
    },
  };
}

/** A listening HTTPS service. */
export interface RunningService {
  readonly server: Server;
  /** https://host:port actually bound (port 0 picks a free one). */
  readonly url: string;
  /** The bootstrap admin token, when this start created a random one (print once). */
  readonly adminToken?: string;
  /** Stops accepting, finishes in-flight requests, closes storage. */
  stop(): Promise<void>;
}

/** The names the service's own TLS certificate carries. */
function serviceNames(config: Config): x509.GeneralName[] {
  const names = new Set(["localhost", "127.0.0.1", "::1", hostname().toLowerCase(), ...config.publicNames]);
  return [...names].flatMap((name) => {
    try {
      return [x509.parseGeneralNameText(/^[0-9.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`, "publicNames")];
    } catch {
      return []; // e.g. a host name with an underscore: not a valid DNS SAN, leave it out
    }
  });
}

/** Bootstraps on first start, obtains the service's TLS certificate and listens on `config.listen`. */
export async function startService(runtime: Runtime): Promise<RunningService> {
  const { config, logger, services } = runtime;
  const system = { principal: SYSTEM };
  const outcome = await services.bootstrap.ensureBootstrapped(system, config.bootstrapToken);
  if (outcome.performed) logger.info({ rootCa: ROOT_CA_NAME, internalCa: INTERNAL_CA_NAME }, "first start: created the root CA, the internal CA and the bootstrap admin token");
  const identity = await services.serviceIdentity.ensureTlsIdentity(system, { ca: INTERNAL_CA_NAME, names: serviceNames(config) });
  const privateKeyPem = x509.pemEncode("PRIVATE KEY", await runtime.crypto.exportPrivateKey(identity.key));
  const root = await services.hierarchy.get(ROOT_CA_NAME);
  if (root.certificateDer !== undefined) {
    const bundle = path.join(config.dataDir, "ca-bundle.pem");
    writeFileSync(bundle, x509.pemEncode("CERTIFICATE", root.certificateDer), { mode: 0o644 });
  }

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const app = createHttpApp({
    ...services,
    clock: runtime.clock,
    logger,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    openApiDocument: loadOpenApiDocument(),
    readiness: async () => ({
      database: await runtime.storage.db.$queryRawUnsafe("SELECT 1").then(
        () => "ok",
        () => "unreachable",
      ),
      masterKey: "ok",
    }),
  });
  const server = createHttpsServer(app, {
    certificateChainPem: [identity.certificateDer, ...identity.chainDer].map((der) => x509.pemEncode("CERTIFICATE", der)).join(""),
    privateKeyPem,
  });
  const { host, port } = splitListen(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address !== null ? address.port : port;
  const url = `https://${host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host}:${boundPort}`;
  logger.info({ url, caBundle: path.join(config.dataDir, "ca-bundle.pem") }, "kpki is serving");
  return {
    server,
    url,
    ...(outcome.adminToken === undefined ? {} : { adminToken: outcome.adminToken }),
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await runtime.close();
    },
  };
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
function splitListen(listen: string): { host: string | undefined; port: number } {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, "");
  return { host: host === "" ? undefined : host, port: Number(listen.slice(colon + 1)) };
}

/**
 * Re-seals every stored key under `newKey` and records the new check value, in one transaction.
 * The caller handles the key files (master-key rotate command).
 */
export async function rotateMasterKey(runtime: Runtime, newKey: MasterKey, progress: (done: number) => void): Promise<number> {
  const ring = createMasterKeyRing(newKey, [runtime.storage.keyRing.current, ...runtime.storage.keyRing.previous]);
  const random = new NodeRandomSource();
  const crypto = new WebCryptoBackend({ crypto: webcrypto, keyRing: ring, random });
  const reseal = new ResealService({ uow: runtime.uow, crypto, clock: runtime.clock, currentWrappingKeyId: newKey.id });
  return reseal.resealAll(
    { principal: LOCAL_OPERATOR },
    async (r) => {
      await r.settings.set(MASTER_KEY_CHECK_SETTING, createMasterKeyCheck(newKey, random), runtime.clock.now());
    },
    progress,
  );
}

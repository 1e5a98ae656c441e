// The composition root: the only place that constructs adapters and wires them into services.
import { webcrypto } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Server } from "node:https";
import type { Express } from "express";
import type { Config } from "./config/config.js";
import { ConfigError, loadConfig } from "./config/load-config.js";
import { AccessGuard, AuditTrail, LOCAL_OPERATOR, SYSTEM, TokenService } from "./core/access/index.js";
import { BootstrapService, INTERNAL_CA_NAME, ROOT_CA_NAME } from "./core/bootstrap/bootstrap-service.js";
import { ResealService } from "./core/crypto/reseal-service.js";
import { ClusterEncryptionService, ClusterService, KubeadmSigningService, ServiceAccountKeyService } from "./core/kubernetes/index.js";
import {
  InProcessKekProvider,
  KekService,
  KeyOperationsService,
  KmsDispatcher,
  NamedKeyService,
  ObjectCache,
  ObjectService,
  RecentDecryptionGuard,
  UsageRecorder,
  type KekProvider,
} from "./core/kms/index.js";
import {
  AuthorityImportService,
  AuthorityRevocationService,
  CertificateInventory,
  CrlService,
  OcspResponder,
  OcspSigningDelegates,
  RevocationService,
  type RevocationPointers,
  GENERIC_PROFILES,
  HierarchyService,
  IssuanceService,
  ProfileCatalog,
  ServiceIdentityService,
  x509,
  type ServiceTlsIdentity,
} from "./core/pki/index.js";
import { AddressRanges } from "./core/shared/address-ranges.js";
import type { Clock } from "./core/shared/clock.js";
import type { Logger } from "./core/shared/logger.js";
import { EphemeralKeyPool } from "./infra/crypto/ephemeral-key-pool.js";
import { createMasterKeyFile, createMasterKeyRing, loadMasterKey, type MasterKey } from "./infra/crypto/master-key.js";
import { MASTER_KEY_CHECK_SETTING, createMasterKeyCheck } from "./infra/crypto/master-key-check.js";
import { NodeRandomSource } from "./infra/crypto/node-random.js";
import { WebCryptoBackend } from "./infra/crypto/webcrypto-backend.js";
import type { WebCryptoProvider } from "./infra/crypto/webcrypto-algorithms.js";
import { Crypto as PeculiarCrypto } from "@peculiar/webcrypto";
import { databaseTarget, masterKeyLocation, masterKeyOpensData, openStorage, pendingMasterKeyPath, storageReadiness, type OpenStorage } from "./infra/open-storage.js";
import { registerExpiryMetrics } from "./infra/metrics/expiry-metrics.js";
import { createRuntimeMetrics, type RuntimeMetrics } from "./infra/metrics/runtime-metrics.js";
import { createLogger } from "./infra/logging/logger.js";
import { writeBackup } from "./infra/backup/backup.js";
import { restoreBackup } from "./infra/backup/restore.js";
import { migrationNames, Migrator } from "./infra/prisma/migrator.js";
import { PrismaUnitOfWork } from "./infra/prisma/prisma-unit-of-work.js";
import { verifyAuditChain } from "./infra/prisma/audit-verifier.js";
import { createDatabase } from "./infra/prisma/prisma-client.js";
import { RemoteKekProvider } from "./infra/remote-kpki/remote-kek-provider.js";
import { createHttpApp } from "./transports/http/server.js";
import { createHttpsServer, type TlsMaterial } from "./transports/http/https-server.js";
import type { HttpRateLimits } from "./transports/http/rate-limit.js";
import { drainHttpsServer } from "./transports/http/drain.js";
import { loadOpenApiDocument } from "./transports/http/openapi-document.js";
import type { LocalOperations } from "./transports/cli/local-operations.js";
import { JobRunner, type JobDefinition } from "./core/jobs/index.js";
import { schedule } from "./transports/jobs/schedule.js";
import { Scheduler } from "./transports/jobs/scheduler.js";
import { startKmsPluginServer } from "./transports/kms-plugin/server.js";
import { KmipProcessor } from "./transports/kmip/kmip-processor.js";
import { startKmipServer, type RunningKmipServer } from "./transports/kmip/server.js";
import { kmipConnectionMetrics, type KmipConnectionMetrics } from "./transports/kmip/connection-metrics.js";

/** The configured WebCrypto implementation. */
function webCryptoProvider(config: Config): WebCryptoProvider {
  return config.cryptoProvider === "peculiar" ? new PeculiarCrypto() : webcrypto;
}

/** The URLs certificates carry for revocation checking, when a public base URL is configured. */
function revocationPointers(publicUrl: string | undefined): RevocationPointers | undefined {
  if (publicUrl === undefined) return undefined;
  const base = publicUrl.replace(/\/+$/, "");
  return (ca) => ({ crl: `${base}/v1/authorities/${ca}/crl`, ocsp: `${base}/v1/ocsp`, caIssuers: `${base}/v1/authorities/${ca}/certificate?format=der` });
}

/** How often counted key uses are written (usage counters and aggregated audit entries). */
const USAGE_FLUSH_MILLIS = 5_000;

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
  /** The access decision (core/access authorize), with refused cross-scope attempts audited. */
  readonly access: AccessGuard;
  readonly serviceIdentity: ServiceIdentityService;
  readonly bootstrap: BootstrapService;
  readonly clusters: ClusterService;
  readonly kubeadm: KubeadmSigningService;
  readonly serviceAccountKeys: ServiceAccountKeyService;
  readonly clusterEncryption: ClusterEncryptionService;
  readonly objects: ObjectService;
  readonly keyOperations: KeyOperationsService;
  readonly namedKeys: NamedKeyService;
  readonly kms: KmsDispatcher;
  readonly crls: CrlService;
  readonly auditTrail: AuditTrail;
  readonly revocation: RevocationService;
  readonly authorityRevocation: AuthorityRevocationService;
  readonly ocsp: OcspResponder;
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
  /** The registry /metrics serves and the core's operation counters in it. */
  readonly metrics: RuntimeMetrics;
  close(): Promise<void>;
}

/**
 * Opens storage (verifying the master key, migrating) and wires the services. `clock` is for tests
 * that move time; `prefillKeyPool: false` leaves the RSA key pool empty (keys are then generated on
 * demand), for short-lived commands that issue no keys and should not spend seconds of CPU on them.
 */
export async function openRuntime(config: Config, logger: Logger, options: { clock?: Clock; prefillKeyPool?: boolean } = {}): Promise<Runtime> {
  const random = new NodeRandomSource();
  const storage = await openStorage(config, { logger, random });
  const crypto = new WebCryptoBackend({ crypto: webCryptoProvider(config), keyRing: storage.keyRing, random });
  const keyPool = new EphemeralKeyPool();
  if (options.prefillKeyPool !== false) keyPool.start();
  const uow = new PrismaUnitOfWork(storage.db, storage.target.provider);
  const metrics = createRuntimeMetrics(storage.db);
  for (const [wrappingKeyId, count] of await uow.read((r) => r.keyMaterials.countByWrappingKey())) {
    if (wrappingKeyId !== storage.keyRing.current.id) {
      logger.error({ wrappingKeyId, count, currentMasterKeyId: storage.keyRing.current.id }, "stored keys are sealed under a master key that is not loaded: they cannot be used until re-sealed with `kpki master-key rotate`");
    }
  }
  const clock = options.clock ?? systemClock;
  const profiles = new ProfileCatalog(GENERIC_PROFILES);
  const base = { uow, crypto, clock, random };
  const hierarchy = new HierarchyService(base);
  const pointers = revocationPointers(config.publicUrl);
  const issuance = new IssuanceService({ ...base, profiles, ephemeralKeys: keyPool, metrics: metrics.operations, ...(pointers === undefined ? {} : { revocationPointers: pointers }) });
  const crls = new CrlService({ uow, crypto, clock, ...(pointers === undefined ? {} : { deltaUrl: (ca: string) => `${pointers(ca).crl}/delta` }) });
  const tokens = new TokenService({ uow, clock, random });
  const clusters = new ClusterService({ ...base, hierarchy, defaultParent: ROOT_CA_NAME });
  const serviceAccountKeys = new ServiceAccountKeyService({ uow, clusters, crypto, clock });
  const objectCache = new ObjectCache(uow, clock);
  const usage = new UsageRecorder({ uow, clock });
  const recentDecryptions = new RecentDecryptionGuard({ uow, usage, clock, windowSeconds: config.keyRecentUseDays * 86_400 });
  const objects = new ObjectService({ ...base, objects: objectCache, recentDecryptions });
  const keyOperations = new KeyOperationsService({ crypto, clock, random, objects: objectCache, usage, metrics: metrics.operations });
  // Key uses are written in batches (UsageRecorder); a lost flush is retried with the next one.
  const usageFlush = setInterval(() => void usage.flush().catch((error: unknown) => logger.warn({ err: error }, "key usage flush failed; retrying")), USAGE_FLUSH_MILLIS);
  usageFlush.unref();
  const services: Services = {
    hierarchy,
    authorityImport: new AuthorityImportService(base),
    issuance,
    inventory: new CertificateInventory({ uow, clock }),
    profiles,
    tokens,
    access: new AccessGuard({ uow, clock }),
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
    clusters,
    kubeadm: new KubeadmSigningService({ uow, clusters, issuance, serviceAccountKeys }),
    serviceAccountKeys,
    clusterEncryption: new ClusterEncryptionService({ ...base, clusters }),
    objects,
    keyOperations,
    namedKeys: new NamedKeyService({ uow, objects, operations: keyOperations, clock, recentDecryptions }),
    kms: new KmsDispatcher({ objects, operations: keyOperations }),
    crls,
    auditTrail: new AuditTrail({ uow }),
    revocation: new RevocationService({ uow, clock, crls, onCrlFailure: (error, context) => logger.error({ err: error, requestId: context.requestId }, "CRL reissue after a revocation failed; the next CRL request reissues it") }),
    authorityRevocation: new AuthorityRevocationService({ uow, clock, random, crls, onCrlFailure: (error, context) => logger.error({ err: error, requestId: context.requestId }, "CRL reissue after a CA revocation failed; the next CRL request reissues it") }),
    ocsp: new OcspResponder({
      uow,
      crypto,
      clock,
      ...(config.ocspResponderCertificateHours === 0 ? {} : { delegates: new OcspSigningDelegates({ uow, crypto, clock, random, lifetimeSeconds: config.ocspResponderCertificateHours * 3600 }) }),
    }),
  };
  registerExpiryMetrics(
    metrics.registry,
    {
      snapshot: (horizonsSeconds) => services.inventory.expiry(horizonsSeconds),
      clusterNames: async () => new Map((await clusters.list()).map((cluster) => [cluster.id, cluster.name])),
    },
    logger,
  );
  return {
    config,
    logger,
    storage,
    crypto,
    uow,
    clock,
    services,
    metrics,
    close: async () => {
      clearInterval(usageFlush);
      await usage.flush().catch((error: unknown) => logger.warn({ err: error }, "final key usage flush failed"));
      await keyPool.stop();
      await storage.close();
    },
  };
}

/** The scheduled jobs of this runtime (the one list lives in transports/jobs/schedule.ts). */
export function scheduledJobs(runtime: Runtime): readonly JobDefinition[] {
  return schedule({
    ...runtime.services,
    jobRunner: jobRunner(runtime),
    renewBeforeSeconds: runtime.config.renewBeforeDays * 86_400,
    serviceCertificateCa: INTERNAL_CA_NAME,
  });
}

/** The runner that runs each job once per period slot across replicas. */
export function jobRunner(runtime: Runtime): JobRunner {
  return new JobRunner({ uow: runtime.uow, clock: runtime.clock, random: new NodeRandomSource(), holder: `${hostname()}:${process.pid}`, metrics: runtime.metrics.operations });
}

/** A listening HTTPS service. */
export interface RunningService {
  readonly server: Server;
  /** https://host:port actually bound (port 0 picks a free one). */
  readonly url: string;
  /** The bootstrap admin token, when this start created a random one (print once). */
  readonly adminToken?: string;
  /** host:port of the KMIP listener, when KPKI_KMIP_LISTEN enabled it. */
  readonly kmipAddress?: string;
  /** Stops accepting, finishes in-flight requests, closes storage. */
  stop(): Promise<void>;
}

/**
 * How long a stopping service lets in-flight HTTP requests run: under Kubernetes' default
 * terminationGracePeriodSeconds (30 s), so the process exits on its own before SIGKILL.
 */
const HTTP_DRAIN_GRACE_MS = 20_000;

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

/**
 * The service's TLS identity as its listeners take it (HTTPS and KMIP): its certificate with the
 * chain, its key, and the CAs a client certificate is verified against (that same chain).
 */
export async function serviceTlsMaterial(runtime: Runtime, identity: ServiceTlsIdentity): Promise<TlsMaterial> {
  const pem = (der: Uint8Array) => x509.pemEncode("CERTIFICATE", der);
  return {
    certificateChainPem: [identity.certificateDer, ...identity.chainDer].map(pem).join(""),
    privateKeyPem: x509.pemEncode("PRIVATE KEY", await runtime.crypto.exportPrivateKey(identity.key)),
    clientCaPem: identity.chainDer.map(pem),
  };
}

/** First-start bootstrap (idempotent) and the service's TLS identity. */
export async function prepareService(runtime: Runtime): Promise<{ adminToken?: string; identity: ServiceTlsIdentity }> {
  const { config, logger, services } = runtime;
  const system = { principal: SYSTEM };
  const outcome = await services.bootstrap.ensureBootstrapped(system, config.bootstrapToken);
  if (outcome.performed) logger.info({ rootCa: ROOT_CA_NAME, internalCa: INTERNAL_CA_NAME }, "first start: created the root CA, the internal CA and the bootstrap admin token");
  const identity = await services.serviceIdentity.ensureTlsIdentity(system, { ca: INTERNAL_CA_NAME, names: serviceNames(config) });
  const root = await services.hierarchy.get(ROOT_CA_NAME);
  if (root.certificateDer !== undefined) {
    const bundle = path.join(config.dataDir, "ca-bundle.pem");
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(bundle, x509.pemEncode("CERTIFICATE", root.certificateDer), { mode: 0o644 });
  }
  return { ...(outcome.adminToken === undefined ? {} : { adminToken: outcome.adminToken }), identity };
}

/** The configured REST request rates; a rate of 0 turns that limit off. */
function httpRateLimits(config: Config): HttpRateLimits {
  return {
    ...(config.rateLimitPerAddress === 0 ? {} : { perAddress: { perSecond: config.rateLimitPerAddress, burst: config.rateLimitPerAddressBurst } }),
    ...(config.rateLimitPerPrincipal === 0 ? {} : { perPrincipal: { perSecond: config.rateLimitPerPrincipal, burst: config.rateLimitPerPrincipalBurst } }),
  };
}

/** The Express application over the runtime's services (no listener). */
export function buildHttpApp(runtime: Runtime, options: { validateResponses?: boolean; clientIssuerDer?: Uint8Array } = {}): Express {
  return createHttpApp({
    ...runtime.services,
    scheduledJobs: scheduledJobs(runtime),
    jobRunner: jobRunner(runtime),
    clock: runtime.clock,
    logger: runtime.logger,
    metrics: runtime.metrics.registry,
    maxBodyBytes: runtime.config.maxBodyBytes,
    rateLimits: httpRateLimits(runtime.config),
    ...(runtime.config.adminAllow.length === 0 ? {} : { adminAllow: AddressRanges.parse(runtime.config.adminAllow) }),
    openApiDocument: loadOpenApiDocument(),
    ...(options.validateResponses === undefined ? {} : { validateResponses: options.validateResponses }),
    ...(options.clientIssuerDer === undefined ? {} : { clientIssuerDer: options.clientIssuerDer }),
    readiness: () => storageReadiness(runtime.storage),
  });
}

/**
 * Bootstraps on first start, obtains the service's TLS certificate and listens on `config.listen`.
 * A new bootstrap admin token goes to `onAdminToken` before listening, so a start that then fails
 * (port in use) does not lose the only copy of it.
 */
export async function startService(runtime: Runtime, onAdminToken: (token: string) => void = () => undefined): Promise<RunningService> {
  const { config, logger } = runtime;
  const { adminToken, identity } = await prepareService(runtime);
  if (adminToken !== undefined) onAdminToken(adminToken);
  const scheduler = new Scheduler({ runner: jobRunner(runtime), jobs: scheduledJobs(runtime), logger, context: { principal: SYSTEM } });
  const tls = await serviceTlsMaterial(runtime, identity);
  const kmipConnections = kmipConnectionMetrics(runtime.metrics.registry);
  // Client certificates: those of the internal CA (the issuer of the service's own certificate), as KMIP.
  const app = buildHttpApp(runtime, identity.chainDer[0] === undefined ? {} : { clientIssuerDer: identity.chainDer[0] });
  const server = createHttpsServer(app, tls);
  const { host, port } = splitListen(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) =>
      reject(error.code === "EADDRINUSE" || error.code === "EACCES" ? new ConfigError(`cannot listen on ${config.listen}: ${error.code === "EADDRINUSE" ? "address already in use" : "permission denied"}`) : error),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address !== null ? address.port : port;
  const url = `https://${host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host}:${boundPort}`;
  let kmip: RunningKmipServer | undefined;
  try {
    kmip = config.kmipListen === undefined ? undefined : await startKmip(runtime, identity, tls, config.kmipListen, kmipConnections);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  const kmipAddress = kmip === undefined ? undefined : `${kmip.host.includes(":") ? `[${kmip.host}]` : kmip.host}:${kmip.port}`;
  logger.info({ url, caBundle: path.join(config.dataDir, "ca-bundle.pem"), ...(kmipAddress === undefined ? {} : { kmip: kmipAddress }) }, "kpki is serving");
  scheduler.start();
  return {
    server,
    url,
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(kmipAddress === undefined ? {} : { kmipAddress }),
    stop: async () => {
      // Stop accepting on both listeners at once, let in-flight HTTP requests and KMIP messages
      // finish (HTTP within HTTP_DRAIN_GRACE_MS, then cut), and close the database only after.
      const httpDrained = drainHttpsServer(server, { logger, graceMillis: HTTP_DRAIN_GRACE_MS });
      await Promise.all([httpDrained, kmip?.stop(), scheduler.stop()]);
      await runtime.close();
      logger.info({}, "shutdown complete");
    },
  };
}

/** The package version, for KMIP Query's Server Information. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

/**
 * The KMIP listener (KPKI_KMIP_LISTEN): the service's TLS identity; client certificates must be
 * issued by the internal CA, the same CA that issued that identity (its chain's first certificate).
 */
async function startKmip(runtime: Runtime, identity: ServiceTlsIdentity, tls: TlsMaterial, listen: string, metrics: KmipConnectionMetrics): Promise<RunningKmipServer> {
  const { config, services, clock } = runtime;
  const logger = runtime.logger.child({ component: "kmip" });
  const internalCa = identity.chainDer[0];
  if (internalCa === undefined) throw new Error("the service TLS identity has no issuing CA certificate");
  const processor = new KmipProcessor({ kms: services.kms, access: services.access, clock, logger, identity: { vendor: "kpki", product: "kpki", version: packageVersion() } });
  const { host, port } = splitListen(listen);
  try {
    return await startKmipServer({
      host,
      port,
      certificateChainPem: tls.certificateChainPem,
      privateKeyPem: tls.privateKeyPem,
      trustedCaPem: tls.clientCaPem,
      clientIssuerDer: internalCa,
      processor,
      logger,
      metrics,
      limits: { maxMessageBytes: config.maxBodyBytes, idleTimeoutMs: config.kmipIdleTimeoutSeconds * 1000, maxConnections: config.kmipMaxConnections },
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE" || code === "EACCES") throw new ConfigError(`cannot listen for KMIP on ${listen}: ${code === "EADDRINUSE" ? "address already in use" : "permission denied"}`);
    throw error;
  }
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
  const crypto = new WebCryptoBackend({ crypto: webCryptoProvider(runtime.config), keyRing: ring, random });
  const reseal = new ResealService({ uow: runtime.uow, crypto, clock: runtime.clock, currentWrappingKeyId: newKey.id });
  return reseal.resealAll(
    { principal: LOCAL_OPERATOR },
    async (r) => {
      await r.settings.set(MASTER_KEY_CHECK_SETTING, createMasterKeyCheck(newKey, random), runtime.clock.now());
    },
    progress,
  );
}

/**
 * Refuses to work on a database that `kpki serve` never set up, before anything is created (no
 * database file, no master key file, no migration): a CronJob pointed at the wrong place must fail
 * loudly, not start an empty installation.
 */
async function assertInitialized(config: Config): Promise<void> {
  const target = databaseTarget(config);
  if (target.provider === "sqlite" && !existsSync(target.filename)) throw new ConfigError(`no database at ${target.filename}: \`kpki serve\` creates it on its first start (or set DATABASE_URL)`);
  const migrator = new Migrator({ database: target });
  try {
    if (!(await migrator.hasAppliedMigrations())) throw new ConfigError("the database is empty: `kpki serve` sets it up on its first start");
  } finally {
    await migrator.close();
  }
}

/** The host-side CLI operations (serve, migrate, master-key rotate, rotate, kms-plugin), for the CLI transport. */
export function createLocalOperations(env: NodeJS.ProcessEnv): LocalOperations {
  return {
    serve: async (overrides, announce) => {
      const config = loadConfig(env, overrides);
      const logger = createLogger(config.logLevel);
      const runtime = await openRuntime(config, logger);
      let service: RunningService;
      try {
        service = await startService(runtime, (token) =>
          announce(`\nkpki: first start. Bootstrap admin token (shown only now; keep it safe, e.g. in a file with mode 0600):\n\n    ${token}\n\n`),
        );
      } catch (error) {
        await runtime.close();
        throw error;
      }
      announce(
        `kpki: serving ${service.url} (clients trust ${path.join(config.dataDir, "ca-bundle.pem")})\n` +
          (service.kmipAddress === undefined ? "" : `kpki: KMIP (TTLV over mutual TLS) on ${service.kmipAddress}\n`),
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.info({ signal }, "shutting down: finishing in-flight requests");
          process.off("SIGTERM", stop);
          process.off("SIGINT", stop);
          resolve();
        };
        process.on("SIGTERM", stop);
        process.on("SIGINT", stop);
      });
      await service.stop();
    },

    migrate: async ({ statusOnly }) => {
      const config = loadConfig(env);
      const target = databaseTarget(config);
      if (target.provider === "sqlite" && !existsSync(target.filename)) {
        if (statusOnly) {
          return [`${target.filename} does not exist yet (kpki serve or kpki migrate creates it)`, ...migrationNames("sqlite").map((name) => `pending  ${name}`)];
        }
        mkdirSync(path.dirname(target.filename), { recursive: true, mode: 0o700 });
      }
      const lines: string[] = [];
      const migrator = new Migrator({ database: target, log: (line) => lines.push(line) });
      try {
        if (!statusOnly) {
          const { applied } = await migrator.migrate();
          if (applied.length === 0) lines.push("the database is up to date");
        }
        for (const status of await migrator.status()) lines.push(`${status.applied ? "applied" : "pending"}  ${status.name}${status.appliedAt === undefined ? "" : `  ${status.appliedAt.toISOString()}`}`);
        return lines;
      } finally {
        await migrator.close();
      }
    },

    verifyAudit: async ({ expectHead }, progress) => {
      const target = databaseTarget(loadConfig(env));
      if (target.provider === "sqlite" && !existsSync(target.filename)) throw new ConfigError(`${target.filename} does not exist: nothing to verify`);
      // Only the database: verifying the log needs no master key and changes nothing.
      const db = createDatabase(target);
      try {
        const result = await verifyAuditChain(db, { ...(expectHead === undefined ? {} : { expectHead }), progress: (checked) => progress(`  ${checked} entries checked`) });
        const head = result.head === undefined ? "the log is empty" : `head: seq ${result.head.seq} hash ${result.head.hash} (record it; --expect-head ${result.head.seq}:${result.head.hash} later detects removed newest entries)`;
        return result.problems.length === 0
          ? { ok: true, lines: [`audit log intact: ${result.entries} entries`, head] }
          : { ok: false, lines: [`audit log BROKEN: ${result.problems.length} problem(s) in ${result.entries} entries`, ...result.problems.map((problem) => `  ${problem}`), head] };
      } finally {
        await db.$disconnect();
      }
    },

    backup: async ({ outFile }, progress) => {
      const config = loadConfig(env);
      await assertInitialized(config);
      const target = databaseTarget(config);
      const masterKey = await loadMasterKey(masterKeyLocation(config));
      progress(`backing up ${target.provider === "sqlite" ? target.filename : "the PostgreSQL database"} (one snapshot) …`);
      const { header } = await writeBackup({ target, masterKey, outFile, kpkiVersion: packageVersion(), progress });
      const rows = header.tables.reduce((sum, table) => sum + table.rows, 0);
      return [`backup written to ${outFile}: ${header.tables.length} tables, ${rows} rows, migration ${header.migrationHead}, sealed under master key ${masterKey.id} (restore needs that key)`];
    },

    restore: async ({ inFile, force }, progress) => {
      const config = loadConfig(env);
      const target = databaseTarget(config);
      // The key that opens the backup; the restored data is sealed under it too, so kpki serve needs it afterwards.
      const masterKey = await loadMasterKey(masterKeyLocation(config));
      const { header, rows } = await restoreBackup({ target, masterKey, inFile, force, progress });
      return [
        `restored ${rows} rows in ${header.tables.length} tables from ${inFile} (backup of ${header.createdAt}, kpki ${header.kpkiVersion}), one transaction`,
        `the data is sealed under master key ${masterKey.id}: start kpki with that key; \`kpki audit verify\` checks the restored audit chain`,
      ];
    },

    rotateMasterKey: async ({ newKeyFile }, progress) => {
      const config = loadConfig(env);
      const logger = createLogger("warn");
      const location = masterKeyLocation(config);
      if (location.kind === "env" && newKeyFile === undefined) {
        throw new ConfigError("KPKI_MASTER_KEY is set: give the new key with --new-key-file (e.g. `openssl rand -base64 32 > new.key && chmod 600 new.key`)");
      }
      const random = new NodeRandomSource();
      const pending = location.kind === "file" ? pendingMasterKeyPath(location.path) : undefined;
      const newKey =
        newKeyFile !== undefined
          ? await loadMasterKey({ kind: "file", path: newKeyFile })
          : pending !== undefined && existsSync(pending)
            ? await loadMasterKey({ kind: "file", path: pending })
            : await createMasterKeyFile(pending ?? "", random);
      const lines: string[] = [];
      // A rotation that committed but did not swap the files is finished here, not re-done.
      const alreadyCommitted = await masterKeyOpensData(config, newKey);
      if (!alreadyCommitted) {
        const runtime = await openRuntime(config, logger);
        try {
          if (runtime.storage.keyRing.current.id === newKey.id) throw new ConfigError(`master key ${newKey.id} is already the current key`);
          progress(`re-sealing every stored key from master key ${runtime.storage.keyRing.current.id} to ${newKey.id} …`);
          const count = await rotateMasterKey(runtime, newKey, (done) => progress(`  ${done} keys re-sealed`));
          lines.push(`re-sealed ${count} keys under master key ${newKey.id} (one transaction)`);
        } finally {
          await runtime.close();
        }
      }
      if (location.kind === "file") {
        const current = await loadMasterKey({ kind: "file", path: location.path }).catch(() => undefined);
        if (current !== undefined && current.id !== newKey.id) {
          const retired = `${location.path}.retired-${current.id}`;
          renameSync(location.path, retired);
          lines.push(`kept the old key as ${retired}: backups taken before now need it; destroy it when they expire`);
        }
        if (newKeyFile !== undefined) copyFileSync(newKeyFile, location.path);
        else if (pending !== undefined && existsSync(pending)) renameSync(pending, location.path);
        chmodSync(location.path, 0o600);
        lines.push(`${location.path} now holds master key ${newKey.id}; restart every kpki replica`);
      } else {
        lines.push(`now set KPKI_MASTER_KEY to the key in ${newKeyFile ?? "?"} (master key ${newKey.id}) and restart every kpki replica`);
      }
      return lines;
    },

    rotate: async (options, progress) => {
      const config = loadConfig(env);
      // stdout carries the table (or JSON): log lines, if any, go to stderr.
      const logger = createLogger("warn", process.stderr);
      await assertInitialized(config);
      const runtime = await openRuntime(config, logger, { prefillKeyPool: false });
      try {
        if (!(await runtime.services.bootstrap.isBootstrapped())) throw new ConfigError("this database has not been set up yet: start `kpki serve` once first");
        const all = scheduledJobs(runtime);
        const unknown = (options.jobs ?? []).filter((name) => !all.some((job) => job.name === name));
        if (unknown.length > 0) throw new ConfigError(`unknown job ${unknown.join(", ")}; the jobs are ${all.map((job) => job.name).join(", ")}`);
        const selected = options.jobs === undefined || options.jobs.length === 0 ? all : all.filter((job) => options.jobs?.includes(job.name));
        const runner = jobRunner(runtime);
        if (options.dryRun) {
          const plan = [];
          for (const status of await runner.status(selected)) {
            const preview = status.state === "due" ? await status.job.preview?.(runtime.clock.now()) : undefined;
            plan.push({ ...status, ...(preview === undefined ? {} : { preview }) });
          }
          return { kind: "plan", plan };
        }
        const outcomes = [];
        for (const job of selected) {
          progress(`${job.name}: ${job.description} …`);
          const outcome = await runner.runOne({ principal: LOCAL_OPERATOR }, job);
          progress(`${job.name}: ${outcome.status}${outcome.millis === undefined ? "" : ` in ${outcome.millis} ms`}${outcome.message === undefined ? "" : ` — ${outcome.message}`}`);
          outcomes.push(outcome);
        }
        return { kind: "ran", outcomes };
      } finally {
        await runtime.close();
      }
    },

    kmsPlugin: async (options, announce) => {
      const config = loadConfig(env);
      const logger = createLogger(config.logLevel).child({ component: "kms-plugin" });
      // The KEK: this host's database (single node), or a kpki server over HTTPS.
      let provider: KekProvider;
      let release: () => Promise<void>;
      if (options.remote === undefined) {
        const runtime = await openRuntime(config, logger);
        const principal = { id: `kms-plugin:${options.key}`, displayName: `KMS v2 plugin (${options.key})` };
        provider = new InProcessKekProvider({ namedKeys: runtime.services.namedKeys, keyName: options.key, context: { principal } });
        release = () => runtime.close();
      } else {
        const remote = new RemoteKekProvider({ serverUrl: options.remote.server, token: options.remote.token, keyName: options.key, ...(options.remote.caCertPem === undefined ? {} : { caCertPem: options.remote.caCertPem }) });
        provider = remote;
        release = async () => remote.close();
      }
      const kek = new KekService(provider, options.key);
      let plugin: Awaited<ReturnType<typeof startKmsPluginServer>>;
      try {
        plugin = await startKmsPluginServer({ endpoint: options.listen, kek, logger });
      } catch (error) {
        await release();
        throw error;
      }
      const status = await kek.status();
      const mode = options.remote === undefined ? "in-process" : `remote ${options.remote.server}`;
      announce(
        `kpki: KMS v2 plugin for named key ${options.key} (${mode}) listening on unix://${plugin.socketPath}; Status: ${status.healthy ? `ok, key_id ${status.keyId ?? ""}` : `not ok (${status.reason})`}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.info({ signal }, "shutting down: finishing in-flight KMS calls");
          process.off("SIGTERM", stop);
          process.off("SIGINT", stop);
          resolve();
        };
        process.on("SIGTERM", stop);
        process.on("SIGINT", stop);
      });
      try {
        await plugin.stop();
      } finally {
        await release();
      }
    },
  };
}

import { randomUUID } from "node:crypto";
import express, { type Express, type RequestHandler } from "express";
import * as OpenApiValidator from "express-openapi-validator";
import type { Registry } from "prom-client";
import type { AccessGuard, TokenService } from "../../core/access/index.js";
import type { ProfileCatalog } from "../../core/pki/index.js";
import type { AddressRanges } from "../../core/shared/address-ranges.js";
import type { Logger } from "../../core/shared/logger.js";
import { adminAddressAllowList } from "./admin-address-allow-list.js";
import { limitHeaderCount } from "./header-limits.js";
import { limitByPrincipal, limitBySourceAddress, type HttpRateLimits } from "./rate-limit.js";
import { authenticate, authorizeOperation, securityHandlers } from "./authenticate.js";
import { auditRoutes, type AuditRouteDependencies } from "./routes/audit.js";
import { MAX_OCSP_REQUEST_BYTES, revocationRoutes, type RevocationRouteDependencies } from "./routes/revocation.js";
import { errorHandler } from "./error-response.js";
import { httpMetrics } from "./http-metrics.js";
import type { RequestState } from "./request-state.js";
import { authorityRoutes, type AuthorityRouteDependencies } from "./routes/authorities.js";
import { certificateRoutes, type CertificateRouteDependencies } from "./routes/certificates.js";
import { clusterEncryptionRoutes, type ClusterEncryptionRouteDependencies } from "./routes/cluster-encryption.js";
import { clusterRoutes, type ClusterRouteDependencies } from "./routes/clusters.js";
import { jobRoutes, type JobRouteDependencies } from "./routes/jobs.js";
import { namedKeyRoutes, type NamedKeyRouteDependencies } from "./routes/named-keys.js";
import { objectRoutes, type ObjectRouteDependencies } from "./routes/objects.js";
import { profileRoutes } from "./routes/profiles.js";
import { serviceAccountKeyRoutes, type ServiceAccountKeyRouteDependencies } from "./routes/service-account-keys.js";
import { serviceRoutes, type ServiceRouteDependencies } from "./routes/service.js";
import { tokenRoutes } from "./routes/tokens.js";

/** Everything the HTTP transport needs; the composition root provides it. */
export interface HttpDependencies
  extends AuthorityRouteDependencies,
    CertificateRouteDependencies,
    ClusterRouteDependencies,
    ServiceAccountKeyRouteDependencies,
    ClusterEncryptionRouteDependencies,
    ObjectRouteDependencies,
    NamedKeyRouteDependencies,
    RevocationRouteDependencies,
    AuditRouteDependencies,
    JobRouteDependencies,
    Omit<ServiceRouteDependencies, "metrics"> {
  readonly tokens: TokenService;
  readonly access: AccessGuard;
  /** kpki's internal CA: a TLS client certificate it issued (with clientAuth) identifies a principal. */
  readonly clientIssuerDer?: Uint8Array;
  readonly profiles: ProfileCatalog;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly maxBodyBytes: number;
  /** Requests per second per source address and per principal (this process); unset: none. */
  readonly rateLimits?: HttpRateLimits;
  /** Where admin-only operations may come from (KPKI_ADMIN_ALLOW); unset: anywhere. */
  readonly adminAllow?: AddressRanges;
  /** Validate responses against the contract too (tests turn this on). */
  readonly validateResponses?: boolean;
}

/**
 * HEAD is GET without a body (RFC 9110 §9.3.2): answer it from the GET route; Node omits the body.
 */
const headAsGet: RequestHandler = (req, _res, next) => {
  if (req.method === "HEAD") req.method = "GET";
  next();
};

/** Request ids a client may choose: short and boring, so they are safe in logs. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request id, per-request logger and the security headers every response carries. */
function requestSetup(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const offered = req.get("X-Request-Id");
    const requestId = offered !== undefined && CLIENT_REQUEST_ID.test(offered) ? offered : randomUUID();
    const log = logger.child({ requestId });
    const state: Omit<RequestState, "principal"> & { principal?: RequestState["principal"] } = { requestId, log };
    res.locals.kpki = state;
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.setHeader("Strict-Transport-Security", "max-age=31536000");
    res.setHeader("Cache-Control", "no-store");
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const principal = (res.locals.kpki as Partial<RequestState>).principal;
      log.info(
        { method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6, principal: principal?.id },
        "request",
      );
    });
    next();
  };
}

/**
 * The Express 5 application: request id → metrics → header count and per-address rate limits →
 * body parsing (size-limited, JSON only) → authentication (who) → per-principal rate limit →
 * OpenAPI matching, access decision (core/access `authorize`, in the validator's security stage)
 * and request validation against the committed contract → admin address allow-list → routes →
 * problem+json errors.
 */
export function createHttpApp(deps: HttpDependencies): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  app.use(requestSetup(deps.logger));
  app.use(httpMetrics(deps.metrics));
  app.use(limitHeaderCount());
  if (deps.rateLimits?.perAddress !== undefined) app.use(limitBySourceAddress(deps.rateLimits.perAddress));
  app.use(express.json({ limit: deps.maxBodyBytes, type: ["application/json"], strict: true }));
  // OCSP requests are DER (RFC 6960 Appendix A.1); a few hundred bytes.
  app.use(express.raw({ limit: MAX_OCSP_REQUEST_BYTES, type: ["application/ocsp-request"] }));
  app.use(headAsGet);
  app.use(authenticate(deps.tokens, deps.clientIssuerDer));
  if (deps.rateLimits?.perPrincipal !== undefined) app.use(limitByPrincipal(deps.rateLimits.perPrincipal));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: deps.openApiDocument as Parameters<typeof OpenApiValidator.middleware>[0]["apiSpec"],
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses: deps.validateResponses === true ? { removeAdditional: false } : false,
      validateSecurity: { handlers: securityHandlers(deps.access) },
      ignoreUndocumented: false,
      validateFormats: true,
    }),
  );
  app.use(authorizeOperation(deps.access));
  if (deps.adminAllow !== undefined) app.use(adminAddressAllowList(deps.adminAllow));
  app.use(serviceRoutes(deps));
  app.use(authorityRoutes(deps));
  app.use(profileRoutes(deps));
  app.use(certificateRoutes(deps));
  app.use(revocationRoutes(deps));
  app.use(tokenRoutes(deps));
  app.use(auditRoutes(deps));
  app.use(clusterRoutes(deps));
  app.use(serviceAccountKeyRoutes(deps));
  app.use(clusterEncryptionRoutes(deps));
  app.use(objectRoutes(deps));
  app.use(namedKeyRoutes(deps));
  app.use(jobRoutes(deps));
  app.use(errorHandler(deps.logger));
  return app;
}

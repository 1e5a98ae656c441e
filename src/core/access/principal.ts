import type { Actor } from "../shared/request-context.js";
import type { Role } from "./roles.js";
import type { Scope } from "./scope.js";

/**
 * An authenticated caller. `id` is what audit records name (`token:<id>`, `cert:<CN>`, `cli:local`,
 * `system:bootstrap`); `role` decides what it may do (roles.ts).
 */
export interface Principal extends Actor {
  /** `certificate`: a TLS client certificate from kpki's internal CA (the KMIP transport). */
  readonly kind: "token" | "certificate" | "local" | "system" | "anonymous";
  readonly role: Role | undefined;
  /** What a scoped role (roles.ts SCOPED_ROLES) covers: one cluster, one node, some named keys. */
  readonly scope?: Scope;
}

/** The caller of a public endpoint that presented no credentials. */
export const ANONYMOUS: Principal = Object.freeze({ id: "anonymous", kind: "anonymous", role: undefined, displayName: "anonymous" });

/** In-process maintenance run by an operator on the host (`kpki migrate`, `kpki master-key rotate`). */
export const LOCAL_OPERATOR: Principal = Object.freeze({ id: "cli:local", kind: "local", role: "admin", displayName: "local operator" });

/** The service acting on its own behalf (first-start bootstrap, its own TLS certificate). */
export const SYSTEM: Principal = Object.freeze({ id: "system:kpki", kind: "system", role: "admin", displayName: "kpki" });

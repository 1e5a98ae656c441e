/** Who acts, as use cases and audit records see it. Access decisions use core/access's Principal. */
export interface Actor {
  /** Stable id recorded in audit entries (`token:<id>`, `cli:local`, `system:kpki`). */
  readonly id: string;
  /** Human label for logs (token name). Never a secret. */
  readonly displayName: string;
}

/** Who is calling and under which request id; passed from the transport into every use case. */
export interface RequestContext {
  readonly principal: Actor;
  readonly requestId?: string;
  /**
   * The caller may mint kpki credentials: a client certificate of kpki's internal CA whose
   * Organization names a kpki role is a KMIP identity with that role. The transport sets it from
   * the caller's access (token.manage); absent means no.
   */
  readonly mayIssueCredentials?: boolean;
}

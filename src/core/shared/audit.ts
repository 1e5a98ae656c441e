/**
 * What happened, recorded in the same transaction as the change itself (house rule 10).
 * Never put key material, tokens or plaintext in `details`.
 */
export interface AuditEvent {
  /** Who: a principal id such as `token:0190…`, `system:bootstrap`, `cli:local`. */
  readonly actor: string;
  /** What: a dotted verb such as `ca.create`, `certificate.issue`, `master-key.rotate`. */
  readonly action: string;
  /** On what: an object reference such as `ca:<id>`, `certificate:<id>`. */
  readonly target: string;
  readonly result: "success" | "failure";
  readonly requestId?: string;
  /** Small, secret-free facts (serial, profile, subject). */
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Append-only audit port; infra chains each entry to the previous one by hash. */
export interface AuditLog {
  record(event: AuditEvent, at: Date): Promise<void>;
}

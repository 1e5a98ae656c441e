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

/** A recorded entry as the audit trail shows it (details parsed back; never holds a secret). */
export interface AuditRecord extends AuditEvent {
  readonly seq: number;
  readonly id: string;
  readonly time: Date;
  readonly hash: string;
}

/** Filters for reading the trail; all optional, combined with AND; keyset-paginated by seq. */
export interface AuditQuery {
  readonly actor?: string;
  readonly action?: string;
  readonly target?: string;
  readonly since?: Date;
  readonly until?: Date;
  readonly limit: number;
  /** seq of the last entry of the previous page. */
  readonly afterSeq?: number;
}

/** Read side of the audit log. */
export interface AuditReader {
  list(query: AuditQuery): Promise<{ readonly items: readonly AuditRecord[]; readonly nextSeq?: number }>;
}

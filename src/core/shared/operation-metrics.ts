/**
 * What the core counts for operators (issuance, key uses, job runs), as events. The core emits them
 * through this port and knows nothing of how they are exported: the composition root gives it an
 * implementation (Prometheus, in infra/metrics). Every transport reaches the same services, so REST,
 * KMIP and the KMS v2 plugin are all counted in one place. Label values must stay bounded: CA and
 * profile names, named key names or an object kind — never a free-form KMIP Name or an object uid.
 */
export interface OperationMetrics {
  /** A certificate was stored (after its transaction committed). */
  certificateIssued(event: { readonly ca: string; readonly profile: string }): void;
  /** A key was used: `key` is the named key's name, or `object:<ObjectType>` for other objects. */
  keyUsed(event: { readonly key: string; readonly operation: string }): void;
  /** A scheduled job attempt ended (ran, failed, or skipped because done or held elsewhere). */
  jobFinished(event: { readonly job: string; readonly status: string }): void;
}

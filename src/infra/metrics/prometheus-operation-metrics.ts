import { Counter, type Registry } from "prom-client";
import type { OperationMetrics } from "../../core/shared/operation-metrics.js";

/**
 * The core's operation events as Prometheus counters. Labels are bounded by construction: CA and
 * profile names (operator-defined, few), named key names or an object kind, job names (a fixed
 * list) and outcome statuses.
 */
export class PrometheusOperationMetrics implements OperationMetrics {
  private readonly issued: Counter<"ca" | "profile">;
  private readonly keyOperations: Counter<"key" | "operation">;
  private readonly jobRuns: Counter<"job" | "status">;

  constructor(registry: Registry) {
    this.issued = new Counter({ name: "kpki_certificates_issued_total", help: "Certificates issued, by issuing CA and profile", labelNames: ["ca", "profile"], registers: [registry] });
    this.keyOperations = new Counter({
      name: "kpki_key_operations_total",
      help: "Cryptographic key uses (Encrypt, Decrypt, Sign, SignatureVerify, MAC, MACVerify) over REST, KMIP and the KMS plugin, by named key (or object:<ObjectType> for other objects) and operation",
      labelNames: ["key", "operation"],
      registers: [registry],
    });
    this.jobRuns = new Counter({ name: "kpki_job_runs_total", help: "Scheduled job attempts by job and outcome (ran, failed, skipped-already-done, skipped-held-by-other)", labelNames: ["job", "status"], registers: [registry] });
  }

  certificateIssued(event: { readonly ca: string; readonly profile: string }): void {
    this.issued.inc({ ca: event.ca, profile: event.profile });
  }

  keyUsed(event: { readonly key: string; readonly operation: string }): void {
    this.keyOperations.inc({ key: event.key, operation: event.operation });
  }

  jobFinished(event: { readonly job: string; readonly status: string }): void {
    this.jobRuns.inc({ job: event.job, status: event.status });
  }
}

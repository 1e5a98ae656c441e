import type { AccessRepositories } from "../../core/access/index.js";
import type { KeyMaterialRepositories } from "../../core/crypto/ports.js";
import type { KmsRepositories } from "../../core/kms/ports.js";
import type { JobRunRepository } from "../../core/jobs/ports.js";
import type { KubernetesRepositories } from "../../core/kubernetes/index.js";
import type { PkiRepositories } from "../../core/pki/index.js";
import type { AuditReader } from "../../core/shared/audit.js";
import type { SettingsRepository } from "../../core/shared/settings.js";
import type { UnitOfWork } from "../../core/shared/unit-of-work.js";
import { PrismaAuditLog, PrismaAuditReader } from "./audit-log.js";
import { PrismaAuthorityRepository } from "./authority-repository.js";
import { PrismaCertificateRepository } from "./certificate-repository.js";
import { PrismaClusterEncryptionRepository } from "./cluster-encryption-repository.js";
import { PrismaClusterRepository } from "./cluster-repository.js";
import { PrismaCrlRepository } from "./crl-repository.js";
import { PrismaJobRunRepository } from "./job-run-repository.js";
import { PrismaKeyMaterialRepository } from "./key-material-repository.js";
import { PrismaManagedObjectRepository } from "./managed-object-repository.js";
import { PrismaNamedKeyRepository } from "./named-key-repository.js";
import type { Database, DatabaseProvider, DatabaseTransaction } from "./prisma-client.js";
import { PrismaServiceAccountKeyRepository } from "./service-account-key-repository.js";
import { PrismaSettingsRepository } from "./settings-repository.js";
import { PrismaTokenRepository } from "./token-repository.js";
import { retryOnContention } from "./transient-contention.js";

/** Every repository the core declares, bound to one client or transaction. */
export type Repositories = PkiRepositories &
  KubernetesRepositories &
  AccessRepositories &
  KeyMaterialRepositories &
  KmsRepositories & { readonly settings: SettingsRepository } & { readonly auditReader: AuditReader } & { readonly jobRuns: JobRunRepository };

/** How long a transaction may wait for a connection and run; signing happens outside it. */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;

/**
 * UnitOfWork over Prisma interactive transactions. A transaction refused for transient contention
 * is rerun whole (retryOnContention; the port documents what that asks of the work); the audit
 * entries it recorded are appended last, just before commit.
 */
export class PrismaUnitOfWork implements UnitOfWork<Repositories> {
  constructor(
    private readonly db: Database,
    private readonly provider: DatabaseProvider,
  ) {}

  run<T>(work: (repositories: Repositories) => Promise<T>, options?: { readonly timeoutMillis?: number }): Promise<T> {
    const transactionOptions = { ...TRANSACTION_OPTIONS, ...(options?.timeoutMillis === undefined ? {} : { timeout: options.timeoutMillis }) };
    return retryOnContention(() =>
      this.db.$transaction(async (tx) => {
        const audit = new PrismaAuditLog(tx, this.provider, "deferred");
        const result = await work(this.bind(tx, audit));
        await audit.append();
        return result;
      }, transactionOptions),
    );
  }

  read<T>(work: (repositories: Repositories) => Promise<T>): Promise<T> {
    return work(this.bind(this.db, new PrismaAuditLog(this.db, this.provider, "immediate")));
  }

  private bind(db: DatabaseTransaction, audit: PrismaAuditLog): Repositories {
    return {
      authorities: new PrismaAuthorityRepository(db, this.provider),
      certificates: new PrismaCertificateRepository(db),
      crls: new PrismaCrlRepository(db),
      keyMaterials: new PrismaKeyMaterialRepository(db, this.provider),
      managedObjects: new PrismaManagedObjectRepository(db, this.provider),
      namedKeys: new PrismaNamedKeyRepository(db),
      tokens: new PrismaTokenRepository(db),
      clusters: new PrismaClusterRepository(db),
      serviceAccountKeys: new PrismaServiceAccountKeyRepository(db),
      clusterEncryption: new PrismaClusterEncryptionRepository(db),
      jobRuns: new PrismaJobRunRepository(db),
      settings: new PrismaSettingsRepository(db),
      audit,
      auditReader: new PrismaAuditReader(db),
    };
  }
}

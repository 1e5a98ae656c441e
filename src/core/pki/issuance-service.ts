import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { Clock } from "../shared/clock.js";
import { GroupCommit, type GroupCommitOptions } from "../shared/group-commit.js";
import { DomainError, invalidInput, isDomainError } from "../shared/domain-error.js";
import type { CaId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { hashIssueRequest } from "./issue-request-hash.js";
import { planIssuance, type IssuancePlan } from "./issuance-plan.js";
import type { RevocationPointers } from "./revocation/revocation-pointers.js";
import { signPlannedCertificate, type IssuanceRecord } from "./issued-certificate-builder.js";
import type { IssuedCertificate } from "./issued-certificate.js";
import { IssuerCache, type ReadyIssuer } from "./issuer-cache.js";
import type { EphemeralKeyGenerator, PkiRepositories } from "./ports.js";
import type { CertificateProfile } from "./profiles/profile.js";
import type { ProfileCatalog } from "./profiles/profile-catalog.js";
import { parseCertificateRequest } from "./x509/csr.js";
import type { GeneralName } from "./x509/general-name.js";
import { encodeName, nameFields, parseName, type SubjectFields } from "./x509/name.js";
import type { OperationMetrics } from "../shared/operation-metrics.js";

/** Idempotency keys: opaque caller-chosen strings (e.g. a UUID). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;
/** A serial collision (odds 2^-126) or a lost race is retried this many times. */
const ATTEMPTS = 3;

/** One certificate to issue: either sign `csrDer`, or generate a key of `keyAlgorithm` here. */
export interface IssueRequest {
  readonly ca: string;
  readonly profile: string;
  readonly csrDer?: Uint8Array;
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Replaces the CSR's subject; required for server-generated keys unless SANs identify the subject. */
  readonly subject?: SubjectFields;
  /** Replaces the CSR's requested SANs. */
  readonly subjectAltNames?: readonly GeneralName[];
  readonly ttlSeconds?: number;
  /** A retry with the same key and the same request returns the first result instead of a new certificate. */
  readonly idempotencyKey?: string;
}

/** A certificate for a key pair kpki already holds (no CSR, no key returned). */
export interface IssueForPublicKeyRequest {
  readonly ca: string;
  readonly profile: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly publicKeySpki: Uint8Array;
  readonly subject?: SubjectFields;
  readonly subjectAltNames?: readonly GeneralName[];
  readonly ttlSeconds?: number;
}

/** One CSR of a batch, checked against a profile the caller materialized (e.g. from a cluster inventory). */
export interface BatchItem {
  /** The caller's name for it (a kubeadm certificate name); errors name it. */
  readonly name: string;
  readonly ca: string;
  readonly profile: CertificateProfile;
  readonly csrDer: Uint8Array;
}

/** A batch signed for one Kubernetes cluster: every CA must be one of that cluster's. */
export interface BatchRequest {
  readonly clusterId: string;
  readonly items: readonly BatchItem[];
  readonly ttlSeconds?: number;
  /** Problems the caller already found (e.g. a certificate the node's role may not have): reported with the rest. */
  readonly problems?: readonly string[];
}

export interface IssueResult {
  readonly certificate: IssuedCertificate;
  /** Name of the issuing CA. */
  readonly caName: string;
  /** The issuing CA's certificate and its issuers, nearest first. */
  readonly chainDer: readonly Uint8Array[];
  /** DER PKCS#8 of a server-generated key: returned this once, never stored. */
  readonly privateKeyPkcs8?: Uint8Array;
  /** True when this answers a retry of an earlier request with the same idempotency key. */
  readonly replayed: boolean;
}

/** One request's certificates waiting to be stored; they commit together or not at all. */
interface PendingStore {
  readonly context: RequestContext;
  readonly certificates: readonly { readonly certificate: IssuedCertificate; readonly caName: string }[];
}

/**
 * Issues end-entity certificates: checks each request against its profile, builds and signs the
 * certificate, and stores it with its audit record in one transaction (a batch: all in one).
 * Concurrent requests share that transaction (group commit); each is answered after it committed.
 */
export class IssuanceService {
  private readonly issuers: IssuerCache;
  private readonly commits: GroupCommit<PendingStore>;

  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly profiles: ProfileCatalog;
      readonly ephemeralKeys: EphemeralKeyGenerator;
      readonly revocationPointers?: RevocationPointers;
      /** Counts issued certificates by CA and profile (none when absent). */
      readonly metrics?: OperationMetrics;
      /** How concurrent stores are grouped into one transaction (DEFAULT_GROUP_COMMIT when absent). */
      readonly groupCommit?: GroupCommitOptions;
    },
  ) {
    this.issuers = new IssuerCache(deps.uow, deps.clock);
    this.commits = new GroupCommit((stores) => this.storeAll(stores), deps.groupCommit);
  }

  /** Issues under a named (generic) profile: sign a CSR or generate the key here. */
  async issue(context: RequestContext, request: IssueRequest): Promise<IssueResult> {
    if ((request.csrDer === undefined) === (request.keyAlgorithm === undefined)) {
      throw invalidInput("csr", "give either a CSR or a keyAlgorithm for a server-generated key, not both or neither");
    }
    if (request.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(request.idempotencyKey)) {
      throw invalidInput("idempotencyKey", "must be 8–128 characters of A-Z a-z 0-9 . _ : -");
    }
    assertTtl(request.ttlSeconds);
    const requestHash = request.idempotencyKey === undefined ? undefined : hashIssueRequest(request);
    // Counted from here: a group commit waits for requests that will store soon (GroupCommit).
    return this.commits.prepare(async (submit) => {
      if (request.idempotencyKey !== undefined) {
        const earlier = await this.replay(context, request.idempotencyKey, requestHash);
        if (earlier !== undefined) return earlier;
      }

      const csr = request.csrDer === undefined ? undefined : parseCertificateRequest(request.csrDer);
      const keyAlgorithm = csr?.publicKeyAlgorithm ?? request.keyAlgorithm;
      if (keyAlgorithm === undefined) throw invalidInput("keyAlgorithm", "missing");
      const plan = planIssuance(await this.genericIssuer(request.ca), this.deps.profiles.get(request.profile), {
        keyAlgorithm,
        subjectDer: request.subject !== undefined ? encodeName(request.subject) : (csr?.subject.der ?? encodeName({})),
        subjectAltNames: request.subjectAltNames ?? csr?.requestedExtensions.subjectAltNames ?? [],
        requestedExtensions: csr?.requestedExtensions ?? {},
      }, this.deps.clock.now(), request.ttlSeconds);
      assertNoCredentialMinting(context, plan.issuer.ca.internal, plan.subjectDer);
      // The key is made only after the policy accepted the request, so refusals cost no key.
      const generated = csr === undefined ? await this.deps.ephemeralKeys.generate(keyAlgorithm) : undefined;
      const publicKeySpki = csr?.publicKeySpki ?? generated?.publicKeySpki;
      if (publicKeySpki === undefined) throw new DomainError("internal", "no public key");
      const record: IssuanceRecord = {
        requestedBy: context.principal.id,
        serverGeneratedKey: generated !== undefined,
        ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey, requestHash }),
      };
      for (let attempt = 1; ; attempt++) {
        const certificate = await signPlannedCertificate(this.deps, plan, publicKeySpki, record);
        try {
          await this.store(submit, context, [{ certificate, caName: plan.issuer.ca.name }]);
          return { ...this.result(plan, certificate), ...(generated === undefined ? {} : { privateKeyPkcs8: generated.privateKeyPkcs8 }) };
        } catch (error) {
          if (!isDomainError(error) || error.code !== "already_exists") throw error;
          // Either a concurrent retry with the same idempotency key won the race, or the serial
          // repeated: answer the former, draw a new serial for the latter.
          if (request.idempotencyKey !== undefined) {
            const earlier = await this.replay(context, request.idempotencyKey, requestHash);
            if (earlier !== undefined) return earlier;
          }
          if (attempt >= ATTEMPTS) throw error;
        }
      }
    });
  }

  /**
   * Issues a certificate for a key pair that already exists and whose possession was proven
   * another way (the service's own TLS key, held by the crypto backend).
   */
  async issueForPublicKey(context: RequestContext, request: IssueForPublicKeyRequest): Promise<IssueResult> {
    assertTtl(request.ttlSeconds);
    const plan = planIssuance(await this.genericIssuer(request.ca), this.deps.profiles.get(request.profile), {
      keyAlgorithm: request.keyAlgorithm,
      subjectDer: encodeName(request.subject ?? {}),
      subjectAltNames: request.subjectAltNames ?? [],
      requestedExtensions: {},
    }, this.deps.clock.now(), request.ttlSeconds);
    return this.signAll(context, [{ plan, publicKeySpki: request.publicKeySpki }]).then((results) => results[0] as IssueResult);
  }

  /**
   * Signs a set of CSRs for one cluster, all or nothing: every CSR is parsed and checked against its
   * (materialized) profile first, then all are signed and stored in one transaction. Problems are
   * reported together, each prefixed with the item's name.
   */
  async issueBatch(context: RequestContext, request: BatchRequest): Promise<ReadonlyMap<string, IssueResult>> {
    assertTtl(request.ttlSeconds);
    if (request.items.length === 0 && (request.problems ?? []).length === 0) throw invalidInput("csrs", "nothing to sign");
    const now = this.deps.clock.now();
    const problems: string[] = [...(request.problems ?? [])];
    const planned: { name: string; plan: IssuancePlan; publicKeySpki: Uint8Array }[] = [];
    for (const item of request.items) {
      try {
        const csr = parseCertificateRequest(item.csrDer);
        const issuer = await this.issuers.get(item.ca);
        if (issuer.ca.clusterId !== request.clusterId) {
          throw new DomainError("policy_violation", `CA ${issuer.ca.name} is not a CA of this cluster`, { field: "ca" });
        }
        const plan = planIssuance(issuer, item.profile, {
          keyAlgorithm: csr.publicKeyAlgorithm,
          subjectDer: csr.subject.der,
          subjectAltNames: csr.requestedExtensions.subjectAltNames ?? [],
          requestedExtensions: csr.requestedExtensions,
        }, now, request.ttlSeconds);
        planned.push({ name: item.name, plan, publicKeySpki: csr.publicKeySpki });
      } catch (error) {
        if (!isDomainError(error) || error.code === "internal" || error.code === "unavailable") throw error;
        problems.push(`${item.name}: ${error.message}`);
      }
    }
    if (problems.length > 0) {
      throw new DomainError("policy_violation", `nothing was signed: ${problems.join("; ")}`, { field: "csrs" });
    }
    const results = await this.signAll(context, planned);
    return new Map(planned.map((item, index) => [item.name, results[index] as IssueResult]));
  }

  /** The chain (issuing CA first) of the CA with this id, e.g. to serve a stored certificate. */
  async chainFor(caId: CaId): Promise<readonly Uint8Array[]> {
    return (await this.issuers.byId(caId)).chainDer;
  }

  /** A CA for the generic API: a cluster's CAs sign only that cluster's kubeadm profiles. */
  private async genericIssuer(name: string): Promise<ReadyIssuer> {
    const issuer = await this.issuers.get(name);
    if (issuer.ca.clusterId !== undefined) {
      throw new DomainError("policy_violation", `CA ${name} belongs to a Kubernetes cluster: it signs only that cluster's kubeadm profiles (use the cluster endpoints)`, { field: "ca" });
    }
    return issuer;
  }

  /** Signs planned certificates and stores them in one transaction; a serial collision re-signs all. */
  private async signAll(context: RequestContext, items: readonly { plan: IssuancePlan; publicKeySpki: Uint8Array }[]): Promise<IssueResult[]> {
    return this.commits.prepare(async (submit) => {
      for (let attempt = 1; ; attempt++) {
        const signed = await Promise.all(items.map(async ({ plan, publicKeySpki }) => ({ plan, certificate: await signPlannedCertificate(this.deps, plan, publicKeySpki, { requestedBy: context.principal.id, serverGeneratedKey: false }) })));
        try {
          await this.store(submit, context, signed.map(({ plan, certificate }) => ({ certificate, caName: plan.issuer.ca.name })));
          return signed.map(({ plan, certificate }) => this.result(plan, certificate));
        } catch (error) {
          if (!isDomainError(error) || error.code !== "already_exists" || attempt >= ATTEMPTS) throw error;
        }
      }
    });
  }

  private result(plan: IssuancePlan, certificate: IssuedCertificate): IssueResult {
    return { certificate, caName: plan.issuer.ca.name, chainDer: plan.issuer.chainDer, replayed: false };
  }

  /** Stores certificates that must commit together (one request's), sharing a transaction with concurrent requests. */
  private async store(submit: (store: PendingStore) => Promise<void>, context: RequestContext, certificates: readonly { certificate: IssuedCertificate; caName: string }[]): Promise<void> {
    await submit({ context, certificates });
    for (const { certificate, caName } of certificates) this.deps.metrics?.certificateIssued({ ca: caName, profile: certificate.profile });
  }

  /** One transaction for the stores of several requests: the certificates, each CA's status check once, their audit entries in order. */
  private async storeAll(stores: readonly PendingStore[]): Promise<void> {
    const all = stores.flatMap((store) => store.certificates);
    await this.deps.uow.run(async (r) => {
      await r.certificates.create(all.map(({ certificate }) => certificate));
      // Checked after the insert, in the same transaction: issuers are cached for seconds, and a
      // CA revoked (disabled) meanwhile must not add a certificate its revocation did not see.
      const caNames = new Map(all.map(({ certificate, caName }) => [certificate.caId, caName]));
      const statuses = await r.authorities.statuses([...caNames.keys()]);
      for (const [caId, caName] of caNames) {
        if (statuses.get(caId) !== "active") throw new DomainError("wrong_state", `CA ${caName} was disabled (revoked) and cannot sign`, { field: "ca" });
      }
      for (const { context, certificates } of stores) {
        for (const { certificate, caName } of certificates) {
          await r.audit.record(
            {
              actor: context.principal.id,
              action: "certificate.issue",
              target: `certificate:${certificate.id}`,
              result: "success",
              requestId: context.requestId,
              details: { ca: caName, serial: certificate.serialHex, profile: certificate.profile, subject: certificate.subject, serverGeneratedKey: certificate.serverGeneratedKey },
            },
            certificate.createdAt,
          );
        }
      }
    });
  }

  /** The earlier result for a retried request, a conflict for a different request, or undefined. */
  private async replay(context: RequestContext, idempotencyKey: string, requestHash: string | undefined): Promise<IssueResult | undefined> {
    const earlier = await this.deps.uow.read((r) => r.certificates.findByIdempotencyKey(context.principal.id, idempotencyKey));
    if (earlier === undefined) return undefined;
    if (earlier.requestHash !== requestHash) {
      throw new DomainError("conflict", "this idempotency key was already used for a different request", { field: "idempotencyKey" });
    }
    if (earlier.serverGeneratedKey) {
      throw new DomainError("conflict", `certificate ${earlier.id} was already issued for this idempotency key; its private key was returned once and is not stored`, { field: "idempotencyKey" });
    }
    const issuer = await this.issuers.byId(earlier.caId);
    return { certificate: earlier, caName: issuer.name, chainDer: issuer.chainDer, replayed: true };
  }
}

function assertTtl(ttlSeconds: number | undefined): void {
  if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds < 60)) throw invalidInput("ttlSeconds", "must be an integer of at least 60");
}


/**
 * A client certificate of kpki's internal CA whose Organization names a kpki role is a KMIP
 * credential with that role (transports/kmip). Minting one is as strong as creating a token of that
 * role, so a certificate of an internal CA that carries any Organization needs what creating tokens
 * needs (the caller's transport says so); without an Organization it names no role and anyone
 * allowed to issue may have it.
 */
function assertNoCredentialMinting(context: RequestContext, internalCa: boolean, subjectDer: Uint8Array): void {
  if (!internalCa || context.mayIssueCredentials === true) return;
  const organizations = nameFields(parseName(subjectDer)).organization ?? [];
  if (organizations.length > 0) {
    throw new DomainError("permission_denied", `a certificate of kpki's internal CA with O=${organizations.join(",")} may be a kpki credential (a KMIP identity with the role its O names): issuing it needs the permission token.manage`, { field: "subject" });
  }
}

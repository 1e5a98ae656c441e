import { createHash } from "node:crypto";
import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { RequestContext } from "../shared/request-context.js";
import type { Clock } from "../shared/clock.js";
import { DomainError, invalidInput, isDomainError } from "../shared/domain-error.js";
import { newId, type CaId, type CertificateId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { signCertificate } from "./authority-signer.js";
import { IssuerCache, type ReadyIssuer } from "./issuer-cache.js";
import type { IssuedCertificate } from "./issued-certificate.js";
import { assertIssuanceAllowed } from "./policy/issuance-policy.js";
import type { EphemeralKeyGenerator, PkiRepositories } from "./ports.js";
import { keyUsageFor, type CertificateProfile } from "./profiles/profile.js";
import type { ProfileCatalog } from "./profiles/profile-catalog.js";
import { newSerialNumber, serialHex } from "./serial-number.js";
import { validityWindow } from "./validity.js";
import { parseCertificateRequest } from "./x509/csr.js";
import { subjectKeyIdentifier, type CertificateExtensions } from "./x509/extensions.js";
import { formatGeneralName, type GeneralName } from "./x509/general-name.js";
import { encodeName, formatName, nameFields, parseName, type SubjectFields } from "./x509/name.js";

/** Most SANs one certificate may carry; more is a mistake or an abuse. */
export const MAX_SUBJECT_ALT_NAMES = 100;
/** Idempotency keys: opaque caller-chosen strings (e.g. a UUID). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

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

/** The subject side of a request, whichever way it arrived. */
interface PlanSubject {
  readonly keyAlgorithm: KeyAlgorithm;
  readonly subjectDer: Uint8Array;
  readonly subjectAltNames: readonly GeneralName[];
  readonly requestedExtensions: CertificateExtensions;
}

/** A request the policy accepted, with everything needed to sign it. */
interface IssuancePlan {
  readonly profile: CertificateProfile;
  readonly issuer: ReadyIssuer;
  readonly now: Date;
  readonly subjectDer: Uint8Array;
  readonly subject: string;
  readonly commonName: string | undefined;
  readonly subjectAltNames: readonly GeneralName[];
  readonly keyAlgorithm: KeyAlgorithm;
  readonly notBefore: Date;
  readonly notAfter: Date;
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

/**
 * Issues end-entity certificates: checks the request against its profile, builds and signs the
 * certificate, and stores it with its audit record in one transaction.
 */
export class IssuanceService {
  private readonly issuers: IssuerCache;

  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly profiles: ProfileCatalog;
      readonly ephemeralKeys: EphemeralKeyGenerator;
    },
  ) {
    this.issuers = new IssuerCache(deps.uow, deps.clock);
  }

  async issue(context: RequestContext, request: IssueRequest): Promise<IssueResult> {
    if ((request.csrDer === undefined) === (request.keyAlgorithm === undefined)) {
      throw invalidInput("csr", "give either a CSR or a keyAlgorithm for a server-generated key, not both or neither");
    }
    if (request.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(request.idempotencyKey)) {
      throw invalidInput("idempotencyKey", "must be 8–128 characters of A-Z a-z 0-9 . _ : -");
    }
    if (request.ttlSeconds !== undefined && (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 60)) {
      throw invalidInput("ttlSeconds", "must be an integer of at least 60");
    }
    const requestHash = request.idempotencyKey === undefined ? undefined : hashRequest(request);
    if (request.idempotencyKey !== undefined) {
      const earlier = await this.replay(context, request.idempotencyKey, requestHash);
      if (earlier !== undefined) return earlier;
    }

    const csr = request.csrDer === undefined ? undefined : parseCertificateRequest(request.csrDer);
    const keyAlgorithm = csr?.publicKeyAlgorithm ?? request.keyAlgorithm;
    if (keyAlgorithm === undefined) throw invalidInput("keyAlgorithm", "missing");
    const plan = await this.plan(request, {
      keyAlgorithm,
      subjectDer: request.subject !== undefined ? encodeName(request.subject) : (csr?.subject.der ?? encodeName({})),
      subjectAltNames: request.subjectAltNames ?? csr?.requestedExtensions.subjectAltNames ?? [],
      requestedExtensions: csr?.requestedExtensions ?? {},
    });
    // The key is made only after the policy accepted the request, so refusals cost no key.
    const generated = csr === undefined ? await this.deps.ephemeralKeys.generate(keyAlgorithm) : undefined;
    const publicKeySpki = csr?.publicKeySpki ?? generated?.publicKeySpki;
    if (publicKeySpki === undefined) throw new DomainError("internal", "no public key");
    const stored = await this.signAndStore(context, plan, publicKeySpki, {
      serverGeneratedKey: generated !== undefined,
      ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey, requestHash }),
    });
    if (stored.replayed) return stored;
    return { ...stored, ...(generated === undefined ? {} : { privateKeyPkcs8: generated.privateKeyPkcs8 }) };
  }

  /**
   * Issues a certificate for a key pair that already exists and whose possession was proven
   * another way (the service's own TLS key, held by the crypto backend).
   */
  async issueForPublicKey(context: RequestContext, request: IssueForPublicKeyRequest): Promise<IssueResult> {
    const plan = await this.plan(request, {
      keyAlgorithm: request.keyAlgorithm,
      subjectDer: encodeName(request.subject ?? {}),
      subjectAltNames: request.subjectAltNames ?? [],
      requestedExtensions: {},
    });
    return this.signAndStore(context, plan, request.publicKeySpki, { serverGeneratedKey: false });
  }

  /** The chain (issuing CA first) of the CA with this id, e.g. to serve a stored certificate. */
  async chainFor(caId: CaId): Promise<readonly Uint8Array[]> {
    return (await this.issuers.byId(caId)).chainDer;
  }

  /** Resolves profile and issuer and applies the issuance policy; throws on any violation. */
  private async plan(request: { ca: string; profile: string; ttlSeconds?: number }, subject: PlanSubject): Promise<IssuancePlan> {
    const profile = this.deps.profiles.get(request.profile);
    const issuer = await this.issuers.get(request.ca);
    const now = this.deps.clock.now();
    const name = parseName(subject.subjectDer);
    const commonName = nameFields(name).commonName;
    const subjectAltNames = dedupe(subject.subjectAltNames);
    if (subjectAltNames.length > MAX_SUBJECT_ALT_NAMES) throw invalidInput("subjectAltNames", `at most ${MAX_SUBJECT_ALT_NAMES} names`);
    if (name.rdns.length === 0 && subjectAltNames.length === 0) {
      throw invalidInput("subject", "a certificate needs a subject or at least one subject alternative name");
    }
    const ttlSeconds = request.ttlSeconds ?? Math.min(profile.defaultTtlSeconds, Math.floor((issuer.ca.notAfter.getTime() - now.getTime()) / 1000));
    const { notBefore, notAfter } = validityWindow(now, ttlSeconds);
    assertIssuanceAllowed({
      profile,
      keyAlgorithm: subject.keyAlgorithm,
      ...(commonName === undefined ? {} : { commonName }),
      subjectAltNames,
      requestedExtensions: subject.requestedExtensions,
      issuedAt: now,
      notAfter,
      issuerNotAfter: issuer.ca.notAfter,
    });
    return { profile, issuer, now, subjectDer: subject.subjectDer, subject: formatName(name), commonName, subjectAltNames, keyAlgorithm: subject.keyAlgorithm, notBefore, notAfter };
  }

  /** Signs the planned certificate and stores it with its audit record; retries a colliding serial. */
  private async signAndStore(
    context: RequestContext,
    plan: IssuancePlan,
    publicKeySpki: Uint8Array,
    record: { serverGeneratedKey: boolean; idempotencyKey?: string; requestHash?: string },
  ): Promise<IssueResult> {
    const extensions: CertificateExtensions = {
      basicConstraints: { ca: false },
      keyUsage: keyUsageFor(plan.profile, plan.keyAlgorithm),
      extendedKeyUsage: plan.profile.extendedKeyUsage,
      ...(plan.subjectAltNames.length === 0 ? {} : { subjectAltNames: plan.subjectAltNames }),
      subjectKeyIdentifier: subjectKeyIdentifier(publicKeySpki),
      authorityKeyIdentifier: plan.issuer.ca.subjectKeyId,
    };
    for (let attempt = 1; ; attempt++) {
      const serial = newSerialNumber(this.deps.random);
      const der = await signCertificate(this.deps.crypto, plan.issuer.identity, {
        serialNumber: serial,
        subjectNameDer: plan.subjectDer,
        notBefore: plan.notBefore,
        notAfter: plan.notAfter,
        subjectPublicKeySpki: publicKeySpki,
        extensions,
      });
      const certificate: IssuedCertificate = {
        id: newId<CertificateId>(plan.now, this.deps.random),
        caId: plan.issuer.ca.id,
        serialHex: serialHex(serial),
        profile: plan.profile.name,
        subject: plan.subject,
        ...(plan.commonName === undefined ? {} : { commonName: plan.commonName }),
        subjectAltNames: plan.subjectAltNames.map(formatGeneralName),
        keyAlgorithm: plan.keyAlgorithm,
        status: "active",
        notBefore: plan.notBefore,
        notAfter: plan.notAfter,
        der,
        fingerprintSha256: createHash("sha256").update(der).digest("hex"),
        requestedBy: context.principal.id,
        ...record,
        createdAt: plan.now,
      };
      try {
        await this.store(context, certificate, plan.issuer.ca.name);
        return { certificate, caName: plan.issuer.ca.name, chainDer: plan.issuer.chainDer, replayed: false };
      } catch (error) {
        if (isDomainError(error) && error.code === "already_exists") {
          // Either a concurrent retry with the same idempotency key won the race, or (with odds of
          // 2^-126) the serial repeated: answer the former, draw a new serial for the latter.
          if (record.idempotencyKey !== undefined) {
            const earlier = await this.replay(context, record.idempotencyKey, record.requestHash);
            if (earlier !== undefined) return earlier;
          }
          if (attempt < 3) continue;
        }
        throw error;
      }
    }
  }

  private async store(context: RequestContext, certificate: IssuedCertificate, caName: string): Promise<void> {
    await this.deps.uow.run(async (r) => {
      await r.certificates.create(certificate);
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

/** Canonical digest of what was asked, so a retry can be told from a different request. */
function hashRequest(request: IssueRequest): string {
  const canonical = JSON.stringify([
    request.ca,
    request.profile,
    request.csrDer === undefined ? null : Buffer.from(request.csrDer).toString("base64"),
    request.keyAlgorithm ?? null,
    request.subject === undefined ? null : canonicalSubject(request.subject),
    request.subjectAltNames?.map(formatGeneralName) ?? null,
    request.ttlSeconds ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** Subject fields in a fixed order, so key order in the caller's JSON does not matter. */
function canonicalSubject(subject: SubjectFields): unknown[] {
  return [subject.commonName ?? null, subject.organization ?? null, subject.organizationalUnit ?? null, subject.country ?? null, subject.state ?? null, subject.locality ?? null];
}

function dedupe(names: readonly GeneralName[]): GeneralName[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = formatGeneralName(name).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

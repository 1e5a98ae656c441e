import { defaultSignatureAlgorithm, type KeyAlgorithm } from "../crypto/algorithms.js";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { KeyPairHandle } from "../crypto/key-handle.js";
import type { RequestContext } from "../shared/request-context.js";
import type { Clock } from "../shared/clock.js";
import { DomainError, invalidInput } from "../shared/domain-error.js";
import { newId, type CaId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { assertCaName } from "./authority-names.js";
import { chainOf } from "./authority-chain.js";
import { issuerOf, signCertificate, type IssuerIdentity } from "./authority-signer.js";
import { assertCanSign, type CertificateAuthority } from "./certificate-authority.js";
import type { PkiRepositories } from "./ports.js";
import { newSerialNumber, serialHex } from "./serial-number.js";
import { secondsBetween, validityWindow } from "./validity.js";
import { assembleCertificateRequest, encodeCertificationRequestInfo } from "./x509/csr-builder.js";
import { parseCertificate } from "./x509/certificate.js";
import { subjectKeyIdentifier, type CertificateExtensions } from "./x509/extensions.js";
import type { GeneralName } from "./x509/general-name.js";
import { encodeName, formatName, parseName, type SubjectFields } from "./x509/name.js";

/** Default CA lifetime: 10 years, kubeadm's CACertificateValidityPeriod. */
export const DEFAULT_CA_TTL_SECONDS = 10 * 365 * 86_400;

/** A CA to create. `external` makes the key and a CSR; the certificate is installed later. */
export interface CreateAuthorityRequest {
  readonly name: string;
  readonly type: "root" | "intermediate" | "external";
  /** Parent CA name (type `intermediate`). */
  readonly parent?: string;
  readonly subject: SubjectFields;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly ttlSeconds?: number;
  /** BasicConstraints pathLenConstraint; intermediates default to 0 (they sign leaves only). */
  readonly pathLength?: number;
  /** SANs on the CA certificate itself (kubeadm gives each CA `DNS:<its CN>`). */
  readonly subjectAltNames?: readonly GeneralName[];
  /** Marks the service's own CAs. */
  readonly internal?: boolean;
  /** Makes it one of a Kubernetes cluster's CAs (set by core/kubernetes). */
  readonly clusterId?: string;
}

/** The repositories hierarchy use cases need. */
export type HierarchyRepositories = PkiRepositories;

/**
 * The CA hierarchy: roots, intermediates under a parent, intermediates signed by an external CA,
 * and chains. Installing external certificates and importing CAs live in authority-import.ts.
 */
export class HierarchyService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<HierarchyRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
    },
  ) {}

  /** Creates a CA and returns it (pending with a CSR for `external`). */
  async create(context: RequestContext, request: CreateAuthorityRequest): Promise<CertificateAuthority> {
    const ca = await this.prepare(request);
    await this.deps.uow.run(async (r) => {
      await storeAuthority(r, context, ca, request.type);
    });
    return ca;
  }

  /**
   * Checks the request, makes the key and signs the certificate (or CSR) without storing anything,
   * so a caller can store several CAs with other records in one transaction (`storeAuthority`).
   */
  async prepare(request: CreateAuthorityRequest): Promise<CertificateAuthority> {
    assertCaName(request.name);
    if (request.pathLength !== undefined && (!Number.isInteger(request.pathLength) || request.pathLength < 0 || request.pathLength > 16)) {
      throw invalidInput("pathLength", "must be an integer from 0 to 16");
    }
    if (request.type !== "external" && request.ttlSeconds !== undefined && (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 3600)) {
      throw invalidInput("ttlSeconds", "must be an integer of at least 3600");
    }
    const subjectDer = encodeName(request.subject);
    if (request.subject.commonName === undefined || request.subject.commonName === "") {
      throw invalidInput("subject.commonName", "a CA needs a common name");
    }
    const parent = request.type === "intermediate" ? await this.parentFor(request) : undefined;
    if (request.type !== "intermediate" && request.parent !== undefined) {
      throw invalidInput("parent", `${request.type === "root" ? "a root" : "an external"} CA has no parent in kpki`);
    }
    await this.assertNameFree(request.name);

    const key = await this.deps.crypto.generateKeyPair(request.keyAlgorithm);
    const now = this.deps.clock.now();
    return request.type === "external" ? this.pendingExternal(request, key, subjectDer, now) : this.signed(request, key, subjectDer, parent, now);
  }

  /**
   * Re-issues the certificates of CAs kpki signed (roots and intermediates with their key here)
   * that expire within `withinSeconds`: same subject and key, a new serial and the same lifetime as
   * before (capped by the parent's), so everything they issued keeps chaining. Imported and
   * externally signed CAs are left alone (their issuer is not kpki).
   */
  async renewExpiring(context: RequestContext, withinSeconds: number): Promise<readonly string[]> {
    const now = this.deps.clock.now();
    const renewed: string[] = [];
    const all = await this.list();
    const byId = new Map(all.map((ca) => [ca.id as string, ca]));
    for (const ca of all) {
      if (ca.origin !== "generated" || ca.status !== "active" || ca.key === undefined || ca.notAfter === undefined || ca.notBefore === undefined || ca.certificateDer === undefined) continue;
      if (ca.notAfter.getTime() - now.getTime() > withinSeconds * 1000) continue;
      const parent = ca.parentId === undefined ? undefined : byId.get(ca.parentId);
      if (parent !== undefined && (parent.status !== "active" || parent.key === undefined)) continue;
      const lifetime = ca.notAfter.getTime() - ca.notBefore.getTime();
      const notBefore = validityWindow(now, 0).notBefore;
      const notAfter = new Date(Math.min(now.getTime() + lifetime, parent?.notAfter?.getTime() ?? Number.POSITIVE_INFINITY));
      if (notAfter.getTime() <= ca.notAfter.getTime()) continue; // the parent expires first: renew the parent
      const serial = newSerialNumber(this.deps.random);
      const certificateDer = await signCertificate(this.deps.crypto, parent === undefined ? { key: ca.key, keyAlgorithm: ca.keyAlgorithm, subjectDer: ca.subjectDer } : issuerOf(parent), {
        serialNumber: serial,
        subjectNameDer: ca.subjectDer,
        notBefore,
        notAfter,
        subjectPublicKeySpki: ca.publicKeySpki,
        extensions: caExtensions(ca.subjectKeyId, parent?.subjectKeyId, ca.pathLength, await this.subjectAltNamesOf(ca)),
      });
      const updated: CertificateAuthority = { ...ca, certificateDer, serialHex: serialHex(serial), notBefore, notAfter, updatedAt: now };
      await this.deps.uow.run(async (r) => {
        await r.authorities.update(updated);
        await r.audit.record(
          { actor: context.principal.id, action: "ca.renew", target: `ca:${ca.id}`, result: "success", requestId: context.requestId, details: { name: ca.name, serial: updated.serialHex ?? null, notAfter: notAfter.toISOString() } },
          now,
        );
      });
      renewed.push(ca.name);
    }
    return renewed;
  }

  async list(): Promise<readonly CertificateAuthority[]> {
    return this.deps.uow.read((r) => r.authorities.list());
  }

  /** The named CA, or `not_found`. */
  async get(name: string): Promise<CertificateAuthority> {
    const ca = await this.deps.uow.read((r) => r.authorities.findByName(name));
    if (ca === undefined) throw new DomainError("not_found", `CA ${name} does not exist`, { field: "ca" });
    return ca;
  }

  /**
   * The CA's certificate followed by its issuers up to the root (or the external chain supplied at
   * installation), nearest first: what a TLS peer sends after its leaf.
   */
  async chain(name: string): Promise<readonly Uint8Array[]> {
    return this.deps.uow.read(async (r) => {
      const ca = await r.authorities.findByName(name);
      if (ca === undefined) throw new DomainError("not_found", `CA ${name} does not exist`, { field: "ca" });
      return chainOf(r, ca);
    });
  }

  /** The SANs on a CA's current certificate (kept when it is renewed). */
  private async subjectAltNamesOf(ca: CertificateAuthority): Promise<readonly GeneralName[]> {
    return ca.certificateDer === undefined ? [] : (parseCertificate(ca.certificateDer).extensions.subjectAltNames ?? []);
  }

  private async parentFor(request: CreateAuthorityRequest): Promise<CertificateAuthority> {
    if (request.parent === undefined) throw invalidInput("parent", "an intermediate CA needs a parent CA");
    const parent = await this.deps.uow.read((r) => r.authorities.findByName(request.parent ?? ""));
    if (parent === undefined) throw new DomainError("not_found", `parent CA ${request.parent} does not exist`, { field: "parent" });
    try {
      assertCanSign(parent);
    } catch (error) {
      if (error instanceof DomainError) throw new DomainError(error.code, `parent: ${error.message}`, { field: "parent" });
      throw error;
    }
    if (parent.pathLength !== undefined && parent.pathLength === 0) {
      throw new DomainError("policy_violation", `parent CA ${parent.name} has pathLength 0: it may sign end-entity certificates only`, { field: "parent" });
    }
    const requested = request.pathLength ?? 0;
    if (parent.pathLength !== undefined && requested >= parent.pathLength) {
      throw new DomainError("policy_violation", `pathLength ${requested} must be below the parent's ${parent.pathLength}`, { field: "pathLength" });
    }
    return parent;
  }

  private async assertNameFree(name: string): Promise<void> {
    const existing = await this.deps.uow.read((r) => r.authorities.findByName(name));
    if (existing !== undefined) throw new DomainError("already_exists", `CA ${name} already exists`, { field: "name" });
  }

  private async signed(
    request: CreateAuthorityRequest,
    key: KeyPairHandle,
    subjectDer: Uint8Array,
    parent: CertificateAuthority | undefined,
    now: Date,
  ): Promise<CertificateAuthority> {
    const ttlSeconds = request.ttlSeconds ?? DEFAULT_CA_TTL_SECONDS;
    const { notBefore, notAfter } = validityWindow(now, ttlSeconds);
    if (parent?.notAfter !== undefined && notAfter > parent.notAfter) {
      if (request.ttlSeconds !== undefined) {
        throw new DomainError("policy_violation", `CA would outlive its parent ${parent.name} (parent expires ${parent.notAfter.toISOString()}; at most ${secondsBetween(now, parent.notAfter)}s left)`, { field: "ttlSeconds" });
      }
      notAfter.setTime(parent.notAfter.getTime());
    }
    const pathLength = request.type === "root" ? request.pathLength : (request.pathLength ?? 0);
    const extensions = caExtensions(subjectKeyIdentifier(key.publicKeySpki), parent?.subjectKeyId, pathLength, request.subjectAltNames ?? []);
    const issuer: IssuerIdentity =
      parent === undefined ? { key: key.handle, keyAlgorithm: request.keyAlgorithm, subjectDer } : issuerOf(parent);
    const serial = newSerialNumber(this.deps.random);
    const certificateDer = await signCertificate(this.deps.crypto, issuer, {
      serialNumber: serial,
      subjectNameDer: subjectDer,
      notBefore,
      notAfter,
      subjectPublicKeySpki: key.publicKeySpki,
      extensions,
    });
    return {
      ...this.baseAuthority(request, key, subjectDer, now),
      origin: "generated",
      status: "active",
      ...(parent === undefined ? {} : { parentId: parent.id }),
      certificateDer,
      serialHex: serialHex(serial),
      ...(pathLength === undefined ? {} : { pathLength }),
      notBefore,
      notAfter,
    };
  }

  private async pendingExternal(request: CreateAuthorityRequest, key: KeyPairHandle, subjectDer: Uint8Array, now: Date): Promise<CertificateAuthority> {
    const pathLength = request.pathLength ?? 0;
    // The CSR asks for what the certificate must carry; the external CA decides what it signs, and
    // installation checks the result (authority-import.ts).
    const cri = encodeCertificationRequestInfo(subjectDer, key.publicKeySpki, {
      basicConstraints: { ca: true, pathLength },
      keyUsage: ["digitalSignature", "keyCertSign", "cRLSign"],
    });
    const signatureAlgorithm = defaultSignatureAlgorithm(request.keyAlgorithm);
    const signature = await this.deps.crypto.sign(key.handle, signatureAlgorithm, cri);
    return {
      ...this.baseAuthority(request, key, subjectDer, now),
      origin: "external",
      status: "pending",
      csrDer: assembleCertificateRequest(cri, signatureAlgorithm, signature),
      pathLength,
    };
  }

  private baseAuthority(request: CreateAuthorityRequest, key: KeyPairHandle, subjectDer: Uint8Array, now: Date) {
    return {
      id: newId<CaId>(now, this.deps.random),
      name: request.name,
      internal: request.internal ?? false,
      keyAlgorithm: request.keyAlgorithm,
      key: key.handle,
      publicKeySpki: key.publicKeySpki,
      subject: formatName(parseName(subjectDer)),
      subjectDer,
      subjectKeyId: subjectKeyIdentifier(key.publicKeySpki),
      ...(request.clusterId === undefined ? {} : { clusterId: request.clusterId }),
      createdAt: now,
      updatedAt: now,
    } as const;
  }
}

/** The extensions of a CA certificate (RFC 5280 §4.2.1.9: basic constraints critical, keyCertSign). */
function caExtensions(ski: Uint8Array, aki: Uint8Array | undefined, pathLength: number | undefined, subjectAltNames: readonly GeneralName[]): CertificateExtensions {
  return {
    basicConstraints: { ca: true, ...(pathLength === undefined ? {} : { pathLength }) },
    keyUsage: ["digitalSignature", "keyCertSign", "cRLSign"],
    subjectKeyIdentifier: ski,
    ...(aki === undefined ? {} : { authorityKeyIdentifier: aki }),
    ...(subjectAltNames.length === 0 ? {} : { subjectAltNames }),
  };
}

/** Stores a prepared CA with its audit record, inside the caller's transaction. */
export async function storeAuthority(r: PkiRepositories, context: RequestContext, ca: CertificateAuthority, type: CreateAuthorityRequest["type"]): Promise<void> {
  await r.authorities.create(ca);
  await r.audit.record(
    {
      actor: context.principal.id,
      action: "ca.create",
      target: `ca:${ca.id}`,
      result: "success",
      requestId: context.requestId,
      details: { name: ca.name, type, parent: ca.parentId ?? null, keyAlgorithm: ca.keyAlgorithm, serial: ca.serialHex ?? null, cluster: ca.clusterId ?? null },
    },
    ca.createdAt,
  );
}

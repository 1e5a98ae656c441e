import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { RequestContext } from "../shared/request-context.js";
import type { Clock } from "../shared/clock.js";
import { DomainError, invalidInput } from "../shared/domain-error.js";
import { newId, type CaId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { assertCaName } from "./authority-names.js";
import type { CertificateAuthority } from "./certificate-authority.js";
import type { PkiRepositories } from "./ports.js";
import { parseCertificate, verifyIssuedBy, type ParsedCertificate } from "./x509/certificate.js";
import { subjectKeyIdentifier } from "./x509/extensions.js";
import { formatName } from "./x509/name.js";

/** An existing CA brought into kpki: its certificate, its private key, and optionally its issuers. */
export interface ImportAuthorityRequest {
  readonly name: string;
  readonly certificateDer: Uint8Array;
  /** DER PKCS#8. */
  readonly privateKeyPkcs8: Uint8Array;
  /** Parent CA in kpki that issued this one, if any. */
  readonly parent?: string;
  /** DER certificates above this CA when its issuer is not in kpki, nearest first. */
  readonly chainDer?: readonly Uint8Array[];
}

/** An externally signed certificate for a pending CA, with the issuer chain above it. */
export interface InstallCertificateRequest {
  readonly name: string;
  readonly certificateDer: Uint8Array;
  readonly chainDer?: readonly Uint8Array[];
}

/**
 * CAs whose certificate comes from outside: installing the externally signed certificate of a
 * pending intermediate, and importing an existing CA with its key. Every certificate is checked
 * before anything is stored: it is a CA, may sign certificates, is within validity, matches the
 * key, and chains to the issuers given.
 */
export class AuthorityImportService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
    },
  ) {}

  /** Installs the certificate an external CA signed for a pending CA; the CA becomes active. */
  async install(context: RequestContext, request: InstallCertificateRequest): Promise<CertificateAuthority> {
    const now = this.deps.clock.now();
    const certificate = parseCertificate(request.certificateDer);
    const chain = (request.chainDer ?? []).map((der) => parseCertificate(der));
    return this.deps.uow.run(async (r) => {
      const ca = await r.authorities.findByName(request.name);
      if (ca === undefined) throw new DomainError("not_found", `CA ${request.name} does not exist`, { field: "ca" });
      if (ca.status !== "pending") throw new DomainError("wrong_state", `CA ${ca.name} is ${ca.status}; only a pending CA takes a certificate`);
      if (!sameBytes(certificate.publicKeySpki, ca.publicKeySpki)) {
        throw invalidInput("certificate", `the certificate's public key is not the key of CA ${ca.name} (was it signed from this CA's CSR?)`);
      }
      assertUsableCaCertificate(certificate, now);
      assertChain(certificate, chain, now);
      const installed: CertificateAuthority = {
        ...ca,
        ...fieldsFromCertificate(certificate, chain),
        status: "active",
        updatedAt: now,
      };
      await r.authorities.update(installed);
      await r.audit.record(
        { actor: context.principal.id, action: "ca.install-certificate", target: `ca:${ca.id}`, result: "success", requestId: context.requestId, details: { name: ca.name, serial: certificate.serialHex, issuer: formatName(certificate.issuer) } },
        now,
      );
      return installed;
    });
  }

  /** Imports an existing CA certificate and its private key (sealed on arrival). */
  async import(context: RequestContext, request: ImportAuthorityRequest): Promise<CertificateAuthority> {
    assertCaName(request.name);
    const now = this.deps.clock.now();
    const certificate = parseCertificate(request.certificateDer);
    assertUsableCaCertificate(certificate, now);
    const chain = (request.chainDer ?? []).map((der) => parseCertificate(der));
    const parent = request.parent === undefined ? undefined : await this.deps.uow.read((r) => r.authorities.findByName(request.parent ?? ""));
    if (request.parent !== undefined && parent === undefined) throw new DomainError("not_found", `parent CA ${request.parent} does not exist`, { field: "parent" });
    if (parent !== undefined) {
      if (chain.length > 0) throw invalidInput("chain", "give either a parent CA in kpki or an external chain, not both");
      if (parent.certificateDer === undefined || !verifyIssuedBy(certificate, parent.publicKeySpki)) {
        throw invalidInput("certificate", `the certificate was not issued by parent CA ${parent.name}`);
      }
    } else {
      assertChain(certificate, chain, now);
    }
    const key = await this.deps.crypto.importPrivateKey(request.privateKeyPkcs8);
    if (!sameBytes(key.publicKeySpki, certificate.publicKeySpki)) {
      throw invalidInput("privateKey", "the private key does not match the certificate's public key");
    }
    const ca: CertificateAuthority = {
      id: newId<CaId>(now, this.deps.random),
      name: request.name,
      origin: "imported",
      status: "active",
      internal: false,
      keyAlgorithm: certificate.publicKeyAlgorithm,
      key: key.handle,
      publicKeySpki: key.publicKeySpki,
      ...fieldsFromCertificate(certificate, parent === undefined ? chain : []),
      ...(parent === undefined ? {} : { parentId: parent.id }),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.uow.run(async (r) => {
      if ((await r.authorities.findByName(ca.name)) !== undefined) throw new DomainError("already_exists", `CA ${ca.name} already exists`, { field: "name" });
      await r.authorities.create(ca);
      await r.audit.record(
        { actor: context.principal.id, action: "ca.import", target: `ca:${ca.id}`, result: "success", requestId: context.requestId, details: { name: ca.name, serial: certificate.serialHex, subject: ca.subject } },
        now,
      );
    });
    return ca;
  }
}

/** The CA fields a certificate determines. */
function fieldsFromCertificate(certificate: ParsedCertificate, chain: readonly ParsedCertificate[]) {
  const pathLength = certificate.extensions.basicConstraints?.pathLength;
  return {
    subject: formatName(certificate.subject),
    subjectDer: certificate.subject.der,
    subjectKeyId: certificate.extensions.subjectKeyIdentifier ?? subjectKeyIdentifier(certificate.publicKeySpki),
    certificateDer: certificate.der,
    ...(chain.length === 0 ? {} : { externalChainDer: chain.map((c) => c.der) }),
    serialHex: certificate.serialHex,
    // Always set (possibly undefined): the certificate, not the pending request, is the truth.
    pathLength,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/** RFC 5280 §4.2.1.9/§4.2.1.3: a CA certificate must assert cA and, if it has keyUsage, keyCertSign. */
function assertUsableCaCertificate(certificate: ParsedCertificate, now: Date): void {
  if (certificate.extensions.basicConstraints?.ca !== true) throw invalidInput("certificate", "not a CA certificate (basicConstraints cA is not TRUE)");
  const keyUsage = certificate.extensions.keyUsage;
  if (keyUsage !== undefined && !keyUsage.includes("keyCertSign")) throw invalidInput("certificate", "the CA certificate's keyUsage lacks keyCertSign");
  if (certificate.notAfter.getTime() <= now.getTime()) throw invalidInput("certificate", `the certificate expired on ${certificate.notAfter.toISOString()}`);
  if (certificate.notBefore.getTime() > now.getTime() + 5 * 60_000) throw invalidInput("certificate", `the certificate is not valid before ${certificate.notBefore.toISOString()}`);
}

/** Each certificate must be signed by the next one in the chain, whose subject is its issuer, and be current. */
function assertChain(certificate: ParsedCertificate, chain: readonly ParsedCertificate[], now: Date): void {
  let child = certificate;
  chain.forEach((issuer, index) => {
    if (issuer.notAfter.getTime() <= now.getTime()) throw invalidInput("chain", `chain certificate ${index + 1} (${formatName(issuer.subject)}) expired on ${issuer.notAfter.toISOString()}`);
    if (!sameBytes(child.issuer.der, issuer.subject.der) || !verifyIssuedBy(child, issuer.publicKeySpki)) {
      throw invalidInput("chain", `chain certificate ${index + 1} (${formatName(issuer.subject)}) did not issue ${formatName(child.subject)}`);
    }
    if (issuer.extensions.basicConstraints?.ca !== true) throw invalidInput("chain", `chain certificate ${index + 1} is not a CA`);
    child = issuer;
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

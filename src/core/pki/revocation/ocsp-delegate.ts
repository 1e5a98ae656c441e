import type { KeyAlgorithm } from "../../crypto/algorithms.js";
import type { CryptoBackend } from "../../crypto/crypto-backend.js";
import type { KeyHandle } from "../../crypto/key-handle.js";
import type { Clock } from "../../shared/clock.js";
import { newId, type CertificateId } from "../../shared/ids.js";
import type { RandomSource } from "../../shared/random.js";
import type { UnitOfWork } from "../../shared/unit-of-work.js";
import { signCertificate } from "../authority-signer.js";
import type { CertificateAuthority } from "../certificate-authority.js";
import type { PkiRepositories } from "../ports.js";
import { newSerialNumber, serialHex } from "../serial-number.js";
import { validityWindow } from "../validity.js";
import { parseCertificate } from "../x509/certificate.js";
import { subjectKeyIdentifier } from "../x509/extensions.js";
import { encodeName, formatName, nameFields, parseName } from "../x509/name.js";
import { ExtendedKeyUsageOid, OcspOid } from "../x509/oids.js";
import { revocationKey } from "./revocation-key.js";

/** The inventory profile of delegated OCSP responder certificates. */
export const OCSP_SIGNING_PROFILE = "ocsp-signing";

/** Who the inventory and the audit trail name as requesting a responder certificate. */
const REQUESTED_BY = "system:kpki";

/** Responder keys are ECDSA P-256: cheap to make and to sign with, understood by every OCSP client. */
const DELEGATE_KEY_ALGORITHM: KeyAlgorithm = "ECDSA-P256";

/** DER NULL: the value of id-pkix-ocsp-nocheck. */
const DER_NULL = Uint8Array.of(0x05, 0x00);

/** A CA's delegated OCSP responder: its key (sealed, in this process's memory only) and certificate. */
export interface OcspDelegate {
  readonly key: KeyHandle;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly publicKeySpki: Uint8Array;
  readonly certificateDer: Uint8Array;
  readonly notAfter: Date;
}

/**
 * Delegated OCSP signing (RFC 6960 §4.2.2.2): each CA issues a short-lived responder certificate
 * (id-kp-OCSPSigning, id-pkix-ocsp-nocheck, digitalSignature only) whose key signs the answers, so
 * the CA key signs once per responder certificate instead of once per answer. The responder key is
 * made per process and never stored (each replica has its own certificate); the certificate is
 * recorded in the inventory and the audit trail like any certificate the CA signs. nocheck, because
 * a responder cannot vouch for its own status (§4.2.2.2.1): the short lifetime bounds the damage
 * of a lost responder key instead. A certificate is replaced when half its lifetime is gone, so an
 * answer (valid an hour) never outlives its signer's certificate.
 */
export class OcspSigningDelegates {
  private readonly delegates = new Map<string, Promise<OcspDelegate>>();

  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly lifetimeSeconds: number;
    },
  ) {}

  /** The CA's current responder, issued on first use and when half its lifetime is gone. */
  async for(ca: CertificateAuthority): Promise<OcspDelegate> {
    const cacheKey = `${ca.id}:${ca.serialHex ?? ""}`;
    const nowMillis = this.deps.clock.now().getTime();
    const cached = this.delegates.get(cacheKey);
    if (cached !== undefined) {
      const delegate = await cached.catch(() => undefined);
      if (delegate !== undefined && delegate.notAfter.getTime() - nowMillis > (this.deps.lifetimeSeconds * 1000) / 2) return delegate;
    }
    // One issuance at a time per CA: concurrent answers wait for the same certificate.
    const issuing = this.issue(ca);
    this.delegates.set(cacheKey, issuing);
    issuing.catch(() => this.delegates.delete(cacheKey));
    return issuing;
  }

  private async issue(ca: CertificateAuthority): Promise<OcspDelegate> {
    const signer = revocationKey(ca);
    const now = this.deps.clock.now();
    const pair = await this.deps.crypto.generateKeyPair(DELEGATE_KEY_ALGORITHM);
    const { notBefore, notAfter: wanted } = validityWindow(now, this.deps.lifetimeSeconds);
    const notAfter = ca.notAfter !== undefined && ca.notAfter < wanted ? ca.notAfter : wanted;
    const serial = newSerialNumber(this.deps.random);
    const caName = nameFields(parseName(ca.subjectDer)).commonName ?? ca.name;
    const commonName = `${caName} OCSP responder`.slice(0, 64);
    const subjectDer = encodeName({ commonName });
    const subject = formatName(parseName(subjectDer));
    const der = await signCertificate(this.deps.crypto, signer, {
      serialNumber: serial,
      subjectNameDer: subjectDer,
      notBefore,
      notAfter,
      subjectPublicKeySpki: pair.publicKeySpki,
      extensions: {
        basicConstraints: { ca: false },
        keyUsage: ["digitalSignature"],
        extendedKeyUsage: [ExtendedKeyUsageOid.ocspSigning],
        subjectKeyIdentifier: subjectKeyIdentifier(pair.publicKeySpki),
        authorityKeyIdentifier: ca.subjectKeyId,
        other: [{ oid: OcspOid.noCheck, critical: false, valueDer: DER_NULL }],
      },
    });
    const parsed = parseCertificate(der);
    const id = newId<CertificateId>(now, this.deps.random);
    await this.deps.uow.run(async (r) => {
      await r.certificates.create([{
        id,
        caId: ca.id,
        serialHex: serialHex(serial),
        profile: OCSP_SIGNING_PROFILE,
        subject,
        commonName,
        subjectAltNames: [],
        keyAlgorithm: DELEGATE_KEY_ALGORITHM,
        status: "active",
        notBefore,
        notAfter,
        der,
        fingerprintSha256: parsed.fingerprintSha256,
        requestedBy: REQUESTED_BY,
        serverGeneratedKey: true,
        createdAt: now,
      }]);
      await r.audit.record(
        { actor: REQUESTED_BY, action: "certificate.issue", target: `certificate:${id}`, result: "success", details: { ca: ca.name, serial: serialHex(serial), profile: OCSP_SIGNING_PROFILE, subject, serverGeneratedKey: true } },
        now,
      );
    });
    return { key: pair.handle, keyAlgorithm: DELEGATE_KEY_ALGORITHM, publicKeySpki: pair.publicKeySpki, certificateDer: der, notAfter };
  }
}

import type { KeyAlgorithm } from "../crypto/algorithms.js";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { KeyHandle } from "../crypto/key-handle.js";
import type { Clock } from "../shared/clock.js";
import { newId, type CertificateId, type KeyMaterialId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import type { RequestContext } from "../shared/request-context.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { IssuanceService } from "./issuance-service.js";
import type { PkiRepositories } from "./ports.js";
import { formatGeneralName, parseGeneralNameText, type GeneralName } from "./x509/general-name.js";

/** Settings keys under which the current TLS certificate and key are remembered. */
const CERTIFICATE_SETTING = "service.tls.certificate_id";
const KEY_SETTING = "service.tls.key_id";
const KEY_ALGORITHM: KeyAlgorithm = "ECDSA-P256";
/** Re-issue when less than this remains, well before clients start failing. */
const RENEW_WITHIN_SECONDS = 30 * 86_400;

/** What the HTTPS (and later KMIP) listener serves: certificate, chain and the key's handle. */
export interface ServiceTlsIdentity {
  readonly certificateDer: Uint8Array;
  /** Issuer chain, nearest first. */
  readonly chainDer: readonly Uint8Array[];
  readonly key: KeyHandle;
  /** True when this call issued a new certificate. */
  readonly renewed: boolean;
}

/**
 * The service's own TLS server certificate, issued by its internal CA. Reused across restarts;
 * re-issued (with the same sealed key) when it nears expiry or the set of names changed.
 */
export class ServiceIdentityService {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<PkiRepositories>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly random: RandomSource;
      readonly issuance: IssuanceService;
    },
  ) {}

  async ensureTlsIdentity(context: RequestContext, request: { ca: string; names: readonly GeneralName[] }): Promise<ServiceTlsIdentity> {
    const now = this.deps.clock.now();
    const wanted = new Set(request.names.map(formatGeneralName));
    const current = await this.stored();
    const key = current.key ?? (await this.newKey(now));
    const certificate = current.certificate;
    const fresh =
      certificate !== undefined &&
      current.key !== undefined &&
      certificate.status === "active" &&
      certificate.notAfter.getTime() - now.getTime() > RENEW_WITHIN_SECONDS * 1000 &&
      certificate.subjectAltNames.length === wanted.size &&
      certificate.subjectAltNames.every((name) => wanted.has(name));
    if (fresh) {
      const chainDer = await this.deps.issuance.chainFor(certificate.caId);
      return { certificateDer: certificate.der, chainDer, key: key.handle, renewed: false };
    }
    const issued = await this.issue(context, request.ca, key.publicKeySpki, request.names, now);
    return { certificateDer: issued.certificate.der, chainDer: issued.chainDer, key: key.handle, renewed: true };
  }

  /** The TLS certificate and key the settings name now (either may be absent before the first start). */
  private stored() {
    return this.deps.uow.read(async (r) => {
      const certificateId = await r.settings.get(CERTIFICATE_SETTING);
      const keyId = await r.settings.get(KEY_SETTING);
      return {
        certificate: certificateId === undefined ? undefined : await r.certificates.findById(certificateId as CertificateId),
        key: keyId === undefined ? undefined : await r.keyMaterials.findById(keyId as KeyMaterialId),
      };
    });
  }

  /**
   * Re-issues the current TLS certificate, with the names it has, when it nears expiry (the
   * scheduled job). Unlike `ensureTlsIdentity` it never changes the names: it may run in any
   * process (`kpki rotate` in a CronJob pod, another replica), whose host name is not the service's.
   * Nothing to do before the first `kpki serve` has issued one.
   */
  async renewIfExpiring(context: RequestContext, ca: string): Promise<{ renewed: boolean; notAfter?: Date }> {
    const now = this.deps.clock.now();
    const current = await this.stored();
    const { certificate, key } = current;
    if (certificate === undefined || key === undefined) return { renewed: false };
    if (certificate.status === "active" && certificate.notAfter.getTime() - now.getTime() > RENEW_WITHIN_SECONDS * 1000) return { renewed: false, notAfter: certificate.notAfter };
    const issued = await this.issue(context, ca, key.publicKeySpki, certificate.subjectAltNames.map((name) => parseGeneralNameText(name)), now);
    return { renewed: true, notAfter: issued.certificate.notAfter };
  }

  private async issue(context: RequestContext, ca: string, publicKeySpki: Uint8Array, names: readonly GeneralName[], now: Date) {
    const issued = await this.deps.issuance.issueForPublicKey(context, {
      ca,
      profile: "server",
      keyAlgorithm: KEY_ALGORITHM,
      publicKeySpki,
      subject: { commonName: "kpki", organization: ["kpki"] },
      subjectAltNames: names,
    });
    await this.deps.uow.run(async (r) => {
      await r.settings.set(CERTIFICATE_SETTING, issued.certificate.id, now);
    });
    return issued;
  }

  private async newKey(now: Date) {
    const generated = await this.deps.crypto.generateKeyPair(KEY_ALGORITHM);
    const stored = { id: newId<KeyMaterialId>(now, this.deps.random), handle: generated.handle, publicKeySpki: generated.publicKeySpki };
    await this.deps.uow.run(async (r) => {
      await r.keyMaterials.create(stored, now);
      await r.settings.set(KEY_SETTING, stored.id, now);
    });
    return stored;
  }
}

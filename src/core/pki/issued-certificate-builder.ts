import { createHash } from "node:crypto";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import { newId, type CertificateId } from "../shared/ids.js";
import type { RandomSource } from "../shared/random.js";
import { signCertificate } from "./authority-signer.js";
import type { IssuancePlan } from "./issuance-plan.js";
import type { IssuedCertificate } from "./issued-certificate.js";
import { keyUsageFor } from "./profiles/profile.js";
import type { RevocationPointers } from "./revocation/revocation-pointers.js";
import { newSerialNumber, serialHex } from "./serial-number.js";
import { subjectKeyIdentifier, type CertificateExtensions } from "./x509/extensions.js";
import { formatGeneralName } from "./x509/general-name.js";

/** How the certificate came to be, recorded in the inventory. */
export interface IssuanceRecord {
  readonly requestedBy: string;
  readonly serverGeneratedKey: boolean;
  readonly idempotencyKey?: string;
  readonly requestHash?: string;
}

/**
 * Signs a planned certificate with a fresh serial: end-entity basic constraints, the profile's key
 * usages (never the CSR's), SANs, SKI and AKI. Returns the inventory entry, not yet stored.
 */
export async function signPlannedCertificate(
  deps: { readonly crypto: CryptoBackend; readonly random: RandomSource; readonly revocationPointers?: RevocationPointers },
  plan: IssuancePlan,
  publicKeySpki: Uint8Array,
  record: IssuanceRecord,
): Promise<IssuedCertificate> {
  const extensions: { -readonly [K in keyof CertificateExtensions]: CertificateExtensions[K] } = {
    basicConstraints: { ca: false },
    keyUsage: keyUsageFor(plan.profile, plan.keyAlgorithm),
    extendedKeyUsage: plan.profile.extendedKeyUsage,
    ...(plan.subjectAltNames.length === 0 ? {} : { subjectAltNames: plan.subjectAltNames }),
    subjectKeyIdentifier: subjectKeyIdentifier(publicKeySpki),
    authorityKeyIdentifier: plan.issuer.ca.subjectKeyId,
  };
  const pointers = deps.revocationPointers?.(plan.issuer.ca.name);
  if (pointers !== undefined) {
    extensions.crlDistributionPoints = [pointers.crl];
    extensions.authorityInfoAccess = { ocsp: [pointers.ocsp], caIssuers: [pointers.caIssuers] };
  }
  const serial = newSerialNumber(deps.random);
  const der = await signCertificate(deps.crypto, plan.issuer.identity, {
    serialNumber: serial,
    subjectNameDer: plan.subjectDer,
    notBefore: plan.notBefore,
    notAfter: plan.notAfter,
    subjectPublicKeySpki: publicKeySpki,
    extensions,
  });
  return {
    id: newId<CertificateId>(plan.now, deps.random),
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
    ...record,
    createdAt: plan.now,
  };
}

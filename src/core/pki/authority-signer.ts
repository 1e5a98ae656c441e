import { defaultSignatureAlgorithm, type KeyAlgorithm } from "../crypto/algorithms.js";
import type { CryptoBackend } from "../crypto/crypto-backend.js";
import type { KeyHandle } from "../crypto/key-handle.js";
import { assertCanSign, type CertificateAuthority } from "./certificate-authority.js";
import { assembleCertificate, encodeTbsCertificate, type CertificateTemplate } from "./x509/certificate-builder.js";

/** The parts of an issuer that signing needs: its key and the name it writes as issuer. */
export interface IssuerIdentity {
  readonly key: KeyHandle;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly subjectDer: Uint8Array;
}

/** A certificate body: everything but the issuer name and signature algorithm, which come from the issuer. */
export type CertificateBody = Omit<CertificateTemplate, "issuerNameDer" | "signatureAlgorithm">;

/**
 * Signs a certificate body with an issuer's key through the crypto backend. The signature
 * algorithm follows the issuer key (defaultSignatureAlgorithm), as Go's crypto/x509 does.
 */
export async function signCertificate(crypto: CryptoBackend, issuer: IssuerIdentity, body: CertificateBody): Promise<Uint8Array> {
  const signatureAlgorithm = defaultSignatureAlgorithm(issuer.keyAlgorithm);
  const tbs = encodeTbsCertificate({ ...body, issuerNameDer: issuer.subjectDer, signatureAlgorithm });
  const signature = await crypto.sign(issuer.key, signatureAlgorithm, tbs);
  return assembleCertificate(tbs, signatureAlgorithm, signature);
}

/** The signing identity of an active CA. */
export function issuerOf(ca: CertificateAuthority): IssuerIdentity {
  assertCanSign(ca);
  return { key: ca.key, keyAlgorithm: ca.keyAlgorithm, subjectDer: ca.subjectDer };
}

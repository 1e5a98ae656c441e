import type { SignatureAlgorithm } from "../../../crypto/algorithms.js";
import { assembleCertificate, encodeTbsCertificate, type CertificateTemplate } from "../certificate-builder.js";
import { subjectKeyIdentifier, type CertificateExtensions } from "../extensions.js";
import { encodeName, type SubjectFields } from "../name.js";
import { testSign, type TestKey } from "./keys.js";

// Test-only issuance: the builder plus node:crypto signing, the way the issuance service uses them.

/** An issued test certificate with what a child needs from it. */
export interface TestCertificate {
  readonly der: Uint8Array;
  readonly key: TestKey;
  readonly subjectDer: Uint8Array;
  readonly ski: Uint8Array;
}

/** Options for one test certificate; the issuer defaults to self (a root). */
export interface IssueOptions {
  readonly key: TestKey;
  readonly subject: SubjectFields;
  readonly extensions: CertificateExtensions;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly issuer?: TestCertificate;
  readonly serialNumber?: Uint8Array;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

let serial = 0x1000;

/** Builds, signs and assembles a certificate; adds SKI, and AKI when there is an issuer. */
export function issue(o: IssueOptions): TestCertificate {
  const subjectDer = encodeName(o.subject);
  const ski = subjectKeyIdentifier(o.key.spkiDer);
  const now = Date.now();
  const template: CertificateTemplate = {
    serialNumber: o.serialNumber ?? Uint8Array.of(0x7a, 0x11, (serial >> 8) & 0xff, serial++ & 0xff),
    issuerNameDer: o.issuer?.subjectDer ?? subjectDer,
    subjectNameDer: subjectDer,
    notBefore: o.notBefore ?? new Date(now - 3_600_000),
    notAfter: o.notAfter ?? new Date(now + 30 * 86_400_000),
    subjectPublicKeySpki: o.key.spkiDer,
    signatureAlgorithm: o.signatureAlgorithm,
    extensions: { ...o.extensions, subjectKeyIdentifier: ski, ...(o.issuer ? { authorityKeyIdentifier: o.issuer.ski } : {}) },
  };
  const tbs = encodeTbsCertificate(template);
  const signer = o.issuer?.key ?? o.key;
  return { der: assembleCertificate(tbs, o.signatureAlgorithm, testSign(signer, o.signatureAlgorithm, tbs)), key: o.key, subjectDer, ski };
}

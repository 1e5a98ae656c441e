import { sign } from "node:crypto";
import { x509 } from "../../../core/pki/index.js";
import { csrSignatureFor, type PrivateKeyFile } from "./private-key-file.js";

// PKCS #10 requests as kubeadm makes them (Go x509.CreateCertificateRequest): a subject, the SANs
// in one extensionRequest, no key usage and no EKU — the signer's profile adds those.

/**
 * A signed CSR in PEM. `subjectDer` is used as is, so a renewal asks for exactly the subject of
 * the certificate it replaces (kubeadm `certs renew` copies CN and O from the old certificate).
 */
export function buildCertificateRequest(subjectDer: Uint8Array, subjectAltNames: readonly x509.GeneralName[], key: PrivateKeyFile): string {
  const info = x509.encodeCertificationRequestInfo(subjectDer, key.publicKeySpki, subjectAltNames.length === 0 ? undefined : { subjectAltNames });
  const { algorithm, hash } = csrSignatureFor(key);
  const signature = sign(hash, info, key.key);
  return x509.pemEncode("CERTIFICATE REQUEST", x509.assembleCertificateRequest(info, algorithm, new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength)));
}

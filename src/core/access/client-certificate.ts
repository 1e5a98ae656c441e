import { X509Certificate } from "node:crypto";
import { x509 } from "../pki/index.js";
import type { Principal } from "./principal.js";
import { isRole, type Role } from "./roles.js";

/** Why a TLS client certificate does not identify a client. */
export class ClientCertificateError extends Error {
  override readonly name = "ClientCertificateError";
}

/**
 * The principal of a client from its TLS client certificate, the same on every transport that takes
 * one (KMIP, and HTTPS when a client presents one); the TLS handshake has already verified the chain
 * and validity. The certificate must be issued directly by kpki's internal CA
 * (the CA of the service's own TLS certificate) and allow clientAuth (RFC 5280 §4.2.1.12, as
 * pykmip-server requires too). The principal is `cert:<subject CN>`; its role is the subject's
 * Organization when that names a kpki role (the Kubernetes convention: O is the group). No role
 * O, or several, gives no role: every operation is then refused with Permission Denied. A
 * certificate carries no scope: an O naming a scoped role (roles.ts) gives a principal that is
 * refused everything but public operations (authorize: a scoped role without its scope).
 */
export function clientPrincipal(certificateDer: Uint8Array, internalCaDer: Uint8Array): Principal {
  const leaf = new X509Certificate(certificateDer);
  const issuer = new X509Certificate(internalCaDer);
  if (!leaf.checkIssued(issuer) || !leaf.verify(issuer.publicKey)) throw new ClientCertificateError("the client certificate is not issued by kpki's internal CA");
  const parsed = x509.parseCertificate(certificateDer);
  const purposes = parsed.extensions.extendedKeyUsage;
  if (purposes === undefined || !purposes.includes(x509.ExtendedKeyUsageOid.clientAuth)) throw new ClientCertificateError("the client certificate does not allow clientAuth (extended key usage)");
  const fields = x509.nameFields(parsed.subject);
  const commonName = fields.commonName;
  if (commonName === undefined || commonName === "") throw new ClientCertificateError("the client certificate has no subject common name");
  const roles = [...new Set((fields.organization ?? []).filter(isRole))];
  const role: Role | undefined = roles.length === 1 ? roles[0] : undefined;
  return { id: `cert:${commonName}`, kind: "certificate", role, displayName: commonName };
}

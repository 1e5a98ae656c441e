import type { KeyAlgorithm } from "../../crypto/algorithms.js";
import type { KeyHandle } from "../../crypto/key-handle.js";
import { DomainError } from "../../shared/domain-error.js";
import type { CertificateAuthority } from "../certificate-authority.js";

/** What signs a CA's CRLs and OCSP answers: the CA's own key (RFC 5280 §5.1.1.2, RFC 6960 §4.2.2.2). */
export interface RevocationSigner {
  readonly key: KeyHandle;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly subjectDer: Uint8Array;
  readonly subjectKeyId: Uint8Array;
  readonly publicKeySpki: Uint8Array;
}

/**
 * A disabled CA still answers for what it issued (its certificates live on), so unlike issuance
 * only the key and the certificate are required, not the `active` status.
 */
export function revocationKey(ca: CertificateAuthority): RevocationSigner {
  if (ca.key === undefined) throw new DomainError("wrong_state", `CA ${ca.name} has no private key in kpki (offline): it cannot sign revocation information`, { field: "ca" });
  if (ca.certificateDer === undefined) throw new DomainError("wrong_state", `CA ${ca.name} has no certificate yet (pending)`, { field: "ca" });
  return { key: ca.key, keyAlgorithm: ca.keyAlgorithm, subjectDer: ca.subjectDer, subjectKeyId: ca.subjectKeyId, publicKeySpki: ca.publicKeySpki };
}

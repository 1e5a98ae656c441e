import { DomainError } from "../shared/domain-error.js";
import type { CertificateAuthority } from "./certificate-authority.js";
import type { PkiRepositories } from "./ports.js";

/** The CA's certificate and its issuers up to the root (or its external chain), nearest first. */
export async function chainOf(r: PkiRepositories, start: CertificateAuthority): Promise<Uint8Array[]> {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let current: CertificateAuthority | undefined = start;
  while (current !== undefined) {
    if (seen.has(current.id)) throw new DomainError("internal", `CA hierarchy loop at ${current.name}`);
    seen.add(current.id);
    if (current.certificateDer === undefined) throw new DomainError("wrong_state", `CA ${current.name} has no certificate yet (pending installation)`);
    chain.push(current.certificateDer, ...(current.externalChainDer ?? []));
    current = current.parentId === undefined ? undefined : await r.authorities.findById(current.parentId);
  }
  return chain;
}

/**
 * Where relying parties find a CA's revocation information, written into what the CA issues as
 * CRL Distribution Points (RFC 5280 §4.2.1.13) and Authority Information Access (§4.2.2.1: OCSP
 * and CA issuers). The composition root builds it from the public base URL; without one,
 * certificates carry neither extension (an unreachable URL is worse than none).
 */
export type RevocationPointers = (caName: string) => { readonly crl: string; readonly ocsp: string; readonly caIssuers: string };

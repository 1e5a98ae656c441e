import type { GeneralName } from "./general-name.js";
import type { KeyUsage } from "./key-usage.js";

// The typed form of certificate extensions (RFC 5280 §4.2), shared by the encoder and the parser.

/** An extension kpki does not model, kept as its DER extnValue. */
export interface OtherExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly valueDer: Uint8Array;
}

/** The extensions kpki issues and reads; anything else travels in `other`. */
export interface CertificateExtensions {
  basicConstraints?: { ca: boolean; pathLength?: number };
  keyUsage?: readonly KeyUsage[];
  /** Purpose OIDs (ExtendedKeyUsageOid). */
  extendedKeyUsage?: readonly string[];
  subjectAltNames?: readonly GeneralName[];
  subjectKeyIdentifier?: Uint8Array;
  /** The keyIdentifier field only. */
  authorityKeyIdentifier?: Uint8Array;
  /** Full-name URIs, one DistributionPoint each. */
  crlDistributionPoints?: readonly string[];
  authorityInfoAccess?: { ocsp?: readonly string[]; caIssuers?: readonly string[] };
  other?: readonly OtherExtension[];
}

// Object identifiers used by the X.509 toolkit, with the document that assigns each.

/** Attribute types for distinguished names (RFC 5280 §4.1.2.4, X.520, PKCS #9). */
export const AttributeOid = {
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  country: "2.5.4.6",
  locality: "2.5.4.7",
  state: "2.5.4.8",
  streetAddress: "2.5.4.9",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
  postalCode: "2.5.4.17",
  domainComponent: "0.9.2342.19200300.100.1.25",
  userId: "0.9.2342.19200300.100.1.1",
  emailAddress: "1.2.840.113549.1.9.1",
} as const;

/** Certificate extensions (RFC 5280 §4.2). */
export const ExtensionOid = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  issuerAltName: "2.5.29.18",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  crlDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  authorityKeyIdentifier: "2.5.29.35",
  extendedKeyUsage: "2.5.29.37",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
} as const;

/** CRL and CRL entry extensions (RFC 5280 §5.2, §5.3). */
export const CrlExtensionOid = {
  crlNumber: "2.5.29.20",
  deltaCrlIndicator: "2.5.29.27",
  reasonCode: "2.5.29.21",
  /** Freshest CRL (§5.2.6): where the delta CRLs of a complete CRL are. */
  freshestCrl: "2.5.29.46",
} as const;

/** OCSP (RFC 6960 §4.2.1, §4.4.1). */
export const OcspOid = {
  basicResponse: "1.3.6.1.5.5.7.48.1.1",
  nonce: "1.3.6.1.5.5.7.48.1.2",
  /** id-pkix-ocsp-nocheck (§4.2.2.2.1): relying parties need not check the responder certificate's status. */
  noCheck: "1.3.6.1.5.5.7.48.1.5",
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
} as const;

/** Extended key usage purposes (RFC 5280 §4.2.1.12). */
export const ExtendedKeyUsageOid = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
} as const;

/** Access methods of the Authority Information Access extension (RFC 5280 §4.2.2.1). */
export const AccessMethodOid = {
  ocsp: "1.3.6.1.5.5.7.48.1",
  caIssuers: "1.3.6.1.5.5.7.48.2",
} as const;

/** Public key, signature and hash algorithms (RFC 3279, RFC 4055, RFC 5480, RFC 5758, RFC 8410). */
export const AlgorithmOid = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  sha1WithRsaEncryption: "1.2.840.113549.1.1.5",
  sha256WithRsaEncryption: "1.2.840.113549.1.1.11",
  sha384WithRsaEncryption: "1.2.840.113549.1.1.12",
  sha512WithRsaEncryption: "1.2.840.113549.1.1.13",
  idEcPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
  secp384r1: "1.3.132.0.34",
  secp521r1: "1.3.132.0.35",
  ecdsaWithSha1: "1.2.840.10045.4.1",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ecdsaWithSha384: "1.2.840.10045.4.3.3",
  ecdsaWithSha512: "1.2.840.10045.4.3.4",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  x25519: "1.3.101.110",
  dsa: "1.2.840.10040.4.1",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
} as const;

/** PKCS #9 attributes carried in a CSR (RFC 2985 §5.4). */
export const Pkcs9Oid = {
  challengePassword: "1.2.840.113549.1.9.7",
  extensionRequest: "1.2.840.113549.1.9.14",
} as const;

/** Every OID above in one flat table, for call sites that just need a name (`OID.serverAuth`). */
export const OID = {
  ...AttributeOid,
  ...ExtensionOid,
  ...ExtendedKeyUsageOid,
  ...AccessMethodOid,
  ...AlgorithmOid,
  ...Pkcs9Oid,
} as const;

import { KEY_ALGORITHMS } from "../../crypto/algorithms.js";
import { OID } from "../x509/oids.js";
import type { CertificateProfile } from "./profile.js";

const DAY = 86_400;

/**
 * General-purpose profiles for TLS services and clients. Server validity is capped at 398 days,
 * the CA/Browser Forum limit, which clients increasingly enforce even for private CAs.
 */
export const GENERIC_PROFILES: readonly CertificateProfile[] = [
  {
    name: "server",
    description: "TLS server: serverAuth, at least one DNS or IP name",
    keyUsage: ["digitalSignature"],
    rsaKeyUsage: ["keyEncipherment"],
    extendedKeyUsage: [OID.serverAuth],
    defaultTtlSeconds: 90 * DAY,
    maxTtlSeconds: 398 * DAY,
    commonName: "optional",
    sans: { dns: true, ip: true, email: false, uri: false, requireDnsOrIp: true },
    keyAlgorithms: KEY_ALGORITHMS,
  },
  {
    name: "client",
    description: "TLS client: clientAuth, identified by its common name",
    keyUsage: ["digitalSignature"],
    rsaKeyUsage: ["keyEncipherment"],
    extendedKeyUsage: [OID.clientAuth],
    defaultTtlSeconds: 90 * DAY,
    maxTtlSeconds: 365 * DAY,
    commonName: "required",
    sans: { dns: true, ip: true, email: true, uri: true, requireDnsOrIp: false },
    keyAlgorithms: KEY_ALGORITHMS,
  },
  {
    name: "peer",
    description: "TLS peer (both ends, e.g. etcd members): serverAuth and clientAuth",
    keyUsage: ["digitalSignature"],
    rsaKeyUsage: ["keyEncipherment"],
    extendedKeyUsage: [OID.serverAuth, OID.clientAuth],
    defaultTtlSeconds: 90 * DAY,
    maxTtlSeconds: 398 * DAY,
    commonName: "optional",
    sans: { dns: true, ip: true, email: false, uri: true, requireDnsOrIp: true },
    keyAlgorithms: KEY_ALGORITHMS,
  },
];

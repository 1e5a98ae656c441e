// Micro-benchmark of the issuance hot path. Run: npx tsx src/core/pki/x509/build-speed.bench.ts
// Prints CPU µs per call; it is not a test and asserts nothing.
import { constants, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { parseCertificate } from "./certificate.js";
import { assembleCertificate, encodeTbsCertificate, type CertificateTemplate } from "./certificate-builder.js";
import { assembleCertificateRequest, encodeCertificationRequestInfo } from "./csr-builder.js";
import { parseCertificateRequest } from "./csr.js";
import { subjectKeyIdentifier } from "./extensions.js";
import { encodeName } from "./name.js";
import { OID } from "./oids.js";

// CPU time of this process (user + system), so other load on the machine inflates it less than wall time.
function measure(label: string, iterations: number, fn: () => unknown): void {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn(); // warm-up
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const used = process.cpuUsage(start);
  const micros = (used.user + used.system) / iterations;
  process.stdout.write(`${label.padEnd(50)} ${micros.toFixed(2).padStart(8)} µs CPU\n`);
}

const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
const caSpki = new Uint8Array(ca.publicKey.export({ type: "spki", format: "der" }));
const leafSpki = new Uint8Array(leaf.publicKey.export({ type: "spki", format: "der" }));
const issuer = encodeName({ commonName: "kubernetes" });
const subject = encodeName({ commonName: "system:node:worker-1", organization: ["system:nodes"] });
const caSki = subjectKeyIdentifier(caSpki);
const now = new Date();
const template = (): CertificateTemplate => ({
  serialNumber: Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0x7f),
  issuerNameDer: issuer,
  subjectNameDer: subject,
  notBefore: now,
  notAfter: new Date(now.getTime() + 365 * 86_400_000),
  subjectPublicKeySpki: leafSpki,
  signatureAlgorithm: "ECDSA-SHA256",
  extensions: {
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: [OID.serverAuth],
    basicConstraints: { ca: false },
    authorityKeyIdentifier: caSki,
    subjectAltNames: [
      { type: "dns", value: "worker-1" },
      { type: "dns", value: "worker-1.cluster.local" },
      { type: "ip", value: "10.0.0.11" },
    ],
  },
});

const leafTemplate = template();
measure("encodeTbsCertificate (typical leaf)", 200_000, () => encodeTbsCertificate(leafTemplate));
measure("  same, template object built per call", 200_000, () => encodeTbsCertificate(template()));
measure("subjectKeyIdentifier(spki) alone", 200_000, () => subjectKeyIdentifier(leafSpki));
const tbs = encodeTbsCertificate(template());
const signature = new Uint8Array(sign("sha256", tbs, { key: ca.privateKey, dsaEncoding: "der" }));
measure("ECDSA P-256 sign (node:crypto, for scale)", 10_000, () => sign("sha256", tbs, { key: ca.privateKey, dsaEncoding: "der" }));
const certDer = assembleCertificate(tbs, "ECDSA-SHA256", signature);
measure("parseCertificate (leaf)", 20_000, () => parseCertificate(certDer));

const csrSubject = encodeName({ commonName: "system:node:worker-1", organization: ["system:nodes"] });
const csrExtensions = { subjectAltNames: [{ type: "dns" as const, value: "worker-1" }, { type: "ip" as const, value: "10.0.0.11" }] };
function csrFor(privateKey: KeyObject, spki: Uint8Array, algorithm: "ECDSA-SHA256" | "ECDSA-SHA384" | "RSA-PKCS1-SHA256" | "RSA-PSS-SHA256" | "Ed25519"): Uint8Array {
  const cri = encodeCertificationRequestInfo(csrSubject, spki, csrExtensions);
  const hash = algorithm === "Ed25519" ? null : algorithm === "ECDSA-SHA384" ? "sha384" : "sha256";
  const options = algorithm === "RSA-PSS-SHA256" ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key: privateKey, dsaEncoding: "der" as const };
  return assembleCertificateRequest(cri, algorithm, new Uint8Array(sign(hash, cri, options)));
}
const spkiOf = (k: KeyObject): Uint8Array => new Uint8Array(k.export({ type: "spki", format: "der" }));
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ed = generateKeyPairSync("ed25519");
for (const [label, der] of [
  ["P-256", csrFor(leaf.privateKey, leafSpki, "ECDSA-SHA256")],
  ["P-384", csrFor(p384.privateKey, spkiOf(p384.publicKey), "ECDSA-SHA384")],
  ["RSA-2048 PKCS#1", csrFor(rsa.privateKey, spkiOf(rsa.publicKey), "RSA-PKCS1-SHA256")],
  ["RSA-2048 PSS", csrFor(rsa.privateKey, spkiOf(rsa.publicKey), "RSA-PSS-SHA256")],
  ["Ed25519", csrFor(ed.privateKey, spkiOf(ed.publicKey), "Ed25519")],
] as const) {
  measure(`parseCertificateRequest (${label}, verify)`, 3_000, () => parseCertificateRequest(der));
}

import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { derToPem, generateKey, makeCsr, makeOpensslRoot, openssl, pemToDer, signWithOpenssl, type OpensslCa } from "../helpers/openssl.js";
import { expectNothingStored, expectProblem, type ExpectedProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

// Every bad request gets a clear 4xx problem naming what is wrong, and stores nothing: no
// certificate, CA, key, token or audit row (ARCHITECTURE.md §6).

/** What the rows below need, made once in beforeAll. */
interface Fixtures {
  /** A valid server CSR (ECDSA P-256, CN and DNS SAN a.example). */
  readonly csrPem: string;
  /** A CA made by openssl, with its key. */
  readonly opensslRoot: OpensslCa;
  /** A key that is not the openssl root's. */
  readonly otherKeyPem: string;
  /** An end-entity certificate (CA:FALSE) signed by the openssl root, and its key. */
  readonly leafCertificatePem: string;
  readonly leafKeyPem: string;
}

let t: TestRuntime;
let f: Fixtures;

const SHORT_CA = "short-ca"; // intermediate valid for 2 hours
const PATHLEN_ROOT = "pathlen-one-root"; // root with pathLength 1
const PENDING_CA = "pending-ca"; // external, waiting for its certificate
const USED_IDEMPOTENCY_KEY = "used-key-0001";

beforeAll(async () => {
  t = await startTestRuntime();
  const csrPem = makeCsr({ subject: "/CN=a.example", extensions: ["subjectAltName=DNS:a.example"] }).csrPem;
  const opensslRoot = makeOpensslRoot({ subject: "/CN=Bad Inputs Root" });
  const leafKeyPem = generateKey("ECDSA-P256");
  f = {
    csrPem,
    opensslRoot,
    otherKeyPem: generateKey("ECDSA-P256"),
    leafCertificatePem: signWithOpenssl(opensslRoot, makeCsr({ subject: "/CN=leaf.example", keyPem: leafKeyPem }).csrPem, ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature"]),
    leafKeyPem,
  };
  const setup = [
    await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: SHORT_CA, type: "intermediate", parent: "kpki-root", ttlSeconds: 7200, subject: { commonName: "Short CA" } }),
    await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: PATHLEN_ROOT, type: "root", pathLength: 1, subject: { commonName: "Pathlen One Root" } }),
    await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: PENDING_CA, type: "external", subject: { commonName: "Pending CA" } }),
    await request(t.app).post("/v1/certificates").set(ADMIN).set("Idempotency-Key", USED_IDEMPOTENCY_KEY).send({ ca: "kpki-internal", profile: "server", csr: csrPem }),
  ];
  for (const res of setup) expect(res.status, res.text).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

/** One bad request and the refusal it must get. */
interface Row extends ExpectedProblem {
  readonly name: string;
  readonly send: () => request.Test;
}

const issue = (body: object) => request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "kpki-internal", profile: "server", ...body });
const keygen = (body: object) => issue({ keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:a.example"], ...body });
const csrWith = (subject: string, extensions: string[]) => makeCsr({ subject, extensions }).csrPem;
const createCa = (body: object) => request(t.app).post("/v1/authorities").set(ADMIN).send({ subject: { commonName: "Some CA" }, ...body });
const importCa = (body: object) => request(t.app).post("/v1/authorities/import").set(ADMIN).send(body);
const list = (query: string) => request(t.app).get(`/v1/certificates?${query}`).set(ADMIN);

/** `pem` with one character of its base64 body replaced by one that is not base64. */
function breakBase64(pem: string): string {
  const lines = pem.split("\n");
  const line = lines[2] ?? "";
  lines[2] = `${line.slice(0, 10)}!${line.slice(11)}`;
  return lines.join("\n");
}

/** The CSR with one bit of the last byte of its signature flipped. */
function breakSignature(pem: string): string {
  const der = pemToDer(pem);
  // The signature BIT STRING is the CSR's last element, so the last byte is inside it. For ECDSA
  // it is the low byte of s: flipping it keeps the DER well-formed and the signature wrong.
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  return derToPem("CERTIFICATE REQUEST", der);
}

const rows: Row[] = [
  // PEM armour and DER
  { name: "CSR with invalid base64", send: () => issue({ csr: breakBase64(f.csrPem) }), status: 400, code: "invalid_input", field: "csr", detail: "invalid base64 on line 3" },
  { name: "CSR with the wrong PEM label", send: () => issue({ csr: f.csrPem.replaceAll("CERTIFICATE REQUEST", "CERTIFICATE") }), status: 400, code: "invalid_input", field: "csr", detail: 'PEM block 1 is "CERTIFICATE", expected "CERTIFICATE REQUEST"' },
  { name: "CSR field with two PEM blocks", send: () => issue({ csr: f.csrPem + f.csrPem }), status: 400, code: "invalid_input", field: "csr", detail: "expected one PEM block, found 2" },
  { name: "empty CSR field", send: () => issue({ csr: "" }), status: 400, code: "invalid_input", field: "csr", detail: "must NOT have fewer than 1 characters" },
  { name: "CSR field without any PEM", send: () => issue({ csr: "this is not PEM" }), status: 400, code: "invalid_input", field: "csr", detail: "no PEM block found" },
  { name: "CSR with an unterminated PEM block", send: () => issue({ csr: f.csrPem.replace(/-----END[^\n]*\n?$/, "") }), status: 400, code: "invalid_input", field: "csr", detail: "has no END line" },
  { name: "CSR whose signature does not verify", send: () => issue({ csr: breakSignature(f.csrPem) }), status: 400, code: "invalid_input", field: "csr", detail: "signature does not verify" },
  { name: "CSR that is not DER inside valid PEM", send: () => issue({ csr: derToPem("CERTIFICATE REQUEST", Buffer.from("definitely not DER")) }), status: 400, code: "invalid_input", field: "csr", detail: "DER" },
  { name: "CSR signed with SHA-1", send: () => issue({ csr: makeCsr({ subject: "/CN=a.example", extensions: ["subjectAltName=DNS:a.example"], reqArgs: ["-sha1"] }).csrPem }), status: 422, code: "unsupported", field: "signatureAlgorithm", detail: "SHA-1" },
  { name: "CSR with an RSA-1024 key", send: () => issue({ csr: makeCsr({ keyPem: openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]), subject: "/CN=a.example", extensions: ["subjectAltName=DNS:a.example"] }).csrPem }), status: 422, code: "unsupported", field: "publicKey", detail: "RSA-1024" },
  { name: "CSR with a P-521 key", send: () => issue({ csr: makeCsr({ keyPem: openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"]), subject: "/CN=a.example", extensions: ["subjectAltName=DNS:a.example"] }).csrPem }), status: 422, code: "unsupported", field: "publicKey", detail: "P-521" },
  { name: "CSR with an otherName SAN", send: () => issue({ csr: csrWith("/CN=a.example", ["subjectAltName=DNS:a.example,otherName:1.2.3.4;UTF8:x"]) }), status: 422, code: "unsupported", field: "subjectAltName", detail: "otherName" },

  // Issuer and profile
  { name: "unknown CA", send: () => issue({ ca: "no-such-ca", csr: f.csrPem }), status: 404, code: "not_found", field: "ca", detail: "CA no-such-ca does not exist" },
  { name: "unknown profile", send: () => issue({ profile: "no-such-profile", csr: f.csrPem }), status: 404, code: "not_found", field: "profile", detail: "no-such-profile" },
  { name: "issuing from a pending CA", send: () => keygen({ ca: PENDING_CA }), status: 409, code: "wrong_state", field: "ca", detail: "pending" },

  // What the CSR asks for, against the profile
  { name: "CSR asking for CA:TRUE", send: () => issue({ csr: csrWith("/CN=a.example", ["subjectAltName=DNS:a.example", "basicConstraints=critical,CA:TRUE"]) }), status: 422, code: "policy_violation", field: "basicConstraints", detail: "CA:TRUE" },
  { name: "CSR asking for codeSigning on the server profile", send: () => issue({ csr: csrWith("/CN=a.example", ["subjectAltName=DNS:a.example", "extendedKeyUsage=codeSigning"]) }), status: 422, code: "policy_violation", field: "extendedKeyUsage", detail: "1.3.6.1.5.5.7.3.3 is not allowed by profile server" },
  { name: "CSR asking for keyCertSign", send: () => issue({ csr: csrWith("/CN=a.example", ["subjectAltName=DNS:a.example", "keyUsage=critical,digitalSignature,keyCertSign"]) }), status: 422, code: "policy_violation", field: "keyUsage", detail: "keyCertSign is not allowed" },
  { name: "server profile without a DNS or IP SAN", send: () => issue({ csr: csrWith("/CN=a.example", []) }), status: 422, code: "policy_violation", field: "subjectAltNames", detail: "requires at least one DNS or IP" },
  { name: "client profile without a common name", send: () => issue({ profile: "client", csr: csrWith("/O=No CN", ["subjectAltName=DNS:a.example"]) }), status: 422, code: "policy_violation", field: "subject.commonName", detail: "requires a common name" },
  { name: "email SAN on the server profile", send: () => issue({ csr: csrWith("/CN=a.example", ["subjectAltName=DNS:a.example,email:someone@example.com"]) }), status: 422, code: "policy_violation", field: "subjectAltNames", detail: "EMAIL names are not allowed by profile server" },
  { name: "no subject and no SAN at all", send: () => issue({ profile: "client", keyAlgorithm: "ECDSA-P256" }), status: 400, code: "invalid_input", field: "subject", detail: "needs a subject or at least one subject alternative name" },
  { name: "ttlSeconds beyond the profile maximum", send: () => keygen({ ttlSeconds: 399 * 86_400 }), status: 422, code: "policy_violation", field: "ttlSeconds", detail: "exceeds the profile maximum" },
  { name: "ttlSeconds beyond the issuer's expiry", send: () => keygen({ ca: SHORT_CA, ttlSeconds: 86_400 }), status: 422, code: "policy_violation", field: "ttlSeconds", detail: "would outlive its issuer" },

  // Shape of the issue request
  { name: "both csr and keyAlgorithm", send: () => issue({ csr: f.csrPem, keyAlgorithm: "ECDSA-P256" }), status: 400, code: "invalid_input", field: "csr", detail: "not both or neither" },
  { name: "neither csr nor keyAlgorithm", send: () => issue({ subjectAltNames: ["DNS:a.example"] }), status: 400, code: "invalid_input", field: "csr", detail: "not both or neither" },
  { name: "unknown JSON field", send: () => keygen({ extra: true }), status: 400, code: "invalid_input", field: "extra", detail: "must NOT have additional properties" },
  { name: "unknown field inside subject", send: () => keygen({ subject: { commonName: "a", email: "x@y.z" } }), status: 400, code: "invalid_input", field: "subject.email", detail: "must NOT have additional properties" },
  { name: "missing required ca", send: () => request(t.app).post("/v1/certificates").set(ADMIN).send({ profile: "server", keyAlgorithm: "ECDSA-P256" }), status: 400, code: "invalid_input", field: "ca", detail: "must have required property 'ca'" },
  { name: "ttlSeconds as a fraction", send: () => keygen({ ttlSeconds: 3600.5 }), status: 400, code: "invalid_input", field: "ttlSeconds", detail: "must be integer" },
  { name: "ttlSeconds below the minimum", send: () => keygen({ ttlSeconds: 59 }), status: 400, code: "invalid_input", field: "ttlSeconds", detail: "must be >= 60" },
  { name: "subjectAltNames as a string", send: () => keygen({ subjectAltNames: "DNS:a.example" }), status: 400, code: "invalid_input", field: "subjectAltNames", detail: "must be array" },
  { name: "unknown keyAlgorithm", send: () => keygen({ keyAlgorithm: "DSA-1024" }), status: 400, code: "invalid_input", field: "keyAlgorithm", detail: "must be equal to one of the allowed values" },
  { name: "subject country of three letters", send: () => keygen({ subject: { commonName: "a", country: "USA" } }), status: 400, code: "invalid_input", field: "subject.country", detail: "must match pattern" },
  { name: "more than 100 SANs", send: () => keygen({ subjectAltNames: Array.from({ length: 101 }, (_v, i) => `DNS:h${i}.example`) }), status: 400, code: "invalid_input", field: "subjectAltNames", detail: "must NOT have more than 100 items" },
  { name: "JSON array instead of an object", send: () => request(t.app).post("/v1/certificates").set(ADMIN).set("Content-Type", "application/json").send("[]"), status: 400, code: "invalid_input", detail: "must be object" },

  // Transport: size, media type, syntax
  { name: "body over the 256 KiB limit", send: () => keygen({ subject: { commonName: "x".repeat(300 * 1024) } }), status: 413, code: "limit_exceeded", detail: "larger than the limit" },
  { name: "Content-Type text/plain", send: () => request(t.app).post("/v1/certificates").set(ADMIN).set("Content-Type", "text/plain").send(JSON.stringify({ ca: "kpki-internal" })), status: 415, code: "unsupported_media_type", detail: "text/plain" },
  { name: "Content-Type application/x-www-form-urlencoded", send: () => request(t.app).post("/v1/certificates").set(ADMIN).type("form").send({ ca: "kpki-internal", profile: "server" }), status: 415, code: "unsupported_media_type", detail: "application/x-www-form-urlencoded" },
  { name: "JSON in a charset other than UTF-8", send: () => request(t.app).post("/v1/certificates").set(ADMIN).set("Content-Type", "application/json; charset=latin1").send('{"ca":"kpki-internal"}'), status: 415, code: "unsupported_media_type", detail: "charset" },
  { name: "invalid JSON", send: () => request(t.app).post("/v1/certificates").set(ADMIN).set("Content-Type", "application/json").send('{"ca": "kpki-internal",'), status: 400, code: "invalid_input", field: null, detail: "not valid JSON" },

  // SAN text
  { name: "SAN DNS:-bad-", send: () => keygen({ subjectAltNames: ["DNS:-bad-"] }), status: 400, code: "invalid_input", field: "subjectAltNames", detail: '"-bad-" is not a valid DNS name' },
  { name: "SAN IP:999.1.1.1", send: () => keygen({ subjectAltNames: ["IP:999.1.1.1"] }), status: 400, code: "invalid_input", field: "subjectAltNames", detail: '"999.1.1.1" is not an IP address' },
  { name: "SAN FTP:x", send: () => keygen({ subjectAltNames: ["FTP:x"] }), status: 400, code: "invalid_input", field: "subjectAltNames.0", detail: "must match pattern" },
  { name: "SAN email without a domain", send: () => issue({ profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "c" }, subjectAltNames: ["email:nobody"] }), status: 400, code: "invalid_input", field: "subjectAltNames", detail: "not a valid email address" },

  // Idempotency
  { name: "idempotency key reused with a different body", send: () => issue({ csr: f.csrPem, ttlSeconds: 3600 }).set("Idempotency-Key", USED_IDEMPOTENCY_KEY), status: 409, code: "conflict", field: "idempotencyKey", detail: "already used for a different request" },
  { name: "idempotency key too short", send: () => keygen({}).set("Idempotency-Key", "short"), status: 400, code: "invalid_input", field: "idempotency-key", detail: "must match pattern" },
  { name: "idempotency key with spaces", send: () => keygen({}).set("Idempotency-Key", "has spaces in it"), status: 400, code: "invalid_input", field: "idempotency-key", detail: "must match pattern" },

  // Creating CAs
  { name: "CA name taken", send: () => createCa({ name: "kpki-root", type: "root" }), status: 409, code: "already_exists", field: "name", detail: "CA kpki-root already exists" },
  { name: "CA name in upper case", send: () => createCa({ name: "UPPER", type: "root" }), status: 400, code: "invalid_input", field: "name", detail: "must match pattern" },
  { name: "CA name with a slash", send: () => createCa({ name: "a/b", type: "root" }), status: 400, code: "invalid_input", field: "name", detail: "must match pattern" },
  { name: "CA without a common name", send: () => createCa({ name: "no-cn", type: "root", subject: { organization: ["x"] } }), status: 400, code: "invalid_input", field: "subject.commonName", detail: "a CA needs a common name" },
  { name: "CA ttlSeconds below an hour", send: () => createCa({ name: "brief", type: "root", ttlSeconds: 60 }), status: 400, code: "invalid_input", field: "ttlSeconds", detail: "must be >= 3600" },
  { name: "intermediate without a parent", send: () => createCa({ name: "orphan", type: "intermediate" }), status: 400, code: "invalid_input", field: "parent", detail: "needs a parent" },
  { name: "intermediate with an unknown parent", send: () => createCa({ name: "orphan", type: "intermediate", parent: "no-such-parent" }), status: 404, code: "not_found", field: "parent", detail: "parent CA no-such-parent does not exist" },
  { name: "intermediate under a parent with pathLength 0", send: () => createCa({ name: "too-deep", type: "intermediate", parent: "kpki-internal" }), status: 422, code: "policy_violation", field: "parent", detail: "pathLength 0" },
  { name: "intermediate pathLength not below its parent's", send: () => createCa({ name: "too-long", type: "intermediate", parent: PATHLEN_ROOT, pathLength: 1 }), status: 422, code: "policy_violation", field: "pathLength", detail: "must be below the parent's 1" },
  { name: "intermediate outliving its parent", send: () => createCa({ name: "outlives", type: "intermediate", parent: "kpki-root", ttlSeconds: 3_153_600_000 }), status: 422, code: "policy_violation", field: "ttlSeconds", detail: "would outlive its parent kpki-root" },
  { name: "intermediate under a pending parent", send: () => createCa({ name: "under-pending", type: "intermediate", parent: PENDING_CA }), status: 409, code: "wrong_state", detail: "pending" },
  { name: "root with a parent", send: () => createCa({ name: "rooted", type: "root", parent: "kpki-root" }), status: 400, code: "invalid_input", field: "parent", detail: "has no parent in kpki" },

  // Installing and importing CA certificates
  { name: "installing a certificate on a CA that is not pending", send: () => request(t.app).put("/v1/authorities/kpki-internal/certificate").set(ADMIN).send({ certificate: f.opensslRoot.certificatePem }), status: 409, code: "wrong_state", detail: "only a pending CA takes a certificate" },
  { name: "installing a certificate for another key", send: () => request(t.app).put(`/v1/authorities/${PENDING_CA}/certificate`).set(ADMIN).send({ certificate: f.opensslRoot.certificatePem }), status: 400, code: "invalid_input", field: "certificate", detail: "public key is not the key of CA pending-ca" },
  { name: "installing on an unknown CA", send: () => request(t.app).put("/v1/authorities/no-such-ca/certificate").set(ADMIN).send({ certificate: f.opensslRoot.certificatePem }), status: 404, code: "not_found", detail: "CA no-such-ca does not exist" },
  { name: "importing with a key that does not match the certificate", send: () => importCa({ name: "mismatch", certificate: f.opensslRoot.certificatePem, privateKey: f.otherKeyPem }), status: 400, code: "invalid_input", field: "privateKey", detail: "does not match the certificate" },
  { name: "importing a non-CA certificate", send: () => importCa({ name: "not-a-ca", certificate: f.leafCertificatePem, privateKey: f.leafKeyPem }), status: 400, code: "invalid_input", field: "certificate", detail: "not a CA certificate" },
  { name: "importing under a taken name", send: () => importCa({ name: "kpki-root", certificate: f.opensslRoot.certificatePem, privateKey: f.opensslRoot.keyPem }), status: 409, code: "already_exists", field: "name", detail: "already exists" },
  { name: "importing an encrypted private key", send: () => importCa({ name: "encrypted", certificate: f.opensslRoot.certificatePem, privateKey: openssl(["pkey", "-aes256", "-passout", "pass:secret"], f.opensslRoot.keyPem) }), status: 400, code: "invalid_input", field: "privateKey", detail: "encrypted private keys are not accepted" },
  { name: "importing a certificate as the private key", send: () => importCa({ name: "no-key", certificate: f.opensslRoot.certificatePem, privateKey: f.opensslRoot.certificatePem }), status: 400, code: "invalid_input", field: "privateKey", detail: "is not a private key" },
  { name: "importing with an unknown parent", send: () => importCa({ name: "lost", certificate: f.opensslRoot.certificatePem, privateKey: f.opensslRoot.keyPem, parent: "no-such-parent" }), status: 404, code: "not_found", field: "parent", detail: "no-such-parent" },
  { name: "importing with a parent that did not issue it", send: () => importCa({ name: "wrong-parent", certificate: f.opensslRoot.certificatePem, privateKey: f.opensslRoot.keyPem, parent: "kpki-root" }), status: 400, code: "invalid_input", field: "certificate", detail: "was not issued by parent CA kpki-root" },

  // Listing
  { name: "limit=0", send: () => list("limit=0"), status: 400, code: "invalid_input", field: "limit", detail: "must be >= 1" },
  { name: "limit=501", send: () => list("limit=501"), status: 400, code: "invalid_input", field: "limit", detail: "must be <= 500" },
  { name: "limit not a number", send: () => list("limit=ten"), status: 400, code: "invalid_input", field: "limit", detail: "must be integer" },
  { name: "a cursor this API never returned", send: () => list("cursor=not-a-cursor"), status: 400, code: "invalid_input", field: "cursor", detail: "not a cursor returned by this API" },
  { name: "expiringBefore not a date", send: () => list("expiringBefore=tomorrow"), status: 400, code: "invalid_input", field: "expiringBefore", detail: 'must match format "date-time"' },
  { name: "unknown status filter", send: () => list("status=valid"), status: 400, code: "invalid_input", field: "status", detail: "must be equal to one of the allowed values" },
  { name: "unknown query parameter", send: () => list("owner=me"), status: 400, code: "invalid_input", field: "owner", detail: "Unknown query parameter 'owner'" },
  { name: "filter by an unknown CA", send: () => list("ca=no-such-ca"), status: 404, code: "not_found", field: "ca", detail: "CA no-such-ca does not exist" },

  // Tokens
  { name: "token with an unknown role", send: () => request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "x", role: "root" }), status: 400, code: "invalid_input", field: "role", detail: "must be equal to one of the allowed values" },
  { name: "token with ttlSeconds below 60", send: () => request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "x", role: "reader", ttlSeconds: 10 }), status: 400, code: "invalid_input", field: "ttlSeconds", detail: "must be >= 60" },
  { name: "token with an invalid name", send: () => request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "-leading-dash", role: "reader" }), status: 400, code: "invalid_input", field: "name", detail: "must match pattern" },
  { name: "revoking a token id that is not a UUID", send: () => request(t.app).delete("/v1/tokens/42").set(ADMIN), status: 400, code: "invalid_input", field: "id", detail: "must match pattern" },
];

describe("bad requests are refused with a clear problem and store nothing", () => {
  it.each(rows)("$name → $status $code", async (row) => {
    const res = await expectNothingStored(t, () => row.send());
    expectProblem(res, row);
  });
});

/**
 * Wrong JSON types the validator silently converts instead of refusing.
 *
 * Regression test: server.ts passes `validateRequests: { coerceTypes: true }` to express-openapi-validator. That option only governs the request *body* (query, path and header parameters are always coerced), so `"ttlSeconds": "3600"` is issued as 3600 and `"profile": 7` looks up profile "7".
 */
const coercedTypeRows: Row[] = [
  { name: "ttlSeconds as a string", send: () => keygen({ ttlSeconds: "3600" }), status: 400, code: "invalid_input", field: "ttlSeconds", detail: "must be integer" },
  { name: "profile as a number", send: () => keygen({ profile: 7 }), status: 400, code: "invalid_input", field: "profile", detail: "must be string" },
  { name: "token ttlSeconds as a string", send: () => request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "typed", role: "reader", ttlSeconds: "3600" }), status: 400, code: "invalid_input", field: "ttlSeconds", detail: "must be integer" },
  { name: "CA pathLength as a string", send: () => createCa({ name: "typed-ca", type: "root", pathLength: "1" }), status: 400, code: "invalid_input", field: "pathLength", detail: "must be integer" },
];

describe("bodies with wrong JSON types are refused, not converted", () => {
  it.each(coercedTypeRows)("$name → $status $code", async (row) => {
    const res = await expectNothingStored(t, () => row.send());
    expectProblem(res, row);
  });
});

describe("the refusals above are refusals of the bad part only", () => {
  // Each bad row differs from a good request in one respect; these good requests prove that the
  // fixtures themselves are acceptable, so a row fails for the reason it names.
  it("the valid CSR is issued on the server profile", async () => {
    expect((await issue({ csr: f.csrPem })).status).toBe(201);
  });

  it("a key-generation request of the shape the rows use is issued", async () => {
    expect((await keygen({})).status).toBe(201);
  });

  it("the short-lived CA issues for less than its remaining lifetime", async () => {
    expect((await keygen({ ca: SHORT_CA, ttlSeconds: 3600 })).status).toBe(201);
  });

  it("the openssl root imports with its own key", async () => {
    const res = await importCa({ name: "good-import", certificate: f.opensslRoot.certificatePem, privateKey: f.opensslRoot.keyPem });
    expect(res.status, res.text).toBe(201);
  });

  it("an intermediate under the pathLength-1 root with pathLength 0 is created", async () => {
    expect((await createCa({ name: "fits", type: "intermediate", parent: PATHLEN_ROOT, pathLength: 0 })).status).toBe(201);
  });
});

describe("profile limits", () => {
  // Regression test: issuance-policy.ts measures validity as notAfter − notBefore, and validity.ts backdates notBefore by 5 minutes, so asking for exactly the profile's advertised maxTtlSeconds is refused ("validity of 34387500s exceeds the profile maximum of 34387200s" — a number the caller never sent).
  it("ttlSeconds equal to the profile's maxTtlSeconds is accepted", async () => {
    const profiles = (await request(t.app).get("/v1/profiles")).body as { items: { name: string; maxTtlSeconds: number }[] };
    const server = profiles.items.find((p) => p.name === "server");
    expect(server?.maxTtlSeconds).toBe(398 * 86_400);
    const res = await keygen({ ttlSeconds: server?.maxTtlSeconds });
    expect(res.status, res.text).toBe(201);
  });
});

describe("field names", () => {
  // Regression test: hierarchy-service.ts parentFor() calls assertCanSign(parent), whose DomainError names field "ca"; but the input at fault is the request's `parent`.
  it("an intermediate under a pending parent names the field `parent`", async () => {
    const res = await expectNothingStored(t, () => createCa({ name: "under-pending", type: "intermediate", parent: PENDING_CA }));
    expectProblem(res, { status: 409, code: "wrong_state", field: "parent", detail: "pending" });
  });
});

// Revocation checked by real openssl against a real `kpki serve` (RFC 5280 CRLs, RFC 6960 OCSP):
// `openssl ocsp` says good, then revoked with the reason; `openssl crl` lists the serial;
// `openssl verify -crl_check` fails for the revoked certificate and passes for another; a delta CRL
// lists what was revoked since its base, and `-use_deltas` applies it to that base. (That a new
// base empties the delta is in crl-periods.test.ts, where the clock can move.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opensslRun } from "../helpers/openssl.js";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

interface IssuedJson {
  id: string;
  serialNumber: string;
  status: string;
  certificatePem: string;
  privateKeyPem?: string;
  revokedAt?: string;
  revocationReason?: string;
}

let server: ServingKpki;
let database: TestDatabase | undefined;
let workDir: string;
let bundlePem: string;
let tokenFile: string;
let caPem: string;
const files: Record<string, string> = {};

const CA = "rev-ca";
const file = (name: string, content: string | Buffer): string => {
  const target = path.join(workDir, name);
  writeFileSync(target, content);
  files[name] = target;
  return target;
};
const api = (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) =>
  httpsRequest(`${server.url}${urlPath}`, { method, ca: bundlePem, headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers }, ...(body === undefined ? {} : { body }) });
const remote = () => ["--server", server.url, "--ca-cert", path.join(workDir, "data", "ca-bundle.pem"), "--token-file", tokenFile];

/** The DER body of a GET (the test helper reads text; CRLs are binary). */
async function getBinary(urlPath: string, accept: string): Promise<Buffer> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${urlPath}`, { ca: bundlePem, headers: { Accept: accept }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${urlPath}: ${res.statusCode ?? 0} ${Buffer.concat(chunks).toString()}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

async function issue(commonName: string): Promise<IssuedJson & { certFile: string }> {
  const response = await api("POST", "/v1/certificates", { ca: CA, profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName }, subjectAltNames: [`DNS:${commonName}`] });
  expect(response.status, response.text).toBe(201);
  const body = jsonBody<IssuedJson>(response);
  return { ...body, certFile: file(`${commonName}.pem`, body.certificatePem) };
}

/** `openssl ocsp` against the responder over HTTPS: the status line for the certificate. */
function ocspStatus(certFile: string): { status: number; stdout: string; stderr: string } {
  const run = opensslRun(["ocsp", "-issuer", files["ca.pem"] ?? "", "-cert", certFile, "-url", `${server.url}/v1/ocsp`, "-CAfile", files["chain.pem"] ?? "", "-timeout", "20"]);
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

async function crlFile(kind: "full" | "delta", name: string): Promise<{ pem: string; text: string; der: Buffer }> {
  const der = await getBinary(`/v1/authorities/${CA}/crl${kind === "delta" ? "/delta" : ""}`, "application/pkix-crl");
  const derFile = file(`${name}.der`, der);
  const text = opensslRun(["crl", "-inform", "DER", "-in", derFile, "-text", "-noout"]);
  expect(text.status, text.stderr).toBe(0);
  const pem = opensslRun(["crl", "-inform", "DER", "-in", derFile, "-outform", "PEM"]);
  expect(pem.status, pem.stderr).toBe(0);
  return { pem: file(`${name}.pem`, pem.stdout), text: text.stdout, der };
}

const serialPattern = (serialHex: string) => new RegExp(`Serial Number: ${serialHex.toUpperCase().replace(/^0+/, "")}`);
const crlNumber = (text: string) => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text)?.[1] ?? "NaN");
const verify = (certFile: string, crls: readonly string[], extra: readonly string[] = []) =>
  opensslRun(["verify", "-crl_check", ...extra, ...crls.flatMap((crl) => ["-CRLfile", crl]), "-CAfile", files["chain.pem"] ?? "", certFile]);

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-revocation-"));
  database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  const port = await freePort();
  server = await startKpkiServer({
    env: {
      KPKI_LISTEN: `127.0.0.1:${port}`,
      KPKI_PUBLIC_URL: `https://127.0.0.1:${port}`,
      KPKI_DATA_DIR: path.join(workDir, "data"),
      KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN,
      KPKI_LOG_LEVEL: "warn",
      ...(database === undefined ? {} : { DATABASE_URL: database.url }),
    },
  });
  bundlePem = readFileSync(path.join(workDir, "data", "ca-bundle.pem"), "utf8");
  tokenFile = file("admin.token", `${TEST_ADMIN_TOKEN}\n`);
  const created = await api("POST", "/v1/authorities", { name: CA, type: "intermediate", parent: "kpki-root", keyAlgorithm: "ECDSA-P256", subject: { commonName: "Revocation Test CA" } });
  expect(created.status, created.text).toBe(201);
  caPem = (await api("GET", `/v1/authorities/${CA}/certificate`, undefined, { Accept: "application/x-pem-file" })).text;
  file("ca.pem", caPem);
  const chain = await api("GET", `/v1/authorities/${CA}/chain`, undefined, { Accept: "application/x-pem-file" });
  file("chain.pem", chain.text);
}, 120_000);

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("revocation with openssl as the relying party", () => {
  let early: IssuedJson & { certFile: string };
  let victim: IssuedJson & { certFile: string };
  let bystander: IssuedJson & { certFile: string };
  let base: { pem: string; text: string };

  it("issued certificates point at the CRL, the OCSP responder and the CA certificate", async () => {
    early = await issue("early.rev.test");
    victim = await issue("victim.rev.test");
    bystander = await issue("bystander.rev.test");
    const text = opensslRun(["x509", "-in", victim.certFile, "-noout", "-text"]).stdout;
    expect(text).toContain(`URI:${server.url}/v1/authorities/${CA}/crl`);
    expect(text).toContain(`OCSP - URI:${server.url}/v1/ocsp`);
    expect(text).toContain(`CA Issuers - URI:${server.url}/v1/authorities/${CA}/certificate?format=der`);
    // The CA Issuers URL answers DER (RFC 5280 §4.2.2.1) even to a client that accepts anything.
    const issuerDer = await getBinary(`/v1/authorities/${CA}/certificate?format=der`, "*/*");
    const parsed = opensslRun(["x509", "-inform", "DER", "-noout", "-subject"], issuerDer);
    expect(parsed.stdout).toContain("Revocation Test CA");
  });

  it("openssl ocsp: good before revocation, with the nonce echoed and the signature verified", () => {
    const run = ocspStatus(victim.certFile);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${victim.certFile}: good`);
    expect(run.stderr).toContain("Response verify OK");
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/nonce/i);
  });

  it("the first CRL is a base; its delta lists what was revoked after it", async () => {
    base = await crlFile("full", "base");
    expect(base.text).toContain("No Revoked Certificates");
    const revoked = await runKpki(["cert", "revoke", early.id, "--reason", "superseded", ...remote()]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const delta = await crlFile("delta", "delta-first");
    expect(delta.text).toMatch(new RegExp(`Delta CRL Indicator: critical\\s*\\n\\s*${crlNumber(base.text)}`));
    expect(delta.text).toMatch(serialPattern(early.serialNumber));
    expect(delta.text).toContain("Superseded");
    expect(crlNumber(delta.text)).toBeGreaterThan(crlNumber(base.text));
  });

  it("kpki cert revoke → openssl ocsp says revoked with the reason", async () => {
    const result = await runKpki(["cert", "revoke", victim.id, "--reason", "keyCompromise", ...remote()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`revoked ${victim.id}`);
    const run = ocspStatus(victim.certFile);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${victim.certFile}: revoked`);
    expect(run.stdout).toMatch(/Reason: keyCompromise/);
    expect(ocspStatus(bystander.certFile).stdout).toContain(`${bystander.certFile}: good`);
  });

  it("the complete CRL lists the serial with its reason; openssl verify -crl_check fails for it and passes for another", async () => {
    const full = await crlFile("full", "full-after");
    expect(full.text).toMatch(serialPattern(victim.serialNumber));
    expect(full.text).toContain("Key Compromise");
    expect(full.text).toMatch(serialPattern(early.serialNumber));
    expect(full.text).not.toMatch(serialPattern(bystander.serialNumber));
    expect(crlNumber(full.text)).toBeGreaterThan(crlNumber(base.text));
    expect(full.text).toContain(`URI:${server.url}/v1/authorities/${CA}/crl/delta`); // Freshest CRL
    const revoked = verify(victim.certFile, [full.pem]);
    expect(revoked.status).not.toBe(0);
    expect(`${revoked.stdout}${revoked.stderr}`).toContain("certificate revoked");
    const good = verify(bystander.certFile, [full.pem]);
    expect(good.status, `${good.stdout}${good.stderr}`).toBe(0);
  });

  it("the delta CRL lists the revocations since its base, and openssl applies it to the base", async () => {
    const delta = await crlFile("delta", "delta-after");
    expect(delta.text).toMatch(serialPattern(victim.serialNumber));
    expect(delta.text).not.toMatch(serialPattern(bystander.serialNumber));
    expect(delta.text).toMatch(new RegExp(`Delta CRL Indicator: critical\\s*\\n\\s*${crlNumber(base.text)}`));
    // The base alone does not know the victim; base + delta does.
    expect(verify(victim.certFile, [base.pem]).status).toBe(0);
    const withDelta = verify(victim.certFile, [base.pem, delta.pem], ["-use_deltas"]);
    expect(withDelta.status).not.toBe(0);
    expect(`${withDelta.stdout}${withDelta.stderr}`).toContain("certificate revoked");
  });

  it("the PEM form and the certificate's status over REST agree", async () => {
    const pem = await api("GET", `/v1/authorities/${CA}/crl`, undefined, { Accept: "application/x-pem-file" });
    expect(pem.status).toBe(200);
    expect(pem.text).toMatch(/^-----BEGIN X509 CRL-----/);
    const cert = jsonBody<IssuedJson>(await api("GET", `/v1/certificates/${victim.id}`));
    expect(cert.status).toBe("revoked");
    expect(cert.revocationReason).toBe("keyCompromise");
  });

  it("revocation is final: a second revoke is a conflict and changes nothing", async () => {
    const again = await api("POST", `/v1/certificates/${victim.id}/revoke`, { reason: "superseded" });
    expect(again.status).toBe(409);
    expect(jsonBody<IssuedJson>(await api("GET", `/v1/certificates/${victim.id}`)).revocationReason).toBe("keyCompromise");
  });

  it("refuses an unknown reason, an unknown certificate, and a caller without the permission", async () => {
    expect((await api("POST", `/v1/certificates/${bystander.id}/revoke`, { reason: "certificateHold" })).status).toBe(400);
    expect((await api("POST", "/v1/certificates/00000000-0000-7000-8000-000000000000/revoke", { reason: "keyCompromise" })).status).toBe(404);
    const reader = jsonBody<{ token: string }>(await api("POST", "/v1/tokens", { name: "rev-reader", role: "reader" }));
    const denied = await httpsRequest(`${server.url}/v1/certificates/${bystander.id}/revoke`, { method: "POST", ca: bundlePem, headers: { Authorization: `Bearer ${reader.token}` }, body: { reason: "keyCompromise" } });
    expect(denied.status).toBe(403);
    expect(ocspStatus(bystander.certFile).stdout).toContain(`${bystander.certFile}: good`);
  });

  it("OCSP for an issuer kpki does not hold is unauthorized; garbage is malformedRequest", async () => {
    const foreign = opensslRun(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=foreign", "-keyout", path.join(workDir, "foreign.key"), "-out", path.join(workDir, "foreign.pem"), "-days", "1"]);
    expect(foreign.status, foreign.stderr).toBe(0);
    files["foreign.pem"] = path.join(workDir, "foreign.pem");
    const run = opensslRun(["ocsp", "-issuer", path.join(workDir, "foreign.pem"), "-cert", path.join(workDir, "foreign.pem"), "-url", `${server.url}/v1/ocsp`, "-CAfile", files["chain.pem"] ?? "", "-timeout", "20"]);
    expect(`${run.stdout}${run.stderr}`).toContain("unauthorized");
    const garbage = await getBinaryPost(Buffer.from("not DER"));
    expect([...garbage]).toEqual([0x30, 0x03, 0x0a, 0x01, 0x01]); // OCSPResponse { malformedRequest }
  });

  it("the GET form (RFC 6960 Appendix A.1) answers the same as POST", async () => {
    const request = opensslRun(["ocsp", "-issuer", files["ca.pem"] ?? "", "-cert", victim.certFile, "-no_nonce", "-reqout", path.join(workDir, "req.der")]);
    expect(request.status, request.stderr).toBe(0);
    const encoded = encodeURIComponent(readFileSync(path.join(workDir, "req.der")).toString("base64"));
    const response = await getBinary(`/v1/ocsp/${encoded}`, "application/ocsp-response");
    const check = opensslRun(["ocsp", "-respin", file("get-response.der", response), "-issuer", files["ca.pem"] ?? "", "-cert", victim.certFile, "-CAfile", files["chain.pem"] ?? "", "-no_nonce"]);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain(`${victim.certFile}: revoked`);
  });
});

async function getBinaryPost(body: Buffer): Promise<Buffer> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/v1/ocsp`, { method: "POST", ca: bundlePem, agent: false, headers: { "Content-Type": "application/ocsp-request", "Content-Length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`POST /v1/ocsp: ${res.statusCode ?? 0} ${Buffer.concat(chunks).toString()}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

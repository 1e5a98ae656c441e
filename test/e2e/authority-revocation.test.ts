// Revoking an intermediate CA (RFC 5280 §6.3): the parent's CRL and OCSP list the CA's
// certificate, the CA and the CAs below it are disabled, and what they issued is marked revoked in
// their own (still served) CRLs. Checked with real openssl (`verify -crl_check_all`, `crl`, `ocsp`)
// and the `kpki ca revoke` command against the HTTPS listener.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openssl, opensslRun, TempDir } from "../helpers/openssl.js";
import { expectProblem } from "../helpers/problem.js";
import { listenHttps, type HttpsListener } from "../helpers/https-listener.js";
import { runKpki } from "../helpers/process.js";
import { ADMIN, TEST_ADMIN_TOKEN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const execFileAsync = promisify(execFile);

interface AuthorityJson {
  name: string;
  status: string;
  serialNumber: string;
  certificatePem: string;
}
interface CertificateJson {
  id: string;
  ca: string;
  serialNumber: string;
  profile: string;
  status: string;
  revocationReason?: string;
  certificatePem: string;
}

let t: TestRuntime;
let listener: HttpsListener;
let dir: TempDir;
let bundle: string;
const leaves: Record<string, CertificateJson> = {};
const authorities: Record<string, AuthorityJson> = {};

async function createCa(name: string, parent: string, pathLength = 0): Promise<void> {
  const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name, type: "intermediate", parent, pathLength, subject: { commonName: `${name} CA` } });
  expect(created.status, created.text).toBe(201);
  authorities[name] = created.body as AuthorityJson;
  dir.write(`${name}.pem`, authorities[name].certificatePem);
}

async function issueLeaf(name: string, ca: string): Promise<void> {
  const issued = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca, profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: [`DNS:${name}.example`] });
  expect(issued.status, issued.text).toBe(201);
  leaves[name] = issued.body as CertificateJson;
  dir.write(`${name}.pem`, leaves[name].certificatePem);
}

/** The CA's complete CRL (PEM), written to `<ca>.crl`. */
async function fetchCrl(ca: string): Promise<string> {
  const response = await request(t.app).get(`/v1/authorities/${ca}/crl`).set("Accept", "application/x-pem-file").buffer(true);
  expect(response.status, response.text).toBe(200);
  return dir.write(`${ca}.crl`, response.text);
}

/** `openssl verify -crl_check_all` of a leaf against the root, with every CA's CRL on the path. */
async function verify(leaf: string, cas: readonly string[]): Promise<{ ok: boolean; output: string }> {
  const crls = await Promise.all(["kpki-root", ...cas].map(fetchCrl));
  const untrusted = dir.write("untrusted.pem", cas.map((ca) => authorities[ca]?.certificatePem ?? "").join(""));
  const run = opensslRun(["verify", "-crl_check_all", "-CAfile", bundle, "-untrusted", untrusted, ...crls.flatMap((crl) => ["-CRLfile", crl]), dir.file(`${leaf}.pem`)]);
  return { ok: run.status === 0, output: run.stdout + run.stderr };
}

beforeAll(async () => {
  t = await startTestRuntime();
  listener = await listenHttps(t);
  dir = new TempDir("kpki-ca-revoke-");
  bundle = path.join(t.dataDir, "ca-bundle.pem");
  // kpki-root → mid → sub, and a sibling `other` that stays valid.
  await createCa("mid", "kpki-root", 1);
  await createCa("sub", "mid");
  await createCa("other", "kpki-root");
  await issueLeaf("leaf-mid", "mid");
  await issueLeaf("leaf-sub", "sub");
  await issueLeaf("leaf-other", "other");
});

afterAll(async () => {
  await listener?.close();
  dir?.remove();
  await t?.close();
});

describe("revoking an intermediate CA", () => {
  it("every chain verifies with CRL checking before", async () => {
    expect(await verify("leaf-sub", ["mid", "sub"])).toMatchObject({ ok: true });
    expect(await verify("leaf-mid", ["mid"])).toMatchObject({ ok: true });
  });

  it("revokes the CA in its parent's CRL, disables it and what is below it, and marks what they issued", async () => {
    const response = await request(t.app).post("/v1/authorities/mid/revoke").set(ADMIN).send({ reason: "keyCompromise" });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ authority: { name: "mid", status: "disabled" }, reason: "keyCompromise", revokedAuthorities: ["mid", "sub"], revokedCertificates: 4 });

    // The root's CRL names mid's serial with its reason; mid's own CRL (still served, signed by
    // the disabled CA) names sub and mid's leaf as cACompromise.
    const rootCrl = openssl(["crl", "-in", await fetchCrl("kpki-root"), "-noout", "-text"]);
    expect(rootCrl).toMatch(new RegExp(`Serial Number: ${authorities.mid!.serialNumber.toUpperCase()}[\\s\\S]*?Key Compromise`));
    const midCrl = openssl(["crl", "-in", await fetchCrl("mid"), "-noout", "-text"]);
    for (const serial of [authorities.sub!.serialNumber, leaves["leaf-mid"]!.serialNumber]) {
      expect(midCrl).toMatch(new RegExp(`Serial Number: ${serial.toUpperCase()}[\\s\\S]*?CA Compromise`));
    }

    // Path validation: every certificate below mid fails; the sibling's chain still verifies.
    const sub = await verify("leaf-sub", ["mid", "sub"]);
    expect(sub.ok, sub.output).toBe(false);
    expect(sub.output).toContain("certificate revoked");
    expect((await verify("leaf-mid", ["mid"])).output).toContain("certificate revoked");
    expect(await verify("leaf-other", ["other"])).toMatchObject({ ok: true });
  });

  it("the inventory shows the CA certificate under its parent and the leaves as revoked", async () => {
    const caEntries = await request(t.app).get("/v1/certificates").query({ ca: "kpki-root", profile: "ca" }).set(ADMIN);
    expect(caEntries.status, caEntries.text).toBe(200);
    expect((caEntries.body as { items: CertificateJson[] }).items).toEqual([expect.objectContaining({ ca: "kpki-root", serialNumber: authorities.mid!.serialNumber, status: "revoked", revocationReason: "keyCompromise" })]);
    const leaf = await request(t.app).get(`/v1/certificates/${leaves["leaf-sub"]!.id}`).set(ADMIN);
    expect(leaf.body).toMatchObject({ status: "revoked", revocationReason: "cACompromise" });
    const other = await request(t.app).get(`/v1/certificates/${leaves["leaf-other"]!.id}`).set(ADMIN);
    expect(other.body).toMatchObject({ status: "active" });
  });

  it("OCSP answers revoked for the CA certificate (openssl ocsp, issuer: the root)", async () => {
    // Asynchronously: the responder runs in this process.
    const run = await execFileAsync("openssl", ["ocsp", "-issuer", bundle, "-cert", dir.file("mid.pem"), "-url", `${listener.v4}/v1/ocsp`, "-CAfile", bundle, "-timeout", "20"]);
    expect(run.stdout + run.stderr).toMatch(/Response verify OK/);
    expect(run.stdout).toMatch(/mid\.pem: revoked[\s\S]*Reason: keyCompromise/);
  });

  it("a revoked CA and the CAs below it issue nothing more", async () => {
    for (const ca of ["mid", "sub"]) {
      const refused = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca, profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:late.example"] });
      expectProblem(refused, { status: 409, code: "wrong_state", field: "ca" });
    }
  });

  it("refuses a second revocation, roots, kpki's own CA and unknown names", async () => {
    expectProblem(await request(t.app).post("/v1/authorities/mid/revoke").set(ADMIN).send({ reason: "superseded" }), { status: 409, code: "conflict", detail: "already revoked" });
    expectProblem(await request(t.app).post("/v1/authorities/kpki-root/revoke").set(ADMIN).send({ reason: "superseded" }), { status: 409, code: "wrong_state", detail: "kpki's own" });
    expectProblem(await request(t.app).post("/v1/authorities/kpki-internal/revoke").set(ADMIN).send({ reason: "superseded" }), { status: 409, code: "wrong_state", detail: "kpki's own" });
    expectProblem(await request(t.app).post("/v1/authorities/no-such-ca/revoke").set(ADMIN).send({ reason: "superseded" }), { status: 404, code: "not_found" });
    expectProblem(await request(t.app).post("/v1/authorities/other/revoke").set(ADMIN).send({ reason: "certificateHold" }), { status: 400, code: "invalid_input", field: "reason" });
  });

  it("`kpki ca revoke` revokes over the API; a CA retired without compromise withdraws what it issued as cessationOfOperation", async () => {
    const result = await runKpki(["ca", "revoke", "other", "--reason", "superseded"], { env: { KPKI_SERVER: listener.v4, KPKI_TOKEN: TEST_ADMIN_TOKEN, KPKI_CA_CERT: bundle } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^revoked CA other at \S+: superseded; disabled other; 2 certificate\(s\) marked revoked\n$/);
    const leaf = await request(t.app).get(`/v1/certificates/${leaves["leaf-other"]!.id}`).set(ADMIN);
    expect(leaf.body).toMatchObject({ status: "revoked", revocationReason: "cessationOfOperation" });
    expect(readFileSync(await fetchCrl("kpki-root"), "utf8")).toContain("BEGIN X509 CRL");
  });
});

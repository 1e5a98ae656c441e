// Delegated OCSP signing (RFC 6960 §4.2.2.2) with KPKI_OCSP_RESPONDER_CERTIFICATE_HOURS: the CA
// issues a short-lived responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) whose key
// signs the answers and which travels in the response; real `openssl ocsp` verifies it.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TempDir, openssl } from "../helpers/openssl.js";
import { listenHttps, type HttpsListener } from "../helpers/https-listener.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const execFileAsync = promisify(execFile);

let t: TestRuntime;
let listener: HttpsListener;
let dir: TempDir;
let bundle: string;
let leafId: string;

/** `openssl ocsp` for the leaf, asynchronously (the responder runs in this process). */
async function ocsp(): Promise<string> {
  const run = await execFileAsync("openssl", ["ocsp", "-issuer", dir.file("ca.pem"), "-cert", dir.file("leaf.pem"), "-url", `${listener.v4}/v1/ocsp`, "-CAfile", bundle, "-verify_other", dir.file("ca.pem"), "-resp_text", "-timeout", "20"]);
  return run.stdout + run.stderr;
}

beforeAll(async () => {
  t = await startTestRuntime({ env: { KPKI_OCSP_RESPONDER_CERTIFICATE_HOURS: "24" } });
  listener = await listenHttps(t);
  dir = new TempDir("kpki-ocsp-delegate-");
  bundle = path.join(t.dataDir, "ca-bundle.pem");
  const ca = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "deleg", type: "intermediate", parent: "kpki-root", subject: { commonName: "Delegating CA" } });
  expect(ca.status, ca.text).toBe(201);
  dir.write("ca.pem", (ca.body as { certificatePem: string }).certificatePem);
  const leaf = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "deleg", profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:leaf.example"] });
  expect(leaf.status, leaf.text).toBe(201);
  leafId = (leaf.body as { id: string }).id;
  dir.write("leaf.pem", (leaf.body as { certificatePem: string }).certificatePem);
});

afterAll(async () => {
  await listener?.close();
  dir?.remove();
  await t?.close();
});

describe("delegated OCSP responder", () => {
  it("answers good, signed by a responder certificate the CA issued (OCSPSigning, nocheck), which openssl verifies", async () => {
    const output = await ocsp();
    expect(output).toContain("Response verify OK");
    expect(output).toMatch(/leaf\.pem: good/);
    expect(output).toContain("Subject: CN=Delegating CA OCSP responder");
    expect(output).toContain("OCSP Signing");
    expect(output).toContain("OCSP No Check");
    // ResponderID byKey is the responder's key, not the CA's.
    const caKeyId = openssl(["x509", "-in", dir.file("ca.pem"), "-noout", "-ext", "subjectKeyIdentifier"]).split("\n")[1]?.trim().replaceAll(":", "");
    expect(output).toMatch(/Responder Id: [0-9A-F]{40}/);
    expect(output).not.toContain(`Responder Id: ${caKeyId}`);
  });

  it("answers revoked after a revocation, reusing the same responder certificate (one inventory entry, audited)", async () => {
    const revoked = await request(t.app).post(`/v1/certificates/${leafId}/revoke`).set(ADMIN).send({ reason: "keyCompromise" });
    expect(revoked.status, revoked.text).toBe(200);
    const output = await ocsp();
    expect(output).toContain("Response verify OK");
    expect(output).toMatch(/leaf\.pem: revoked[\s\S]*Reason: keyCompromise/);
    const responders = await request(t.app).get("/v1/certificates").query({ ca: "deleg", profile: "ocsp-signing" }).set(ADMIN);
    const items = (responders.body as { items: { requestedBy: string; serverGeneratedKey: boolean; notAfter: string; notBefore: string }[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ requestedBy: "system:kpki", serverGeneratedKey: true });
    const lifetimeHours = (Date.parse(items[0]!.notAfter) - Date.parse(items[0]!.notBefore)) / 3_600_000;
    expect(lifetimeHours).toBeGreaterThan(24);
    expect(lifetimeHours).toBeLessThan(24.5);
    const audit = await request(t.app).get("/v1/audit").query({ actor: "system:kpki", action: "certificate.issue" }).set(ADMIN);
    expect((audit.body as { items: { details: { profile?: string } }[] }).items.filter((entry) => entry.details.profile === "ocsp-signing")).toHaveLength(1);
  });
});

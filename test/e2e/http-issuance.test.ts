import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

describe("issuance over HTTP", () => {
  it("creates an intermediate and signs a CSR that openssl verifies", async () => {
    const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "web-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "Web CA" } });
    expect(created.status).toBe(201);
    const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-csr-"));
    execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "r.csr"), "-subj", "/CN=svc.example.internal", "-addext", "subjectAltName=DNS:svc.example.internal"], { stdio: "ignore" });
    const csr = execFileSync("cat", [path.join(dir, "r.csr")]).toString();
    const issued = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "web-ca", profile: "server", csr });
    expect(issued.status).toBe(201);
    writeFileSync(path.join(dir, "leaf.pem"), (issued.body as { certificatePem: string }).certificatePem);
    writeFileSync(path.join(dir, "chain.pem"), (issued.body as { chainPem: string }).chainPem);
    const root = await request(t.app).get("/v1/authorities/kpki-root/certificate");
    writeFileSync(path.join(dir, "root.pem"), root.text);
    const out = execFileSync("openssl", ["verify", "-CAfile", path.join(dir, "root.pem"), "-untrusted", path.join(dir, "chain.pem"), "-purpose", "sslserver", path.join(dir, "leaf.pem")]).toString();
    expect(out.trim()).toBe(`${path.join(dir, "leaf.pem")}: OK`);
  });
});

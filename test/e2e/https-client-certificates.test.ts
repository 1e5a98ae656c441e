// mTLS principals on the REST API: `kpki serve` requests (never requires) a client certificate; one
// issued by kpki's internal CA with clientAuth is the principal KMIP makes of it (`cert:<CN>`, the
// role its Organization names); a bearer token still works; any other certificate is 401. Real
// HTTPS against an in-process service whose clock started three days ago, so that a certificate
// issued then is expired now.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startService, type RunningService } from "../../src/app.js";
import { makeOpensslRoot, signWithOpenssl, makeCsr } from "../helpers/openssl.js";
import { httpsRequest, type HttpsResponse } from "../helpers/process.js";
import { ADMIN, startTestRuntime, TEST_ADMIN_TOKEN, type TestRuntime } from "../helpers/runtime.js";

interface Credentials {
  readonly certPem: string;
  readonly keyPem: string;
}

let offsetMillis = -3 * 86_400_000;
const clock = { now: () => new Date(Date.now() + offsetMillis) };
let t: TestRuntime;
let service: RunningService;
let ca: string;

/** A certificate of the internal CA (or `ca`) with a generated key, issued over the API by the admin. */
async function issueClient(commonName: string, organization: readonly string[], options: { ca?: string; profile?: string; ttlSeconds?: number } = {}): Promise<Credentials> {
  const res = await request(t.app)
    .post("/v1/certificates")
    .set(ADMIN)
    .send({
      ca: options.ca ?? "kpki-internal",
      profile: options.profile ?? "client",
      keyAlgorithm: "ECDSA-P256",
      subject: { commonName, ...(organization.length === 0 ? {} : { organization: [...organization] }) },
      ...(options.profile === "server" ? { subjectAltNames: ["DNS:client.example"] } : {}),
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    });
  expect(res.status, res.text).toBe(201);
  const body = res.body as { certificatePem: string; privateKeyPem: string };
  return { certPem: body.certificatePem, keyPem: body.privateKeyPem };
}

function call(method: string, urlPath: string, client?: Credentials, options: { token?: string; body?: unknown } = {}): Promise<HttpsResponse> {
  return httpsRequest(`${service.url}${urlPath}`, {
    method,
    ca,
    ...(client === undefined ? {} : { clientCertificate: client }),
    ...(options.token === undefined ? {} : { headers: { Authorization: `Bearer ${options.token}` } }),
    ...(options.body === undefined ? {} : { body: options.body }),
  });
}

function problemOf(res: HttpsResponse): { code: string; detail: string } {
  return JSON.parse(res.text) as { code: string; detail: string };
}

let expired: Credentials;

beforeAll(async () => {
  t = await startTestRuntime({ env: { KPKI_LISTEN: "127.0.0.1:0" }, clock });
  // Issued three days ago for one hour: expired now.
  expired = await issueClient("expired-bot", ["operator"], { ttlSeconds: 3600 });
  offsetMillis = 0;
  service = await startService(t.runtime);
  ca = readFileSync(path.join(t.dataDir, "ca-bundle.pem"), "utf8");
}, 120_000);

afterAll(async () => {
  if (service === undefined) {
    await t?.close();
    return;
  }
  service.server.closeAllConnections();
  await service.stop();
  await t.database.drop();
  rmSync(t.dataDir, { recursive: true, force: true });
});

describe("a client certificate of the internal CA", () => {
  it("is the principal cert:<CN> with the role of its Organization, audited under that name", async () => {
    const operator = await issueClient("ops-bot", ["operator"]);
    const listed = await call("GET", "/v1/clusters", operator);
    expect(listed.status, listed.text).toBe(200);
    const created = await call("POST", "/v1/keys", operator, { body: { name: "mtls-key" } });
    expect(created.status, created.text).toBe(201);
    const trail = await request(t.app).get("/v1/audit?action=named-key.create&target=named-key%3Amtls-key").set(ADMIN);
    expect((trail.body as { items: { actor: string }[] }).items.map((entry) => entry.actor)).toEqual(["cert:ops-bot"]);
    // …and only that role: operators do not manage tokens.
    const refused = await call("POST", "/v1/tokens", operator, { body: { name: "x", role: "reader" } });
    expect(refused.status, refused.text).toBe(403);
  });

  it("without a role in its Organization is refused every protected operation, public ones still work", async () => {
    const roleless = await issueClient("no-role", []);
    expect((await call("GET", "/v1/clusters", roleless)).status).toBe(401);
    expect((await call("GET", "/v1/profiles", roleless)).status).toBe(200);
  });

  it("a bearer token wins over the certificate it comes with", async () => {
    const reader = await issueClient("reader-bot", ["reader"]);
    const created = await call("POST", "/v1/tokens", reader, { token: TEST_ADMIN_TOKEN, body: { name: "via token", role: "reader" } });
    expect(created.status, created.text).toBe(201);
  });
});

describe("other certificates are 401, even on public operations", () => {
  it("an expired certificate of the internal CA", async () => {
    const res = await call("GET", "/v1/profiles", expired);
    expect(res.status, res.text).toBe(401);
    expect(problemOf(res)).toMatchObject({ code: "unauthenticated", detail: expect.stringContaining("CERT_HAS_EXPIRED") as unknown });
  });

  it("a certificate of a foreign CA", async () => {
    const foreign = makeOpensslRoot({ subject: "/CN=foreign CA" });
    const { csrPem, keyPem } = makeCsr({ subject: "/O=admin/CN=intruder" });
    const certPem = signWithOpenssl(foreign, csrPem, ["extendedKeyUsage=clientAuth"]);
    const res = await call("GET", "/v1/profiles", { certPem, keyPem });
    expect(res.status, res.text).toBe(401);
    expect(problemOf(res).detail).toMatch(/not trusted/);
  });

  it("a certificate of another kpki CA under the same root", async () => {
    const other = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "other-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "other CA" } });
    expect(other.status, other.text).toBe(201);
    const client = await issueClient("sideways", ["admin"], { ca: "other-ca" });
    const res = await call("GET", "/v1/clusters", client);
    // The handshake cannot chain it to a CA it trusts (only the internal CA and the root are).
    expect(res.status, res.text).toBe(401);
    expect(problemOf(res)).toMatchObject({ code: "unauthenticated", detail: expect.stringMatching(/not trusted/) as unknown });
  });

  it("a certificate of the internal CA without clientAuth", async () => {
    const server = await issueClient("server-only", ["admin"], { profile: "server" });
    const res = await call("GET", "/v1/clusters", server);
    // TLS verification already refuses it for a client (unsupported certificate purpose).
    expect(res.status, res.text).toBe(401);
    expect(problemOf(res)).toMatchObject({ code: "unauthenticated", detail: expect.stringMatching(/not trusted \(.*purpose/i) as unknown });
  });
});

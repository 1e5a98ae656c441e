import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATION_PERMISSIONS, TokenService, type OperationId, type Principal } from "../../src/core/access/index.js";
import { DomainError } from "../../src/core/shared/domain-error.js";
import type { Clock } from "../../src/core/shared/clock.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import {
  documentedOperations,
  expectNothingStored,
  expectProblem,
  loadContract,
  sampleRequest,
  sampleUrl,
  storedCounts,
  type DocumentedOperation,
} from "../helpers/problem.js";
import { ADMIN, TEST_ADMIN_TOKEN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

// Authentication (bearer tokens: missing, malformed, unknown, revoked, expired) and authorization
// (what each role may do), over HTTP against a real database.

/** The API's view of a token. */
interface TokenJson {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
  readonly lastUsedAt?: string;
}
interface CreatedTokenJson extends TokenJson {
  readonly token: string;
}

const operations = documentedOperations(loadContract());
const permissionOf = (op: DocumentedOperation) => OPERATION_PERMISSIONS[op.operationId as OperationId];
const protectedOperations = operations.filter((op) => permissionOf(op) !== "public");
const publicOperations = operations.filter((op) => permissionOf(op) === "public");

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

/** Creates a token over the API as the admin. */
async function createToken(name: string, role: string, ttlSeconds?: number): Promise<CreatedTokenJson> {
  const res = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name, role, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
  expect(res.status, res.text).toBe(201);
  return res.body as CreatedTokenJson;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A request a role may or may not make, that stores something when allowed. */
const issueBody = { ca: "kpki-internal", profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:role-test.example"] };
const createCaBody = (name: string) => ({ name, type: "intermediate", parent: "kpki-root", subject: { commonName: name } });

describe("without a token", () => {
  it("the table of protected operations is not empty (the loops below check something)", () => {
    expect(protectedOperations.map((op) => op.operationId).sort()).toEqual(
      [
        "createAuthority",
        "createToken",
        "getAuthorityCsr",
        "getCertificate",
        "importAuthority",
        "installAuthorityCertificate",
        "issueCertificate",
        "listCertificates",
        "revokeCertificate",
        "revokeAuthority",
        "listTokens",
        "revokeToken",
        "listAuditEvents",
        "listClusters",
        "getCluster",
        "createCluster",
        "updateCluster",
        "putClusterNode",
        "deleteClusterNode",
        "signKubeadmCsrs",
        "signKubeletServing",
        "listServiceAccountKeys",
        "startServiceAccountKeyRotation",
        "advanceServiceAccountKeyRotation",
        "exportServiceAccountKeyFiles",
        "getClusterEncryption",
        "configureClusterEncryption",
        "getClusterEncryptionConfig",
        "startClusterEncryptionRotation",
        "advanceClusterEncryptionRotation",
        "createObject",
        "createKeyPair",
        "registerObject",
        "locateObjects",
        "getObjectMetadata",
        "getObject",
        "getAttributes",
        "getAttributeList",
        "addAttribute",
        "modifyAttribute",
        "deleteAttribute",
        "activateObject",
        "revokeObject",
        "destroyObject",
        "rekeyObject",
        "rekeyKeyPair",
        "encryptData",
        "decryptData",
        "signData",
        "verifySignature",
        "computeMac",
        "verifyMac",
        "retrieveRandom",
        "runBatch",
        "listNamedKeys",
        "createNamedKey",
        "getNamedKey",
        "updateNamedKey",
        "rotateNamedKey",
        "encryptWithNamedKey",
        "decryptWithNamedKey",
        "rewrapWithNamedKey",
        "generateDataKey",
        "getNamedKeyUsageReport",
        "listJobs",
        "listJobRuns",
        "runJob",
      ].sort(),
    );
  });

  it.each(protectedOperations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const))("%s is 401 with a Bearer challenge, storing nothing", async (_label, op) => {
    const res = await expectNothingStored(t, () => sampleRequest(t.app, op));
    expectProblem(res, { status: 401, code: "unauthenticated", detail: "bearer token" });
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="kpki"$/);
  });

  it.each(publicOperations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const))("public %s is not refused for want of a token", async (_label, op) => {
    const res = await sampleRequest(t.app, op);
    expect([401, 403], `${sampleUrl(op)} → ${res.status}`).not.toContain(res.status);
  });

  it("public operations work for real without a token: CA list, certificate, chain, profiles, health", async () => {
    const list = await request(t.app).get("/v1/authorities");
    expect(list.status).toBe(200);
    expect((list.body as { items: { name: string }[] }).items.map((ca) => ca.name)).toEqual(expect.arrayContaining(["kpki-root", "kpki-internal"]));
    const certificate = await request(t.app).get("/v1/authorities/kpki-internal/certificate");
    expect(certificate.status).toBe(200);
    expect(certificate.text).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    const chain = await request(t.app).get("/v1/authorities/kpki-internal/chain");
    expect(chain.status).toBe(200);
    expect(chain.text.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    const profiles = await request(t.app).get("/v1/profiles");
    expect(profiles.status).toBe(200);
    expect((profiles.body as { items: { name: string }[] }).items.map((p) => p.name)).toEqual(["server", "client", "peer"]);
    const health = await request(t.app).get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
  });

  // Regression test: server.ts runs the OpenAPI request validator before authenticate/authorizeOperation, so an anonymous caller's malformed request is answered 400 (with the schema errors) instead of 401: the request body of a protected operation is parsed and judged for anyone.
  it("an anonymous malformed request to a protected operation is 401, not a schema error", async () => {
    const res = await request(t.app).post("/v1/certificates").send({ unknown: true });
    expectProblem(res, { status: 401, code: "unauthenticated" });
  });
});

describe("bad credentials", () => {
  it.each([
    ["Basic scheme", "Basic YWRtaW46YWRtaW4="],
    ["lower-case scheme", `bearer ${TEST_ADMIN_TOKEN}`],
    ["no token after the scheme", "Bearer "],
    ["two tokens", `Bearer ${TEST_ADMIN_TOKEN} ${TEST_ADMIN_TOKEN}`],
    ["characters outside token68", "Bearer kpki_abc$def"],
    ["over 512 characters", `Bearer ${"a".repeat(600)}`],
  ])("a malformed Authorization header (%s) is 401", async (_name, header) => {
    const res = await expectNothingStored(t, () => request(t.app).get("/v1/tokens").set("Authorization", header));
    expectProblem(res, { status: 401, code: "unauthenticated", detail: "Bearer <token>" });
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer /);
  });

  it("an unknown token is 401, with the same message as revoked or expired ones", async () => {
    const res = await request(t.app).get("/v1/tokens").set(bearer("kpki_this-token-was-never-issued-0123456789abcdefghij"));
    expectProblem(res, { status: 401, code: "unauthenticated", detail: "invalid, expired or revoked token" });
  });

  it("a wrong token fails even on a public operation (a misconfigured client learns at once)", async () => {
    const res = await request(t.app).get("/v1/authorities").set(bearer("kpki_unknown"));
    expectProblem(res, { status: 401, code: "unauthenticated" });
  });

  it("a revoked token is refused at once, although a successful authentication was cached", async () => {
    const created = await createToken("to-revoke", "reader");
    // Authenticates (and caches the success for up to 5 s).
    expect((await request(t.app).get("/v1/certificates").set(bearer(created.token))).status).toBe(200);
    const revoked = await request(t.app).delete(`/v1/tokens/${created.id}`).set(ADMIN);
    expect(revoked.status).toBe(200);
    expect((revoked.body as TokenJson).revokedAt).toBeDefined();
    const res = await request(t.app).get("/v1/certificates").set(bearer(created.token));
    expectProblem(res, { status: 401, code: "unauthenticated", detail: "invalid, expired or revoked token" });
    // Revoking again is harmless and keeps the first revocation time.
    const again = await request(t.app).delete(`/v1/tokens/${created.id}`).set(ADMIN);
    expect(again.status).toBe(200);
    expect((again.body as TokenJson).revokedAt).toBe((revoked.body as TokenJson).revokedAt);
  });

  it("revoking an unknown token is 404", async () => {
    const res = await expectNothingStored(t, () => request(t.app).delete("/v1/tokens/01234567-89ab-7def-8123-456789abcdef").set(ADMIN));
    expectProblem(res, { status: 404, code: "not_found", detail: "does not exist" });
  });
});

describe("token expiry", () => {
  it("a token created with ttlSeconds expires exactly that long after its creation", async () => {
    const created = await createToken("short-lived", "reader", 60);
    expect(created.expiresAt).toBeDefined();
    expect(Date.parse(created.expiresAt ?? "") - Date.parse(created.createdAt)).toBe(60_000);
    const listed = (await request(t.app).get("/v1/tokens").set(ADMIN)).body as { items: TokenJson[] };
    expect(listed.items.find((token) => token.id === created.id)?.expiresAt).toBe(created.expiresAt);
    // It works now.
    expect((await request(t.app).get("/v1/certificates").set(bearer(created.token))).status).toBe(200);
  });

  it("a token without ttlSeconds does not expire", async () => {
    const created = await createToken("long-lived", "reader");
    expect(created.expiresAt).toBeUndefined();
  });

  /** A clock the test moves by hand. */
  class ManualClock implements Clock {
    constructor(private current: Date) {}
    now(): Date {
      return new Date(this.current.getTime());
    }
    advanceSeconds(seconds: number): void {
      this.current = new Date(this.current.getTime() + seconds * 1000);
    }
  }

  async function refusal(promise: Promise<Principal>): Promise<DomainError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
    return error;
  }

  it("the token service refuses a token from the second it expires, even one it cached (service level, fake clock)", async () => {
    const clock = new ManualClock(new Date());
    const tokens = new TokenService({ uow: t.runtime.uow, clock, random: new NodeRandomSource() });
    const created = await tokens.create({ principal: { id: "test:expiry", displayName: "expiry test" }, requestId: "expiry-test" }, { name: "expiring", role: "issuer", ttlSeconds: 60 });
    expect(created.token.expiresAt?.getTime()).toBe(created.token.createdAt.getTime() + 60_000);

    expect((await tokens.authenticate(created.secret)).role).toBe("issuer");
    clock.advanceSeconds(57); // past the 5 s cache: looked up again, still valid, cached until expiry
    expect((await tokens.authenticate(created.secret)).role).toBe("issuer");
    clock.advanceSeconds(2); // 59 s: from the cache
    expect((await tokens.authenticate(created.secret)).role).toBe("issuer");
    clock.advanceSeconds(1); // 60 s: exactly at expiresAt; the cache entry must not outlive the token
    const error = await refusal(tokens.authenticate(created.secret));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toBe("invalid, expired or revoked token");
    clock.advanceSeconds(3600);
    expect((await refusal(tokens.authenticate(created.secret))).code).toBe("unauthenticated");
  });

  it("a token created over HTTP with ttlSeconds 60 is refused by the token service 60 s later (same database)", async () => {
    const created = await createToken("http-expiring", "reader", 60);
    const clock = new ManualClock(new Date(Date.parse(created.createdAt) + 59_000));
    const tokens = new TokenService({ uow: t.runtime.uow, clock, random: new NodeRandomSource() });
    expect((await tokens.authenticate(created.token)).role).toBe("reader");
    clock.advanceSeconds(1);
    expect((await refusal(tokens.authenticate(created.token))).code).toBe("unauthenticated");
  });
});

describe("roles", () => {
  let reader: CreatedTokenJson;
  let issuer: CreatedTokenJson;
  let operator: CreatedTokenJson;
  beforeAll(async () => {
    reader = await createToken("reader", "reader");
    issuer = await createToken("issuer", "issuer");
    operator = await createToken("operator", "operator");
  });

  it("a reader cannot issue (403, nothing stored) but can list and read certificates", async () => {
    const refused = await expectNothingStored(t, () => request(t.app).post("/v1/certificates").set(bearer(reader.token)).send(issueBody));
    expectProblem(refused, { status: 403, code: "permission_denied", detail: "role reader lacks permission certificate.issue" });
    const list = await request(t.app).get("/v1/certificates").set(bearer(reader.token));
    expect(list.status).toBe(200);
    const items = (list.body as { items: { id: string }[] }).items;
    expect(items.length).toBeGreaterThan(0); // at least the service's own TLS certificate
    const one = await request(t.app).get(`/v1/certificates/${items[0]?.id ?? ""}`).set(bearer(reader.token));
    expect(one.status).toBe(200);
  });

  it("a reader cannot create CAs, import CAs or manage tokens", async () => {
    const createCa = await expectNothingStored(t, () => request(t.app).post("/v1/authorities").set(bearer(reader.token)).send(createCaBody("reader-ca")));
    expectProblem(createCa, { status: 403, code: "permission_denied", detail: "ca.manage" });
    const tokens = await expectNothingStored(t, () => request(t.app).post("/v1/tokens").set(bearer(reader.token)).send({ name: "escalate", role: "admin" }));
    expectProblem(tokens, { status: 403, code: "permission_denied", detail: "token.manage" });
    expectProblem(await request(t.app).get("/v1/tokens").set(bearer(reader.token)), { status: 403, code: "permission_denied" });
  });

  it("an issuer can issue, and the certificate names the token as requester", async () => {
    const before = await storedCounts(t);
    const res = await request(t.app).post("/v1/certificates").set(bearer(issuer.token)).send(issueBody);
    expect(res.status, res.text).toBe(201);
    expect((res.body as { requestedBy: string }).requestedBy).toBe(`token:${issuer.id}`);
    const after = await storedCounts(t);
    expect(after.certificates).toBe(before.certificates + 1);
    expect(after.auditEvents).toBe(before.auditEvents + 1);
  });

  it("an issuer cannot mint a kpki credential: a certificate of the internal CA with an Organization (a KMIP identity's role) needs token.manage", async () => {
    const minted = { ca: "kpki-internal", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "escalate", organization: ["admin"] } };
    const refused = await expectNothingStored(t, () => request(t.app).post("/v1/certificates").set(bearer(issuer.token)).send(minted));
    expectProblem(refused, { status: 403, code: "permission_denied", detail: "token.manage" });
    const allowed = await request(t.app).post("/v1/certificates").set(ADMIN).send(minted);
    expect(allowed.status, allowed.text).toBe(201);
  });

  it("an issuer cannot create CAs (403), create tokens (403) or read the inventory (403); nothing is stored", async () => {
    const createCa = await expectNothingStored(t, () => request(t.app).post("/v1/authorities").set(bearer(issuer.token)).send(createCaBody("issuer-ca")));
    expectProblem(createCa, { status: 403, code: "permission_denied", detail: "role issuer lacks permission ca.manage" });
    const token = await expectNothingStored(t, () => request(t.app).post("/v1/tokens").set(bearer(issuer.token)).send({ name: "escalate", role: "admin" }));
    expectProblem(token, { status: 403, code: "permission_denied", detail: "token.manage" });
    expectProblem(await request(t.app).get("/v1/certificates").set(bearer(issuer.token)), { status: 403, code: "permission_denied", detail: "certificate.read" });
  });

  it("an issuer may read a pending CA's CSR (ca.read), an anonymous caller may not", async () => {
    const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "pending-for-roles", type: "external", subject: { commonName: "Pending" } });
    expect(created.status, created.text).toBe(201);
    expect((await request(t.app).get("/v1/authorities/pending-for-roles/csr").set(bearer(issuer.token))).status).toBe(200);
    expectProblem(await request(t.app).get("/v1/authorities/pending-for-roles/csr"), { status: 401, code: "unauthenticated" });
  });

  it("an operator can create CAs but not manage tokens", async () => {
    const created = await request(t.app).post("/v1/authorities").set(bearer(operator.token)).send(createCaBody("operator-ca"));
    expect(created.status, created.text).toBe(201);
    const token = await expectNothingStored(t, () => request(t.app).post("/v1/tokens").set(bearer(operator.token)).send({ name: "escalate", role: "admin" }));
    expectProblem(token, { status: 403, code: "permission_denied", detail: "token.manage" });
    expectProblem(await request(t.app).delete(`/v1/tokens/${reader.id}`).set(bearer(operator.token)), { status: 403, code: "permission_denied" });
  });

  it("public operations also work with a valid low-privilege token", async () => {
    for (const path of ["/v1/authorities", "/v1/authorities/kpki-root/certificate", "/v1/authorities/kpki-root/chain", "/v1/profiles", "/healthz"]) {
      expect((await request(t.app).get(path).set(bearer(issuer.token))).status, path).toBe(200);
    }
  });
});

describe("token secrets", () => {
  it("appear in the create response only, never in GET /v1/tokens", async () => {
    const created = await createToken("secret-keeper", "reader");
    expect(created.token).toMatch(/^kpki_[A-Za-z0-9_-]{43}$/);
    const list = await request(t.app).get("/v1/tokens").set(ADMIN);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(created.token);
    expect(list.text).not.toContain(created.token.slice(5)); // nor the random part alone
    expect(list.text).not.toContain(TEST_ADMIN_TOKEN);
    const items = (list.body as { items: (TokenJson & Record<string, unknown>)[] }).items;
    const listed = items.find((token) => token.id === created.id);
    expect(listed).toEqual({ id: created.id, name: "secret-keeper", role: "reader", createdBy: expect.stringMatching(/^token:/) as unknown, createdAt: created.createdAt });
    for (const token of items) {
      expect(Object.keys(token).sort()).toEqual(expect.arrayContaining(["createdAt", "createdBy", "id", "name", "role"]));
      expect(token).not.toHaveProperty("token");
      expect(token).not.toHaveProperty("tokenHash");
    }
  });

  it("are not stored: the database holds only a SHA-256 of each", async () => {
    const created = await createToken("hash-only", "reader");
    const rows = await t.runtime.storage.db.apiToken.findMany();
    expect(JSON.stringify(rows)).not.toContain(created.token);
    const row = rows.find((r) => r.id === created.id);
    expect(row?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("each token works with its own role", async () => {
    const created = await createToken("works", "reader");
    expect((await request(t.app).get("/v1/certificates").set(bearer(created.token))).status).toBe(200);
  });
});

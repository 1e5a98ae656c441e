import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHttpApp } from "../../src/app.js";
import { OPERATION_PERMISSIONS } from "../../src/core/access/index.js";
import {
  documentedOperations,
  expectProblem,
  loadContract,
  sampleRequest,
  sampleUrl,
  type DocumentedOperation,
  type OpenApiDocument,
  type Problem,
} from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

// The HTTP contract: openapi/openapi.yaml is what the server serves, what the access policy
// covers, what the router answers, and how every error and response header looks.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestRuntime;
let contract: OpenApiDocument;
let operations: DocumentedOperation[];

beforeAll(async () => {
  t = await startTestRuntime();
  contract = loadContract();
  operations = documentedOperations(contract);
});
afterAll(async () => {
  await t?.close();
});

/** The `code` values the contract's Problem schema allows. */
function problemCodes(): string[] {
  const document = contract as unknown as { components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } } };
  return document.components.schemas.Problem.properties.code.enum;
}

/** The body of a problem response (supertest leaves application/problem+json as text). */
function problemOf(res: request.Response): Problem {
  return JSON.parse(res.text) as Problem;
}

describe("the served document", () => {
  it("GET /openapi.json is openapi/openapi.yaml, parsed", async () => {
    const res = await request(t.app).get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body).toEqual(contract);
    // Guard against both sides being empty or truncated the same way.
    expect(operations.length).toBeGreaterThanOrEqual(19);
  });
});

describe("the access policy covers the contract", () => {
  it("every documented operation has an entry in OPERATION_PERMISSIONS, and every entry is documented", () => {
    const documented = operations.map((op) => op.operationId).sort();
    expect(new Set(documented).size).toBe(documented.length); // operationIds are unique
    expect(documented).toEqual(Object.keys(OPERATION_PERMISSIONS).sort());
  });

  it("an operation is public in the policy exactly when the document gives it `security: []`", () => {
    const mismatched = operations
      .filter((op) => (OPERATION_PERMISSIONS[op.operationId as keyof typeof OPERATION_PERMISSIONS] === "public") !== op.public)
      .map((op) => op.operationId);
    expect(mismatched).toEqual([]);
  });

  it("every operation that needs a token documents 401 and 403", () => {
    const missing = operations.filter((op) => !op.public && !(op.statuses.includes("401") && op.statuses.includes("403"))).map((op) => op.operationId);
    expect(missing).toEqual([]);
  });
});

describe("routing", () => {
  it("answers every documented (method, path) from its handler, with a documented status", async () => {
    for (const op of operations) {
      const res = await sampleRequest(t.app, op).set(ADMIN);
      const label = `${op.method.toUpperCase()} ${sampleUrl(op)} (${op.operationId}) → ${res.status} ${res.text.slice(0, 200)}`;
      expect(op.statuses, label).toContain(String(res.status));
      if (res.status >= 400) {
        // A problem from the handler; the validator's problems (no route, wrong method, schema
        // errors) carry an `errors` list, Express's own 404 is not problem+json at all.
        expect(res.headers["content-type"], label).toMatch(/^application\/problem\+json/);
        expect(problemOf(res).errors, label).toBeUndefined();
      }
    }
  });

  it("answers an undocumented path with a 404 problem", async () => {
    const res = await request(t.app).get("/v1/nope").set(ADMIN);
    expectProblem(res, { status: 404, code: "not_found", detail: "/v1/nope" });
  });

  it("answers an undocumented method on a documented path with a 405 problem", async () => {
    const res = await request(t.app).patch("/v1/authorities").set(ADMIN).send({});
    expectProblem(res, { status: 405, code: "method_not_allowed", detail: "PATCH" });
  });

  // Regression test: error-response.ts frameworkProblem ignores the `headers` the validator attaches to its MethodNotAllowed error, so the 405 has no Allow header (RFC 9110 §15.5.6: MUST).
  it("says in Allow which methods a path has (RFC 9110 §15.5.6)", async () => {
    const res = await request(t.app).patch("/v1/authorities").set(ADMIN).send({});
    expect(res.status).toBe(405);
    const allow = String(res.headers["allow"] ?? "").split(/,\s*/).map((method) => method.toUpperCase()).sort();
    expect(allow).toEqual(["GET", "POST"]);
  });

  // Regression test: frameworkProblem derives `field` from the validator's error path; for route-level errors that path is the URL ("/v1/nope"), which becomes field ".v1.nope". `field` names an input.
  it("gives no `field` for route-level problems (unknown path, method, media type)", async () => {
    const unknownPath = await request(t.app).get("/v1/nope");
    const wrongMethod = await request(t.app).patch("/v1/authorities").send({});
    const wrongType = await request(t.app).post("/v1/tokens").set(ADMIN).set("Content-Type", "text/plain").send("x");
    expect([unknownPath.status, wrongMethod.status, wrongType.status]).toEqual([404, 405, 415]);
    expect([problemOf(unknownPath).field, problemOf(wrongMethod).field, problemOf(wrongType).field]).toEqual([undefined, undefined, undefined]);
  });

  // Regression test: HEAD is refused with 405 on every GET resource (the validator knows only documented methods). RFC 9110 §9.1: general-purpose servers MUST support HEAD; health probes use it.
  it("answers HEAD on a GET resource like GET, without a body", async () => {
    const res = await request(t.app).head("/healthz");
    expect(res.status).toBe(200);
  });
});

describe("documented statuses", () => {
  // Regression test: authenticate.ts answers 401 to a present-but-wrong Authorization header on every operation, public ones included (by design: "a misconfigured client learns at once"), but no public operation in openapi.yaml documents a 401 response.
  it("public operations document the 401 they answer to a wrong token", async () => {
    const publicOperations = operations.filter((op) => op.public);
    expect(publicOperations.length).toBeGreaterThan(0);
    const undocumented: string[] = [];
    for (const op of publicOperations) {
      const res = await sampleRequest(t.app, op).set("Authorization", "Bearer kpki_not-a-real-token");
      expect(res.status, op.operationId).toBe(401);
      if (!op.statuses.includes("401")) undocumented.push(op.operationId);
    }
    expect(undocumented).toEqual([]);
  });
});

describe("problem responses (RFC 9457)", () => {
  /** One request per kind of refusal, from each layer that can refuse. */
  const refusals: { name: string; send: () => request.Test; status: number; code: string }[] = [
    { name: "schema validation (400)", send: () => request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "x" }), status: 400, code: "invalid_input" },
    { name: "unparsable JSON (400)", send: () => request(t.app).post("/v1/tokens").set(ADMIN).set("Content-Type", "application/json").send("{"), status: 400, code: "invalid_input" },
    { name: "domain validation (400)", send: () => request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "kpki-internal", profile: "server", csr: "no pem here" }), status: 400, code: "invalid_input" },
    { name: "no token (401)", send: () => request(t.app).get("/v1/tokens"), status: 401, code: "unauthenticated" },
    { name: "unknown token (401)", send: () => request(t.app).get("/v1/tokens").set("Authorization", "Bearer kpki_unknown"), status: 401, code: "unauthenticated" },
    { name: "unknown route (404)", send: () => request(t.app).get("/v1/nope"), status: 404, code: "not_found" },
    { name: "unknown CA (404)", send: () => request(t.app).get("/v1/authorities/no-such-ca"), status: 404, code: "not_found" },
    { name: "wrong method (405)", send: () => request(t.app).delete("/v1/authorities"), status: 405, code: "method_not_allowed" },
    { name: "name taken (409)", send: () => request(t.app).post("/v1/authorities").set(ADMIN).send({ name: "kpki-root", type: "root", subject: { commonName: "x" } }), status: 409, code: "already_exists" },
    { name: "body too large (413)", send: () => request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "x".repeat(300 * 1024), role: "reader" }), status: 413, code: "limit_exceeded" },
    { name: "wrong media type (415)", send: () => request(t.app).post("/v1/tokens").set(ADMIN).set("Content-Type", "text/plain").send("x"), status: 415, code: "unsupported_media_type" },
    { name: "policy (422)", send: () => request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "kpki-internal", profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName: "no-san" } }), status: 422, code: "policy_violation" },
  ];

  it.each(refusals)("$name is application/problem+json with type, title, status, detail, code and requestId", async ({ send, status, code }) => {
    const problem = expectProblem(await send(), { status, code });
    expect(problemCodes()).toContain(problem.code);
    expect(problem.requestId).toMatch(UUID);
    expect(problem.title).toBe(
      { 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content" }[status],
    );
  });

  it("401 problems carry a Bearer challenge", async () => {
    const res = await request(t.app).get("/v1/tokens");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer( |$)/);
  });
});

describe("readiness when the database is gone", () => {
  // A runtime of its own: this test breaks its database for real (closed and dropped), so that
  // the readiness probe's query fails the way it does in an outage.
  let broken: TestRuntime | undefined;
  let brokenApp: ReturnType<typeof buildHttpApp> | undefined;
  beforeAll(async () => {
    broken = await startTestRuntime();
    brokenApp = buildHttpApp(broken.runtime, { validateResponses: true });
    await broken.runtime.storage.close();
    await broken.database.drop();
  });
  afterAll(async () => {
    await broken?.close();
  });

  it("GET /readyz is a 503 problem naming the database", async () => {
    if (brokenApp === undefined) throw new Error("setup failed");
    const res = await request(brokenApp).get("/readyz");
    expect(res.status).toBe(503);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const problem = problemOf(res);
    expect(problem).toMatchObject({ type: "urn:kpki:problem:unavailable", status: 503, code: "unavailable" });
    expect(problem.detail).toContain("database");
  });

  // Regression test: routes/service.ts writes the 503 problem by hand instead of through sendProblem, so it has no requestId (every other problem has one).
  it("the 503 problem carries the requestId like every other problem", async () => {
    if (brokenApp === undefined) throw new Error("setup failed");
    const res = await request(brokenApp).get("/readyz");
    expectProblem(res, { status: 503, code: "unavailable", detail: "database" });
  });
});

describe("request ids and security headers", () => {
  it("echoes a sane client X-Request-Id in the header and in problems", async () => {
    const ok = await request(t.app).get("/healthz").set("X-Request-Id", "client-req.42:abc_DEF");
    expect(ok.status).toBe(200);
    expect(ok.headers["x-request-id"]).toBe("client-req.42:abc_DEF");
    const refused = await request(t.app).get("/v1/tokens").set("X-Request-Id", "client-req-43");
    expect(refused.headers["x-request-id"]).toBe("client-req-43");
    expect(problemOf(refused).requestId).toBe("client-req-43");
  });

  it.each([
    ["spaces and angle brackets", "<script>alert(1)</script> x"],
    ["non-ASCII", "req-\u00e9t\u00e9"],
    ["a JSON fragment", '","level":"fatal'],
    ["too long", "a".repeat(129)],
    ["empty", ""],
  ])("replaces a client X-Request-Id that is %s with a UUID", async (_name, offered) => {
    const res = await request(t.app).get("/healthz").set("X-Request-Id", offered);
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toMatch(UUID);
  });

  it("gives each request its own id when the client sends none", async () => {
    const a = await request(t.app).get("/healthz");
    const b = await request(t.app).get("/healthz");
    expect(a.headers["x-request-id"]).toMatch(UUID);
    expect(b.headers["x-request-id"]).toMatch(UUID);
    expect(a.headers["x-request-id"]).not.toBe(b.headers["x-request-id"]);
  });

  it.each([
    ["a success", () => request(t.app).get("/v1/authorities")],
    ["a PEM download", () => request(t.app).get("/v1/authorities/kpki-root/certificate")],
    ["a handler refusal", () => request(t.app).get("/v1/authorities/no-such-ca")],
    ["an unknown route", () => request(t.app).get("/v1/nope")],
    ["an authentication failure", () => request(t.app).get("/v1/tokens")],
  ])("sets the security headers on %s", async (_name, send) => {
    const res = await send();
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["etag"]).toBeUndefined();
  });
});

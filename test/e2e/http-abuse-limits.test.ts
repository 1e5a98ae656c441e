// Abuse limits of the REST API over real HTTPS (the server `kpki serve` builds: createHttpsServer
// around the Express app): rate limits per source address and per principal (429 + Retry-After),
// header size and count limits (431), and the admin address allow-list (KPKI_ADMIN_ALLOW).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/config.js";
import { listenHttps, type HttpsListener } from "../helpers/https-listener.js";
import { httpsRequest, jsonBody, runKpki, type HttpsResponse } from "../helpers/process.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

let t: TestRuntime;
let ca: string;
const listeners: HttpsListener[] = [];

/** The runtime behind a real HTTPS listener with `config` changed; closed after all tests. */
async function serve(config: Partial<Config>): Promise<{ v4: string; v6: string }> {
  const listener = await listenHttps(t, config);
  listeners.push(listener);
  return listener;
}

const get = (url: string, headers: Record<string, string> = {}) => httpsRequest(url, { ca, headers });

/** A problem+json answer with this status and code; returns its detail. */
function expectProblemAnswer(response: HttpsResponse, status: number, code: string): string {
  expect(response.status, response.text).toBe(status);
  expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const problem = jsonBody<{ status: number; code: string; detail: string }>(response);
  expect(problem).toMatchObject({ status, code });
  return problem.detail;
}

beforeAll(async () => {
  t = await startTestRuntime();
  ca = readFileSync(path.join(t.dataDir, "ca-bundle.pem"), "utf8");
});

afterAll(async () => {
  for (const listener of listeners) await listener.close();
  await t?.close();
});

describe("rate limits (token buckets per process)", () => {
  it("refuses a principal past its burst with 429 and Retry-After, and admits it again after waiting", async () => {
    // 0.5/s: a token every 2 s, slow enough that the requests of the test itself refill nothing.
    const { v4 } = await serve({ rateLimitPerPrincipal: 0.5, rateLimitPerPrincipalBurst: 3, rateLimitPerAddress: 100, rateLimitPerAddressBurst: 100 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get(`${v4}/v1/tokens`, ADMIN));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    const refused = answers[3]!;
    const retryAfter = Number(refused.headers["retry-after"]);
    expect([1, 2]).toContain(retryAfter);
    expect(expectProblemAnswer(refused, 429, "limit_exceeded")).toContain("too many requests from this principal");
    // Anonymous requests do not count against any principal.
    expect((await get(`${v4}/healthz`)).status).toBe(200);
    await sleep(retryAfter * 1000 + 100);
    expect((await get(`${v4}/v1/tokens`, ADMIN)).status).toBe(200);
    expect((await get(`${v4}/v1/tokens`, ADMIN)).status).toBe(429);
  });

  it("limits a source address before authentication: a flood of bad tokens gets 429, another address is unaffected", async () => {
    // 0.1/s: nothing refills while the test runs.
    const { v4, v6 } = await serve({ rateLimitPerAddress: 0.1, rateLimitPerAddressBurst: 5, rateLimitPerPrincipal: 0 });
    const bad = { Authorization: "Bearer kpki_not-a-token-0123456789abcdefghijklmn" };
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(`${v4}/v1/certificates`, bad)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const refused = await get(`${v4}/healthz`);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(5);
    expect(expectProblemAnswer(refused, 429, "limit_exceeded")).toContain("too many requests from this address");
    // ::1 is another source (its own /64): still admitted, with a good token too.
    expect((await get(`${v6}/v1/certificates`, ADMIN)).status).toBe(200);
  });

  it.each([
    ["the default limits", {}],
    ["both limits off (0)", { rateLimitPerAddress: 0, rateLimitPerPrincipal: 0 }],
  ])("%s admit a burst of ordinary use", async (_name, limits) => {
    const { v4 } = await serve(limits);
    const statuses = await Promise.all(Array.from({ length: 40 }, (_v, i) => get(`${v4}/${i % 2 === 0 ? "healthz" : "v1/certificates"}`, ADMIN).then((a) => a.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

describe("header limits", () => {
  it("answers an oversized request head with 431 before any handler runs", async () => {
    const { v4 } = await serve({});
    const count = async () => jsonBody<{ items: unknown[] }>(await get(`${v4}/v1/tokens`, ADMIN)).items.length;
    const before = await count();
    const response = await httpsRequest(`${v4}/v1/tokens`, { ca, method: "POST", headers: { ...ADMIN, "X-Padding": "a".repeat(20 * 1024) }, body: { name: "never", role: "reader" } });
    expect(expectProblemAnswer(response, 431, "limit_exceeded")).toContain("request head is larger than 16384 bytes");
    expect(await count()).toBe(before);
  });

  it("refuses more than 100 header fields with 431 and admits 100", async () => {
    const { v4 } = await serve({});
    const headers = (n: number) => Object.fromEntries(Array.from({ length: n }, (_v, i) => [`x-extra-${i}`, "1"]));
    // httpsRequest sends Accept, Host and Connection: 97 + 3 = 100 fields.
    expect((await get(`${v4}/healthz`, headers(97))).status).toBe(200);
    expect(expectProblemAnswer(await get(`${v4}/healthz`, headers(98)), 431, "limit_exceeded")).toContain("at most 100 header fields");
  });
});

describe("admin address allow-list (KPKI_ADMIN_ALLOW)", () => {
  it("refuses admin-only operations from outside the list, whatever the token, and leaves the rest alone", async () => {
    const { v4 } = await serve({ adminAllow: ["10.0.0.0/8"] });
    expect(expectProblemAnswer(await get(`${v4}/v1/tokens`, ADMIN), 403, "permission_denied")).toContain("KPKI_ADMIN_ALLOW");
    expect(expectProblemAnswer(await get(`${v4}/v1/audit`, ADMIN), 403, "permission_denied")).toContain("KPKI_ADMIN_ALLOW");
    // A KMIP batch that exports a key (Get) is as privileged as Get itself.
    const batch = await httpsRequest(`${v4}/v1/batch`, { ca, method: "POST", headers: ADMIN, body: { items: [{ operation: "Get", uid: "00000000-0000-7000-8000-000000000000" }] } });
    expectProblemAnswer(batch, 403, "permission_denied");
    // Operations other roles may do are not admin operations.
    expect((await get(`${v4}/v1/certificates`, ADMIN)).status).toBe(200);
    expect((await get(`${v4}/v1/authorities`)).status).toBe(200);
    const rng = await httpsRequest(`${v4}/v1/batch`, { ca, method: "POST", headers: ADMIN, body: { items: [{ operation: "RNGRetrieve", lengthBytes: 8 }] } });
    expect(rng.status, rng.text).toBe(200);
    // Without a token the caller learns only that it must authenticate.
    expect((await get(`${v4}/v1/tokens`)).status).toBe(401);
  });

  it("admits admin operations from a listed address (IPv4 loopback as seen on a dual-stack socket), not from another", async () => {
    const { v4, v6 } = await serve({ adminAllow: ["127.0.0.1/32"] });
    expect((await get(`${v4}/v1/tokens`, ADMIN)).status).toBe(200);
    expectProblemAnswer(await get(`${v6}/v1/tokens`, ADMIN), 403, "permission_denied");
  });

  it("a bad range stops `kpki serve` with one line naming the variable", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "kpki-allow-"));
    try {
      const result = await runKpki(["serve"], { env: { KPKI_DATA_DIR: dataDir, KPKI_ADMIN_ALLOW: "10.0.0.0/8,10.0.0.0/33" } });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trimEnd().split("\n")).toEqual(['kpki: invalid KPKI_ADMIN_ALLOW: "10.0.0.0/33": the prefix length must be 0–32']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

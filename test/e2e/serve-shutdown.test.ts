// Operating a real `kpki serve` (SQLite, or PostgreSQL under TEST_DATABASE_URL): SIGTERM while
// requests are in flight stops accepting, lets every accepted request finish, then closes the
// database and exits 0; each log line of a request carries its request id; /readyz turns 503 when
// the database goes away under a running process.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRaw } from "node:https";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { httpsRequest, jsonBody, startKpkiServer, stopAllKpki, type HttpsResponse, type ServingKpki } from "../helpers/process.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await stopAllKpki();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A served kpki on a database and data directory of its own, logging at info (JSON lines on stdout). */
async function serve(): Promise<{ server: ServingKpki; ca: string; database: TestDatabase }> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "kpki-shutdown-"));
  cleanups.push(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const server = await startKpkiServer({ env: { DATABASE_URL: database.url, KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_LOG_LEVEL: "info" } });
  return { server, ca: readFileSync(path.join(dataDir, "ca-bundle.pem"), "utf8"), database };
}

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** The JSON log lines written so far. */
function logLines(server: ServingKpki): Record<string, unknown>[] {
  return server
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Whether a TCP connection to the port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** An HTTPS POST sent in steps: connect now, half the body when asked, the rest at `finish`. */
function stagedRequest(url: string, ca: string, requestId: string, body: unknown): { connected: Promise<void>; handshaken(): boolean; sendHalf(): void; finish(): Promise<HttpsResponse> } {
  const payload = Buffer.from(JSON.stringify(body));
  const half = Math.floor(payload.length / 2);
  let sentHalf = false;
  const req = httpsRaw(url, { method: "POST", agent: false, ca, headers: { ...auth, "X-Request-Id": requestId, "Content-Type": "application/json", "Content-Length": String(payload.length) } });
  const response = new Promise<HttpsResponse>((resolve, reject) => {
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  // Connected = the TLS handshake completed: the server has accepted the connection.
  let handshaken = false;
  const connected = new Promise<void>((resolve) =>
    req.once("socket", (socket) =>
      socket.once("secureConnect", () => {
        handshaken = true;
        resolve();
      }),
    ),
  );
  return {
    connected,
    handshaken: () => handshaken,
    sendHalf: () => {
      sentHalf = true;
      req.write(payload.subarray(0, half));
    },
    finish: () => {
      req.end(sentHalf ? payload.subarray(half) : payload);
      return response;
    },
  };
}

describe("SIGTERM during in-flight requests", () => {
  it("stops accepting, completes every accepted request, closes the database, exits 0", async () => {
    const { server, ca } = await serve();
    const issue = (index: number) => ({ ca: "kpki-internal", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: `drain-${index}` } });
    // Requests half sent (headers and half the body) and one connection that has sent nothing yet.
    const halfSent = Array.from({ length: 4 }, (_, index) => stagedRequest(`${server.url}/v1/certificates`, ca, `drain-half-${index}`, issue(index)));
    const silent = stagedRequest(`${server.url}/v1/certificates`, ca, "drain-silent", issue(99));
    await Promise.all([...halfSent, silent].map((request) => request.connected));
    for (const request of halfSent) request.sendHalf();
    // And a burst of complete issuances, with SIGTERM once the first have answered.
    const count = 60;
    let sigtermAt = Number.POSITIVE_INFINITY;
    let answered = 0;
    let firstAnswers: () => void = () => undefined;
    const someAnswered = new Promise<void>((resolve) => (firstAnswers = resolve));
    const burst = Array.from({ length: count }, (_, index) => {
      const request = stagedRequest(`${server.url}/v1/certificates`, ca, `drain-burst-${index}`, issue(index));
      return request.finish().then(
        (response) => {
          if (++answered === 10) firstAnswers();
          return { response, at: Date.now() };
        },
        (error: NodeJS.ErrnoException) => ({ error: error.code ?? error.message, handshaken: request.handshaken() }),
      );
    });
    await someAnswered;
    sigtermAt = Date.now();
    server.child.kill("SIGTERM");
    await server.waitFor(/shutting down: finishing in-flight requests/, "stdout", 10_000);
    // The listener is closed: a new connection is refused while the accepted requests still run.
    expect(await accepts(server.port)).toBe(false);
    expect(server.hasExited()).toBe(false);
    const staged = await Promise.all([...halfSent, silent].map((request) => request.finish()));
    const outcomes = await Promise.all(burst);
    const exit = await server.exited;

    for (const response of staged) {
      expect(response.status, response.text).toBe(201);
      expect(response.headers.connection).toBe("close");
    }
    // A burst request the server accepted (TLS handshake done) is answered in full: 201 with its
    // certificate. Only connections it never accepted may fail: refused after the listener closed,
    // or reset by the kernel when the listener closed with them still in its accept queue.
    const answers = outcomes.flatMap((outcome) => ("response" in outcome ? [outcome] : []));
    const failures = outcomes.flatMap((outcome) => ("error" in outcome ? [outcome] : []));
    expect(failures.filter((failure) => failure.handshaken || !["ECONNREFUSED", "ECONNRESET"].includes(failure.error))).toEqual([]);
    for (const { response } of answers) {
      expect(response.status, response.text).toBe(201);
      expect(jsonBody<{ certificatePem: string }>(response).certificatePem).toContain("BEGIN CERTIFICATE");
    }
    expect(answers.some(({ at }) => at > sigtermAt), "no burst request was still running at SIGTERM").toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
    // The log tells the story in order: shutdown begins, the drained requests finish, shutdown completes.
    const lines = logLines(server);
    const begin = lines.findIndex((line) => line.msg === "shutting down: finishing in-flight requests");
    const complete = lines.findIndex((line) => line.msg === "shutdown complete");
    const drained = lines.flatMap((line, index) => (line.msg === "request" && String(line.requestId).startsWith("drain-") ? [index] : []));
    expect(drained).toHaveLength(answers.length + staged.length);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(lines.findIndex((line) => line.requestId === "drain-silent")).toBeGreaterThan(begin);
    expect(complete).toBeGreaterThan(Math.max(...drained));
  }, 180_000);
});

describe("request ids in the log", () => {
  it("the log line of each request carries its id: a client-chosen one (answered and refused) and one the server made", async () => {
    const { server, ca } = await serve();
    const ok = await httpsRequest(`${server.url}/v1/authorities`, { ca, headers: { ...auth, "X-Request-Id": "trace-ok-1" } });
    expect(ok.status).toBe(200);
    const refused = await httpsRequest(`${server.url}/v1/certificates`, { method: "POST", ca, headers: { ...auth, "X-Request-Id": "trace-refused-2" }, body: { ca: "no-such-ca", profile: "client", keyAlgorithm: "ECDSA-P256" } });
    expect(refused.status).toBe(404);
    expect(jsonBody<{ requestId: string }>(refused).requestId).toBe("trace-refused-2");
    // Without a client id the server makes one, returns it, and logs under it.
    const anonymous = await httpsRequest(`${server.url}/healthz`, { ca });
    const madeId = String(anonymous.headers["x-request-id"]);
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);
    await server.stop();
    const lines = logLines(server);
    expect(lines.find((line) => line.requestId === "trace-ok-1")).toMatchObject({ msg: "request", method: "GET", path: "/v1/authorities", status: 200, principal: expect.stringMatching(/^token:/) });
    expect(lines.find((line) => line.requestId === "trace-refused-2")).toMatchObject({ msg: "request", method: "POST", status: 404 });
    expect(lines.find((line) => line.requestId === madeId)).toMatchObject({ msg: "request", path: "/healthz", status: 200 });
  }, 120_000);
});

describe.runIf(postgresqlTestUrl() !== undefined)("/readyz of a running process when its PostgreSQL database is dropped", () => {
  // SQLite keeps its open file whatever happens to the path (and root ignores permissions), so an
  // outage cannot be made reliably under a running process; readiness.test.ts covers SQLite in process.
  it("is 200 before, 503 naming the database after, and the process keeps answering", async () => {
    const { server, ca, database } = await serve();
    const before = await httpsRequest(`${server.url}/readyz`, { ca });
    expect(before.status).toBe(200);
    expect(jsonBody(before)).toEqual({ status: "ok", checks: { database: "ok", masterKey: "ok" } });
    await database.drop();
    const after = await httpsRequest(`${server.url}/readyz`, { ca });
    expect(after.status).toBe(503);
    expect(after.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(jsonBody<{ code: string; detail: string }>(after)).toMatchObject({ code: "unavailable", detail: expect.stringContaining("database: unreachable") });
    expect((await httpsRequest(`${server.url}/healthz`, { ca })).status).toBe(200);
  }, 120_000);
});

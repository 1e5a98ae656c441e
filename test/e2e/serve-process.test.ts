// The real executable: `node bin/kpki.js serve` on an empty directory, as after a fresh clone
// (`npm start` runs exactly this), over real HTTPS. SQLite uses the default ./data/kpki.db; under
// TEST_DATABASE_URL the process gets DATABASE_URL of a PostgreSQL database made for this file.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const run = promisify(execFile);

/** The announcement on stderr: the token is on its own indented line after the heading. */
const TOKEN_ANNOUNCEMENT = /Bootstrap admin token[^\n]*\n\s*\n\s+(kpki_[A-Za-z0-9_-]{20,})\s*\n/;

let database: TestDatabase | undefined;
let workDir: string;
let dataDir: string;
let databaseEnv: Record<string, string>;
let server: ServingKpki;
let adminToken: string;
let bundle: string;

interface AuthorityJson {
  name: string;
  subject: string;
  status: string;
  notAfter?: string;
}
interface CertificateJson {
  id: string;
  serialNumber: string;
  certificatePem: string;
  privateKeyPem?: string;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-clone-"));
  dataDir = path.join(workDir, "data");
  database = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
  databaseEnv = database === undefined ? {} : { DATABASE_URL: database.url };
  // No KPKI_DATA_DIR and no KPKI_BOOTSTRAP_TOKEN: the defaults of a fresh clone (./data, random token).
  server = await startKpkiServer({ cwd: workDir, env: databaseEnv });
  bundle = readFileSync(path.join(dataDir, "ca-bundle.pem"), "utf8");
});

afterAll(async () => {
  await stopAllKpki();
  await database?.drop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("first start on an empty data directory", () => {
  it("prints the bootstrap admin token once, on stderr, and the token works", async () => {
    const match = TOKEN_ANNOUNCEMENT.exec(server.stderr());
    expect(match, server.stderr()).not.toBeNull();
    adminToken = match?.[1] ?? "";
    expect(server.stderr().split(adminToken)).toHaveLength(2); // exactly one occurrence
    expect(server.stdout()).not.toContain(adminToken);

    const created = await httpsRequest(`${server.url}/v1/tokens`, { method: "POST", ca: bundle, headers: auth(adminToken), body: { name: "probe", role: "reader" } });
    expect(created.status).toBe(201);
    const wrong = await httpsRequest(`${server.url}/v1/tokens`, { ca: bundle, headers: auth(`${adminToken.slice(0, -1)}x`) });
    expect(wrong.status).toBe(401);
  });

  it("creates data/master.key with mode 0600 and data/ca-bundle.pem holding the root CA", async () => {
    const keyFile = path.join(dataDir, "master.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8")).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    const root = await httpsRequest(`${server.url}/v1/authorities/kpki-root/certificate`, { ca: bundle, headers: { Accept: "application/x-pem-file" } });
    expect(root.status).toBe(200);
    expect(bundle).toBe(root.text);
    expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(1);
    const rootCert = new X509Certificate(bundle);
    expect(rootCert.ca).toBe(true);
    expect(rootCert.subject).toContain("CN=kpki root CA");
    if (database === undefined) expect(readdirSync(dataDir)).toContain("kpki.db");
  });

  it("logs JSON lines on stdout only (stderr is for humans)", () => {
    const lines = server.stdout().split("\n").filter((line) => line !== "");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    const serving = lines.map((line) => JSON.parse(line) as { msg?: string; url?: string }).find((entry) => entry.msg === "kpki is serving");
    expect(serving?.url).toBe(server.url);
  });
});

describe("HTTPS", () => {
  it("answers GET /healthz when the client trusts only data/ca-bundle.pem (node https and curl)", async () => {
    const health = await httpsRequest(`${server.url}/healthz`, { ca: bundle });
    expect(health.status).toBe(200);
    expect(jsonBody(health)).toEqual({ status: "ok" });

    // The README's command, literally, with localhost pinned to the address the test server bound.
    const { stdout } = await run("curl", ["-sS", "--fail", "--resolve", `localhost:${server.port}:127.0.0.1`, "--cacert", "data/ca-bundle.pem", `https://localhost:${server.port}/healthz`], { cwd: workDir });
    expect(JSON.parse(stdout)).toEqual({ status: "ok" });
  });

  it("fails verification without the CA bundle (the chain ends in kpki's own root)", async () => {
    const error = await httpsRequest(`${server.url}/healthz`).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/);
    const curl = await run("curl", ["-sS", "--resolve", `localhost:${server.port}:127.0.0.1`, `https://localhost:${server.port}/healthz`], { cwd: workDir }).then(
      () => 0,
      (e: unknown) => (e as { code?: number }).code,
    );
    expect(curl).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
  });

  it("serves a certificate for localhost, 127.0.0.1 and ::1 that chains to the bundle", async () => {
    const { raw, authorized, authorizationError } = await new Promise<{ raw: Buffer; authorized: boolean; authorizationError: Error | null }>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, servername: "localhost", ca: bundle }, () => {
        resolve({ raw: socket.getPeerCertificate().raw, authorized: socket.authorized, authorizationError: socket.authorizationError });
        socket.end();
      });
      socket.on("error", reject);
    });
    expect(authorizationError ?? null).toBeNull();
    expect(authorized).toBe(true);
    const leaf = new X509Certificate(raw);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkHost("localhost")).toBe("localhost");
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.checkIP("::1")).toBe("::1");
    expect(leaf.checkHost("example.com")).toBeUndefined(); // the check can fail
  });

  it("refuses TLS 1.1 (a client that can speak it, as a control server shows)", async () => {
    const client = { minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0", rejectUnauthorized: false } as const;
    const handshake = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port, ...client }, () => {
          resolve(socket.getProtocol() ?? "?");
          socket.end();
        });
        socket.on("error", reject);
      });

    // Control: the same client completes a TLS 1.1 handshake with a server that allows it.
    const keyDir = mkdtempSync(path.join(os.tmpdir(), "kpki-tls11-"));
    try {
      await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=control", "-days", "1", "-keyout", path.join(keyDir, "k.pem"), "-out", path.join(keyDir, "c.pem")]);
      const control = tls.createServer(
        { key: readFileSync(path.join(keyDir, "k.pem")), cert: readFileSync(path.join(keyDir, "c.pem")), minVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" },
        (socket) => socket.end(),
      );
      await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
      const address = control.address();
      try {
        expect(await handshake(typeof address === "object" && address !== null ? address.port : 0)).toBe("TLSv1.1");
      } finally {
        control.close();
      }
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }

    const refused = await handshake(server.port).then(
      (protocol): NodeJS.ErrnoException => new Error(`kpki accepted ${protocol}`),
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(refused.message).not.toMatch(/kpki accepted/);
    // The server answers the ClientHello with a protocol_version alert (70).
    expect(refused.code).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
  });
});

describe("restart", { timeout: 180_000 }, () => {
  it("keeps CAs, certificates and tokens, prints no token again and serves the same CA bundle", async () => {
    // State made before the restart.
    const ca = await httpsRequest(`${server.url}/v1/authorities`, {
      method: "POST",
      ca: bundle,
      headers: auth(adminToken),
      body: { name: "restart-ca", type: "intermediate", parent: "kpki-root", subject: { commonName: "Restart CA" } },
    });
    expect(ca.status).toBe(201);
    const issued = await httpsRequest(`${server.url}/v1/certificates`, {
      method: "POST",
      ca: bundle,
      headers: auth(adminToken),
      body: { ca: "restart-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "alice" } },
    });
    expect(issued.status).toBe(201);
    const certificate = jsonBody<CertificateJson>(issued);
    const reader = jsonBody<{ token: string }>(
      await httpsRequest(`${server.url}/v1/tokens`, { method: "POST", ca: bundle, headers: auth(adminToken), body: { name: "restart-reader", role: "reader" } }),
    ).token;
    expect(reader).toMatch(/^kpki_/);
    const authoritiesBefore = jsonBody<{ items: AuthorityJson[] }>(await httpsRequest(`${server.url}/v1/authorities`, { ca: bundle })).items;
    const keyFileBefore = readFileSync(path.join(dataDir, "master.key"), "utf8");

    const status = await server.stop();
    expect(status).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain("shutting down");

    const again = await startKpkiServer({ cwd: workDir, env: databaseEnv });
    try {
      expect(again.stderr()).not.toMatch(/Bootstrap admin token/);
      expect(again.stderr()).not.toMatch(/kpki_[A-Za-z0-9_-]{20,}/);
      expect(again.stdout()).not.toContain("first start");
      expect(readFileSync(path.join(dataDir, "ca-bundle.pem"), "utf8")).toBe(bundle);
      expect(readFileSync(path.join(dataDir, "master.key"), "utf8")).toBe(keyFileBefore);

      // The restarted server is trusted through the same bundle (same root, same internal CA).
      expect((await httpsRequest(`${again.url}/healthz`, { ca: bundle })).status).toBe(200);
      const authoritiesAfter = jsonBody<{ items: AuthorityJson[] }>(await httpsRequest(`${again.url}/v1/authorities`, { ca: bundle })).items;
      expect(authoritiesAfter).toEqual(authoritiesBefore);
      expect(authoritiesAfter.map((a) => a.name)).toEqual(expect.arrayContaining(["kpki-root", "kpki-internal", "restart-ca"]));

      const fetched = await httpsRequest(`${again.url}/v1/certificates/${certificate.id}`, { ca: bundle, headers: auth(reader) });
      expect(fetched.status).toBe(200);
      expect(jsonBody<CertificateJson>(fetched).serialNumber).toBe(certificate.serialNumber);
      expect(jsonBody<CertificateJson>(fetched).certificatePem).toBe(certificate.certificatePem);

      // Both tokens survive, with their roles: the reader may read but not issue.
      const denied = await httpsRequest(`${again.url}/v1/certificates`, {
        method: "POST",
        ca: bundle,
        headers: auth(reader),
        body: { ca: "restart-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "bob" } },
      });
      expect(denied.status).toBe(403);
      const reissued = await httpsRequest(`${again.url}/v1/certificates`, {
        method: "POST",
        ca: bundle,
        headers: auth(adminToken),
        body: { ca: "restart-ca", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "bob" } },
      });
      expect(reissued.status).toBe(201);
      // The old CA key still opens after the restart: the new certificate verifies against it.
      const caPem = (await httpsRequest(`${again.url}/v1/authorities/restart-ca/certificate`, { ca: bundle, headers: { Accept: "application/x-pem-file" } })).text;
      expect(new X509Certificate(jsonBody<CertificateJson>(reissued).certificatePem).verify(new X509Certificate(caPem).publicKey)).toBe(true);

      // Secrets used in requests across both runs never reach the JSON logs.
      for (const secret of [adminToken, reader]) {
        expect(server.stdout()).not.toContain(secret);
        expect(again.stdout()).not.toContain(secret);
      }
      expect(again.stdout()).toMatch(/"msg":"request"/); // the requests were logged, so the search means something
      expect(again.stdout()).not.toMatch(/PRIVATE KEY/);
      expect(server.stdout()).not.toMatch(/PRIVATE KEY/);
    } finally {
      expect(await again.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

describe("configuration errors", () => {
  it.each([
    ["KPKI_LISTEN", "nonsense"],
    ["KPKI_LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://x"],
  ])("%s=%s exits non-zero with one line naming the variable and creates nothing", async (name, value) => {
    const emptyDir = mkdtempSync(path.join(os.tmpdir(), "kpki-config-"));
    try {
      const result = await runKpki(["serve"], { cwd: emptyDir, env: { [name]: value } });
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^kpki: /);
      expect(lines[0]).toContain(name);
      expect(lines[0]).not.toMatch(/unexpected error|\bat .*\.js:\d+/);
      expect(result.stdout).toBe("");
      expect(readdirSync(emptyDir)).toEqual([]);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it("never echoes a secret it refuses (a too-short KPKI_BOOTSTRAP_TOKEN)", async () => {
    const emptyDir = mkdtempSync(path.join(os.tmpdir(), "kpki-config-"));
    try {
      writeFileSync(path.join(emptyDir, ".keep"), "");
      const result = await runKpki(["serve"], { cwd: emptyDir, env: { KPKI_BOOTSTRAP_TOKEN: "short-secret-value" } });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("KPKI_BOOTSTRAP_TOKEN");
      expect(result.stderr + result.stdout).not.toContain("short-secret-value");
      expect(readdirSync(emptyDir)).toEqual([".keep"]);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});

describe("listen address in use on the first start", { timeout: 180_000 }, () => {
  let blocker: Server;
  let busyPort: number;
  let dir: string;
  /** This installation's own PostgreSQL database (under TEST_DATABASE_URL), never the one above. */
  let busyDatabase: TestDatabase | undefined;
  let firstStderr = "";
  const env = () => (busyDatabase === undefined ? {} : { DATABASE_URL: busyDatabase.url });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kpki-busy-"));
    busyDatabase = postgresqlTestUrl() === undefined ? undefined : await createTestDatabase({ provider: "postgresql" });
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    busyPort = typeof address === "object" && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await busyDatabase?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("exits non-zero, its last line naming the address", async () => {
    const result = await runKpki(["serve"], { cwd: dir, env: { ...env(), KPKI_LISTEN: `127.0.0.1:${busyPort}` } });
    firstStderr = result.stderr;
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n").at(-1)).toBe(`kpki: cannot listen on 127.0.0.1:${busyPort}: address already in use`);
  });

  // Regression test: src/app.ts startService() runs prepareService() — which bootstraps the CAs and stores the random bootstrap admin token — before server.listen(). When listening fails, serve() in createLocalOperations never announces the token, and every later start sees the bootstrap as done: the only admin token of the installation is lost (unless KPKI_BOOTSTRAP_TOKEN was set).
  it("does not lose the bootstrap admin token: a later start still shows one", async () => {
    const later = await startKpkiServer({ cwd: dir, env: env() });
    try {
      expect(TOKEN_ANNOUNCEMENT.test(firstStderr) || TOKEN_ANNOUNCEMENT.test(later.stderr())).toBe(true);
    } finally {
      await later.stop();
    }
  });
});

// Several stateless replicas on one PostgreSQL database, proved correct rather than possible: three
// `kpki serve` processes started together on a fresh database (racing migrations and first-start
// bootstrap), a load of 5,000 issuances spread across them, one replica killed with SIGKILL in the
// middle and started again, revocations and CRL fetches through every replica meanwhile. Then:
// every acknowledged issuance is in the inventory with the serial it was acknowledged with, no
// serial repeats within the CA, CRL numbers never went backwards, one Idempotency-Key sent to all
// three at once made one certificate, the audit chain verifies, and each scheduled job ran once in
// its period across the replicas. PostgreSQL only: SQLite is the single-node store.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../bench/https-client.js";
import { makeCsr, openssl } from "../helpers/openssl.js";
import { httpsRequest, jsonBody, runKpki, startKpkiServer, stopAllKpki, type ServingKpki } from "../helpers/process.js";
import { TEST_ADMIN_TOKEN } from "../helpers/runtime.js";
import { createTestDatabase, postgresqlTestUrl, type TestDatabase } from "../helpers/test-database.js";

const ISSUANCES = 5000;
/** Requests in flight across the three replicas. */
const CONCURRENCY = 24;
const CA = "replica-ca";
/** Every this many acknowledged issuances, one of them is revoked (through whichever replica is next). */
const REVOKE_EVERY = 250;

/** The CRL Number of a PEM CRL, read by openssl. */
function crlNumberOf(pem: string): number {
  const hex = /crlNumber=0x([0-9A-Fa-f]+)/.exec(openssl(["crl", "-noout", "-crlnumber"], pem))?.[1];
  return hex === undefined ? NaN : parseInt(hex, 16);
}

const withoutLeadingZeros = (hex: string) => hex.replace(/^0+(?=.)/, "");

interface Issued {
  readonly id: string;
  readonly serialNumber: string;
}

describe.skipIf(postgresqlTestUrl() === undefined)("three kpki serve replicas on one PostgreSQL database", () => {
  let workDir: string;
  let database: TestDatabase;
  let env: Record<string, string>;
  const replicas: ServingKpki[] = [];
  /** Every process started, the killed one included (its log counts). */
  const everyProcess: ServingKpki[] = [];
  let caBundle: string;

  const start = (index: number) => startKpkiServer({ env: { ...env, KPKI_DATA_DIR: path.join(workDir, `replica-${index}`) }, timeoutMs: 120_000 });
  const call = (replica: ServingKpki, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) =>
    httpsRequest(`${replica.url}${urlPath}`, { method, ca: caBundle, headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers }, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), "kpki-replicas-"));
    database = await createTestDatabase({ provider: "postgresql" });
    env = {
      DATABASE_URL: database.url,
      // One master key for all replicas (they share the sealed keys); the token is preset so every
      // replica knows it, whichever of them bootstraps.
      KPKI_MASTER_KEY: randomBytes(32).toString("base64"),
      KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN,
      KPKI_LOG_LEVEL: "info",
      // One client sends the whole load: no rate limit may turn acknowledged work into 429s.
      KPKI_RATE_LIMIT_PER_ADDRESS: "0",
      KPKI_RATE_LIMIT_PER_PRINCIPAL: "0",
    };
    // Started together: three migrators and three first-start bootstraps race on an empty database.
    replicas.push(...(await Promise.all([0, 1, 2].map(start))));
    everyProcess.push(...replicas);
    caBundle = readFileSync(path.join(workDir, "replica-0", "ca-bundle.pem"), "utf8");
  }, 240_000);

  afterAll(async () => {
    await stopAllKpki();
    await database?.drop();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it("all three serve the one hierarchy that exactly one of them bootstrapped", async () => {
    const roots = await Promise.all(replicas.map(async (replica) => jsonBody<{ items: { name: string; fingerprintSha256?: string }[] }>(await call(replica, "GET", "/v1/authorities"))));
    const names = roots.map((listing) => listing.items.map((ca) => ca.name).sort());
    expect(names[1]).toEqual(names[0]);
    expect(names[2]).toEqual(names[0]);
    for (const replica of replicas) expect(readFileSync(path.join(workDir, `replica-${replicas.indexOf(replica)}`, "ca-bundle.pem"), "utf8")).toBe(caBundle);
    const created = await call(replicas[0] as ServingKpki, "POST", "/v1/authorities", { name: CA, type: "intermediate", parent: "kpki-root", subject: { commonName: CA }, keyAlgorithm: "ECDSA-P256" });
    expect(created.status, created.text).toBe(201);
  });

  it("one Idempotency-Key sent to all three at once makes one certificate", async () => {
    const csr = makeCsr({ algorithm: "ECDSA-P256", subject: "/CN=idempotent" }).csrPem;
    const key = `replicas-${randomBytes(8).toString("hex")}`;
    const answers = await Promise.all(replicas.map((replica) => call(replica, "POST", "/v1/certificates", { ca: CA, profile: "client", csr }, { "Idempotency-Key": key })));
    for (const answer of answers) expect([200, 201], answer.text).toContain(answer.status);
    expect(new Set(answers.map((answer) => jsonBody<Issued>(answer).id)).size).toBe(1);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
  });

  it(`${ISSUANCES} issuances across them, one replica killed (SIGKILL) and restarted mid-load: every acknowledged one is stored, no serial repeats, CRL numbers never go back`, async () => {
    const csrs = Array.from({ length: 8 }, (_, i) => makeCsr({ algorithm: "ECDSA-P256", subject: `/CN=load-${i}` }).csrPem);
    const acknowledged: Issued[] = [];
    const revoked: string[] = [];
    const crlNumbers: number[] = [];
    const clients = replicas.map((replica) => createClient(replica.url, caBundle, TEST_ADMIN_TOKEN, CONCURRENCY));
    /** Replicas the load avoids: the one being killed and restarted. */
    const down = new Set<number>();
    let failures = 0;
    let next = 0;
    let killed = false;

    const killAndRestart = async (index: number) => {
      down.add(index);
      const victim = replicas[index] as ServingKpki;
      victim.child.kill("SIGKILL");
      await victim.exited;
      clients[index]?.close();
      const restarted = await start(index);
      everyProcess.push(restarted);
      replicas[index] = restarted;
      clients[index] = createClient(restarted.url, caBundle, TEST_ADMIN_TOKEN, CONCURRENCY);
      down.delete(index);
    };

    const worker = async () => {
      while (acknowledged.length < ISSUANCES) {
        let index = next++ % replicas.length;
        while (down.has(index)) index = (index + 1) % replicas.length;
        const n = next;
        try {
          const answer = await clients[index]?.call("POST", "/v1/certificates", { ca: CA, profile: "client", csr: csrs[n % csrs.length] });
          if (answer?.status !== 201) {
            failures++;
            continue;
          }
          const issued = answer.body as Issued;
          acknowledged.push({ id: issued.id, serialNumber: issued.serialNumber });
          if (acknowledged.length % REVOKE_EVERY === 0) {
            const revoke = await call(replicas[(index + 1) % replicas.length] as ServingKpki, "POST", `/v1/certificates/${issued.id}/revoke`, { reason: "superseded" }).catch(() => undefined);
            if (revoke?.status === 200) revoked.push(issued.serialNumber);
          }
          if (!killed && acknowledged.length >= ISSUANCES / 3) {
            killed = true;
            await killAndRestart(1);
          }
        } catch {
          // A request the killed replica had in flight: not acknowledged.
          failures++;
        }
      }
    };

    // The CRL watcher: one fetch after another, each through the next replica; a later fetch must
    // never carry a lower CRL number than an earlier one.
    let loadDone = false;
    const watchCrls = async () => {
      for (let i = 0; !loadDone; i++) {
        const index = i % replicas.length;
        if (!down.has(index)) {
          const answer = await call(replicas[index] as ServingKpki, "GET", `/v1/authorities/${CA}/crl`, undefined, { Accept: "application/x-pem-file" }).catch(() => undefined);
          if (answer?.status === 200) crlNumbers.push(crlNumberOf(answer.text));
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const watcher = watchCrls();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    loadDone = true;
    await watcher;
    for (const client of clients) client.close();

    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(ISSUANCES);
    // Only requests the killed replica had in flight may have failed.
    expect(failures).toBeLessThanOrEqual(CONCURRENCY);

    // Every acknowledged issuance is stored with its serial; no serial twice within the CA.
    const stored = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = jsonBody<{ items: Issued[]; nextCursor?: string }>(await call(replicas[0] as ServingKpki, "GET", `/v1/certificates?ca=${CA}&limit=500${cursor === undefined ? "" : `&cursor=${cursor}`}`));
      for (const item of page.items) {
        expect(stored.has(item.serialNumber), `serial ${item.serialNumber} twice`).toBe(false);
        stored.set(item.serialNumber, item.id);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    for (const issued of acknowledged) expect(stored.get(issued.serialNumber)).toBe(issued.id);

    // CRL numbers only grew, and the last CRL lists every revocation.
    expect(crlNumbers.length).toBeGreaterThan(3);
    expect(crlNumbers.every((number) => Number.isSafeInteger(number))).toBe(true);
    for (let i = 1; i < crlNumbers.length; i++) expect(crlNumbers[i]).toBeGreaterThanOrEqual(crlNumbers[i - 1] ?? Infinity);
    expect(revoked.length).toBeGreaterThan(0);
    const crl = openssl(["crl", "-noout", "-text"], (await call(replicas[2] as ServingKpki, "GET", `/v1/authorities/${CA}/crl`, undefined, { Accept: "application/x-pem-file" })).text);
    const listed = new Set([...crl.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((match) => withoutLeadingZeros(match[1] ?? "")));
    for (const serial of revoked) expect(listed.has(withoutLeadingZeros(serial.toUpperCase())), serial).toBe(true);
  }, 30 * 60_000);

  it("the audit chain verifies: appends from three processes never forked it", async () => {
    const result = await runKpki(["audit", "verify"], { env: { DATABASE_URL: database.url }, cwd: workDir, timeoutMs: 300_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/audit log intact: \d+ entries/);
  }, 300_000);

  it("each scheduled job ran once per period across the replicas", async () => {
    // What each process says it ran (the killed one's log up to its death included).
    const ran = new Map<string, number>();
    for (const replica of everyProcess) {
      for (const line of replica.stdout().split("\n")) {
        if (!line.includes('"scheduled job ran"')) continue;
        const entry = JSON.parse(line) as { job: string; slot: string };
        const key = `${entry.job} ${entry.slot}`;
        ran.set(key, (ran.get(key) ?? 0) + 1);
      }
    }
    expect(ran.size).toBeGreaterThanOrEqual(10);
    for (const [key, count] of ran) expect(count, key).toBe(1);
  });
});

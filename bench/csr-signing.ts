/**
 * CSR signing side by side: kpki's `POST /v1/certificates` (a real `kpki serve`: parsed, checked
 * against the profile, signed, stored and audited before the answer) and cfssl 1.2's
 * `POST /api/v1/cfssl/sign` (`cfssl serve`, Debian golang-cfssl), both over HTTPS on loopback with
 * keep-alive, on the same openssl-made CSRs, ECDSA P-256 and RSA-2048 (each signed by a CA of its
 * own key type), at concurrency 1, 8 and 32. cfssl runs twice: as configured by default (no
 * certificate database: it signs and forgets) and with its SQLite certificate database (certdb, it
 * stores every certificate as kpki does). The runs of the signers alternate (kpki, cfssl,
 * cfssl+certdb, kpki, …) so a change of load hits all of them, and each ratio is taken per round.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeCsrs } from "./csrs.js";
import { closedLoop, createClient, median, type LoadResult } from "./https-client.js";
import { freePort, processCpuSeconds, stopPeer, waitForPort } from "./peer-process.js";
import { BENCH_TOKEN, startBenchServer, type BenchServer } from "./server-process.js";
import type { Spread } from "./spread.js";

export type Signer = "kpki" | "cfssl" | "cfssl + certdb";
export type KeyType = "ECDSA P-256" | "RSA-2048";

export interface CsrSigningFigure {
  readonly signer: Signer;
  readonly keyType: KeyType;
  readonly concurrency: number;
  readonly perSecond: Spread;
  readonly p50Ms: Spread;
  readonly p99Ms: Spread;
  /** Server CPU per certificate (ms), from /proc, median of the runs. */
  readonly serverCpuMs: number;
  readonly errors: number;
  /** kpki's rate divided by this signer's, per round (same load), for the cfssl rows. */
  readonly kpkiRatio?: Spread;
}

export interface CsrSigningOptions {
  readonly runs?: number;
  readonly durationMs?: number;
  readonly concurrencies?: readonly number[];
}

/** cfssl's SQLite certdb schema (cfssl 1.2, certdb/sqlite/migrations/001_CreateCertificates.sql). */
const CFSSL_CERTDB_SCHEMA = `
CREATE TABLE certificates (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  ca_label                 blob,
  status                   blob NOT NULL,
  reason                   int,
  expiry                   timestamp,
  revoked_at               timestamp,
  pem                      blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE TABLE ocsp_responses (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  body                     blob NOT NULL,
  expiry                   timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier)
);`;

interface Endpoint {
  readonly url: string;
  readonly caPem: string;
  readonly path: string;
  readonly pid: number;
  body(csr: string): unknown;
  accepted(status: number, body: unknown): boolean;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const openssl = (args: readonly string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

/** A self-signed CA of `keyType` made by openssl, and cfssl's signing configuration for it. */
function cfsslFiles(dir: string, keyType: KeyType): { ca: string; caKey: string; config: string } {
  const ca = path.join(dir, "ca.pem");
  const caKey = path.join(dir, "ca-key.pem");
  const key = keyType === "ECDSA P-256" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"];
  openssl(["req", "-x509", ...key, "-nodes", "-keyout", caKey, "-out", ca, "-days", "3650", "-subj", `/CN=cfssl bench ${keyType} CA`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  const config = path.join(dir, "config.json");
  // The same shape as kpki's `client` profile: one year, digital signature, client auth.
  writeFileSync(config, JSON.stringify({ signing: { default: { expiry: "8760h", usages: ["digital signature", "client auth"] } } }));
  return { ca, caKey, config };
}

/** `cfssl serve` over TLS on a free loopback port, optionally with a SQLite certdb. */
async function startCfssl(dir: string, keyType: KeyType, certdb: boolean): Promise<Endpoint> {
  const { ca, caKey, config } = cfsslFiles(dir, keyType);
  const tlsCert = path.join(dir, "tls.pem");
  const tlsKey = path.join(dir, "tls-key.pem");
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", tlsKey, "-out", tlsCert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
  const args = ["serve", "-address", "127.0.0.1", "-ca", ca, "-ca-key", caKey, "-config", config, "-tls-cert", tlsCert, "-tls-key", tlsKey, "-loglevel", "4"];
  if (certdb) {
    const database = path.join(dir, "certdb.sqlite");
    execFileSync("sqlite3", [database], { input: CFSSL_CERTDB_SCHEMA });
    const dbConfig = path.join(dir, "db-config.json");
    writeFileSync(dbConfig, JSON.stringify({ driver: "sqlite3", data_source: database }));
    args.push("-db-config", dbConfig);
  }
  const port = await freePort();
  const child: ChildProcess = spawn("cfssl", [...args, "-port", String(port)], { stdio: "ignore" });
  await waitForPort("cfssl serve", port, child, 30_000);
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: readFileSync(tlsCert, "utf8"),
    path: "/api/v1/cfssl/sign",
    pid: child.pid ?? 0,
    body: (csr) => ({ certificate_request: csr }),
    accepted: (status, body) => status === 200 && (body as { success?: boolean } | null)?.success === true,
    cpuSeconds: () => processCpuSeconds(child.pid ?? 0),
    stop: () => stopPeer(child, 10_000),
  };
}

async function kpkiEndpoint(server: BenchServer, ca: string): Promise<Endpoint> {
  return {
    url: server.url,
    caPem: server.caBundle,
    path: "/v1/certificates",
    pid: server.pid,
    body: (csr) => ({ ca, profile: "client", csr }),
    accepted: (status) => status === 201,
    cpuSeconds: () => server.cpuSeconds(),
    stop: async () => undefined,
  };
}

async function measure(endpoint: Endpoint, csrs: readonly string[], concurrency: number, durationMs: number): Promise<LoadResult & { cpuMs: number }> {
  const client = createClient(endpoint.url, endpoint.caPem, BENCH_TOKEN, concurrency);
  try {
    const send = async (i: number) => {
      const answer = await client.call("POST", endpoint.path, endpoint.body(csrs[i % csrs.length] ?? ""));
      return endpoint.accepted(answer.status, answer.body);
    };
    await closedLoop(concurrency, 300, send); // connections, JIT
    const cpuBefore = endpoint.cpuSeconds();
    const result = await closedLoop(concurrency, durationMs, send);
    return { ...result, cpuMs: ((endpoint.cpuSeconds() - cpuBefore) * 1000) / Math.max(1, result.requests) };
  } finally {
    client.close();
  }
}

export async function runCsrSigningBench(options: CsrSigningOptions = {}): Promise<CsrSigningFigure[]> {
  const runs = options.runs ?? 3;
  const durationMs = options.durationMs ?? 4000;
  const concurrencies = options.concurrencies ?? [1, 8, 32];
  const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-bench-cfssl-"));
  const server = await startBenchServer();
  const figures: CsrSigningFigure[] = [];
  try {
    const admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
    for (const keyType of ["ECDSA P-256", "RSA-2048"] as const) {
      const ca = keyType === "ECDSA P-256" ? "bench-sign-ec" : "bench-sign-rsa";
      const created = await admin.call("POST", "/v1/authorities", { name: ca, type: "intermediate", parent: "kpki-root", subject: { commonName: ca }, keyAlgorithm: keyType === "ECDSA P-256" ? "ECDSA-P256" : "RSA-2048" });
      if (created.status !== 201) throw new Error(`creating ${ca}: ${JSON.stringify(created.body)}`);
      const csrs = makeCsrs(keyType === "ECDSA P-256" ? "ec" : "rsa", 16);
      const endpoints = new Map<Signer, Endpoint>([["kpki", await kpkiEndpoint(server, ca)]]);
      const cfsslDir = mkdtempSync(path.join(dir, "plain-"));
      const certdbDir = mkdtempSync(path.join(dir, "certdb-"));
      endpoints.set("cfssl", await startCfssl(cfsslDir, keyType, false));
      endpoints.set("cfssl + certdb", await startCfssl(certdbDir, keyType, true));
      try {
        for (const concurrency of concurrencies) {
          const rounds: Map<Signer, LoadResult & { cpuMs: number }>[] = [];
          for (let run = 0; run < runs; run++) {
            const round = new Map<Signer, LoadResult & { cpuMs: number }>();
            for (const [signer, endpoint] of endpoints) round.set(signer, await measure(endpoint, csrs, concurrency, durationMs));
            rounds.push(round);
          }
          for (const signer of endpoints.keys()) {
            const results = rounds.map((round) => round.get(signer)).filter((r) => r !== undefined);
            const ratios = rounds.map((round) => (round.get("kpki")?.perSecond ?? 0) / Math.max(1e-9, round.get(signer)?.perSecond ?? 0));
            figures.push({
              signer,
              keyType,
              concurrency,
              perSecond: median(results.map((r) => r.perSecond)),
              p50Ms: median(results.map((r) => r.p50Ms)),
              p99Ms: median(results.map((r) => r.p99Ms)),
              serverCpuMs: median(results.map((r) => r.cpuMs)).median,
              errors: results.reduce((sum, r) => sum + r.errors, 0),
              ...(signer === "kpki" ? {} : { kpkiRatio: median(ratios) }),
            });
          }
        }
      } finally {
        for (const endpoint of endpoints.values()) await endpoint.stop();
      }
    }
    admin.close();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

// A real `kpki serve` with its KMIP listener on (KPKI_KMIP_LISTEN=127.0.0.1:0), and client
// certificates for it issued the ordinary way: POST /v1/certificates under kpki's internal CA with
// a server-generated key (profile client: EKU clientAuth), the role in the subject's O.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KmipProcessor } from "../../src/transports/kmip/kmip-processor.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { httpsRequest, jsonBody, startKpkiServer, type HttpsResponse, type ServingKpki } from "./process.js";
import { TEST_ADMIN_TOKEN, type TestRuntime } from "./runtime.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

/** A client identity on disk (PyKMIP reads files) and in memory. */
export interface ClientCredentials {
  readonly certPem: string;
  /** The issuing CA and its issuers, nearest first. */
  readonly chainPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface KmipKpki {
  readonly server: ServingKpki;
  readonly kmipPort: number;
  /** data/ca-bundle.pem: the root, which the server's chain leads to. */
  readonly caPem: string;
  readonly caFile: string;
  readonly dataDir: string;
  /** A client certificate from the internal CA (or `ca`), profile client unless `profile` says otherwise. */
  issueClient(commonName: string, organization?: readonly string[], options?: { ca?: string; profile?: string }): Promise<ClientCredentials>;
  /** An admin REST call. */
  rest(method: string, urlPath: string, body?: unknown): Promise<HttpsResponse>;
  stop(): Promise<void>;
}

export const KMIP_LINE = /kpki: KMIP \(TTLV over mutual TLS\) on (\S+):(\d+)/;

export async function startKmipKpki(env: Readonly<Record<string, string>> = {}): Promise<KmipKpki> {
  const database: TestDatabase = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "kpki-kmip-"));
  const server = await startKpkiServer({
    env: { DATABASE_URL: database.url, KPKI_DATA_DIR: dataDir, KPKI_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, KPKI_KMIP_LISTEN: "127.0.0.1:0", KPKI_LOG_LEVEL: "warn", ...env },
  });
  const match = KMIP_LINE.exec(server.stderr());
  if (match === null) {
    await server.stop();
    throw new Error(`kpki serve did not announce its KMIP listener:\n${server.stderr()}`);
  }
  const caFile = path.join(dataDir, "ca-bundle.pem");
  const caPem = readFileSync(caFile, "utf8");
  const rest = (method: string, urlPath: string, body?: unknown) =>
    httpsRequest(`${server.url}${urlPath}`, { method, ca: caPem, headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, ...(body === undefined ? {} : { body }) });
  const credentialsDir = mkdtempSync(path.join(os.tmpdir(), "kpki-kmip-clients-"));
  let issued = 0;
  return {
    server,
    kmipPort: Number(match[2]),
    caPem,
    caFile,
    dataDir,
    rest,
    issueClient: async (commonName, organization = [], options = {}) => {
      const response = await rest("POST", "/v1/certificates", {
        ca: options.ca ?? "kpki-internal",
        profile: options.profile ?? "client",
        keyAlgorithm: "ECDSA-P256",
        subject: { commonName, ...(organization.length === 0 ? {} : { organization: [...organization] }) },
        ...(options.profile === "server" || options.profile === "peer" ? { subjectAltNames: ["DNS:client.example"] } : {}),
      });
      if (response.status !== 201) throw new Error(`issuing ${commonName}: HTTP ${response.status} ${response.text}`);
      const body = jsonBody<{ certificatePem: string; chainPem: string; privateKeyPem: string }>(response);
      const base = path.join(credentialsDir, `client-${++issued}`);
      writeFileSync(`${base}.crt`, body.certificatePem);
      writeFileSync(`${base}.key`, body.privateKeyPem, { mode: 0o600 });
      return { certPem: body.certificatePem, chainPem: body.chainPem, keyPem: body.privateKeyPem, certFile: `${base}.crt`, keyFile: `${base}.key` };
    },
    stop: async () => {
      try {
        await server.stop();
      } finally {
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(credentialsDir, { recursive: true, force: true });
      }
    },
  };
}

/** The KMIP message processor of a test runtime, without a socket: tests hand it request bytes. */
export function kmipProcessorOf(t: TestRuntime): KmipProcessor {
  const { services, clock } = t.runtime;
  return new KmipProcessor({ kms: services.kms, access: services.access, clock, logger: createLogger("silent"), identity: { vendor: "kpki", product: "kpki", version: "test" } });
}

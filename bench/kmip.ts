/**
 * KMIP over mutual TLS, kpki next to pykmip-server 0.10 (Debian python3-pykmip) on the same
 * machine, same client, same run: a closed-loop TTLV client (test/helpers/kmip.ts) on one
 * connection and on eight, each with one request in flight.
 *   - Create+Get+Destroy: an AES-256 key created, read and destroyed, three requests per cycle.
 *   - Encrypt AES-GCM 1 KiB (KMIP 1.4, with the Authenticated Encryption Tag) with an active key.
 *   - Discover Versions: no key, no storage; what TLS, framing, TTLV and the message layer cost.
 * Figures: operations (requests) per second and p50/p99 latency per request. ARCHITECTURE.md §5
 * target: ≥ 5,000 KMIP operations/s on one connection (a bench figure, never a test).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { byteString, enumeration, integer, structure, textString } from "../src/transports/kmip/ttlv/item.js";
import { ENUM, field, KmipTestClient, OP, requestMessage, STATUS, TAG } from "../test/helpers/kmip.js";
import { createClient, median } from "./https-client.js";
import { freePort, stopPeer, waitForPort } from "./peer-process.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";
import type { Spread } from "./spread.js";
import { textTable } from "./table.js";

export interface KmipFigure {
  readonly server: "kpki" | "pykmip-server";
  readonly benchmark: string;
  readonly connections: number;
  readonly perSecond: Spread;
  /** Latency percentiles: medians over the runs (NaN for pipelined requests, which have none of their own). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** kpki's rate divided by pykmip-server's, per round (same load), on pykmip-server's rows. */
  readonly kpkiRatio?: Spread;
  /** Why there is no figure (e.g. the peer does not offer the operation). */
  readonly note?: string;
}

/** One run's figure, before the runs are combined. */
type RunFigure = Omit<KmipFigure, "perSecond" | "kpkiRatio"> & { readonly perSecond: number };

interface Credentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const VERSION: [number, number] = [1, 4];

const createAes = () =>
  requestMessage(VERSION, [
    {
      operation: OP.Create,
      payload: [
        enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey),
        structure(TAG.TemplateAttribute, [
          structure(TAG.Attribute, [textString(TAG.AttributeName, "Cryptographic Algorithm"), enumeration(TAG.AttributeValue, ENUM.CryptographicAlgorithm.Aes)]),
          structure(TAG.Attribute, [textString(TAG.AttributeName, "Cryptographic Length"), integer(TAG.AttributeValue, 256)]),
          structure(TAG.Attribute, [textString(TAG.AttributeName, "Cryptographic Usage Mask"), integer(TAG.AttributeValue, 0x4 | 0x8)]),
        ]),
      ],
    },
  ]);
const byUid = (operation: number, uid: string) => requestMessage(VERSION, [{ operation, payload: [textString(TAG.UniqueIdentifier, uid)] }]);
const encryptGcm = (uid: string, plaintext: Buffer) =>
  requestMessage(VERSION, [
    {
      operation: OP.Encrypt,
      payload: [
        textString(TAG.UniqueIdentifier, uid),
        structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Gcm), integer(TAG.TagLength, 16)]),
        byteString(TAG.Data, plaintext),
        byteString(TAG.IvCounterNonce, randomBytes(12)),
        byteString(TAG.AuthenticatedEncryptionAdditionalData, Buffer.from("bench")),
      ],
    },
  ]);

/** AES-CBC with PKCS5 padding: the Encrypt both servers offer (pykmip-server has no GCM through this message). */
const encryptCbc = (uid: string, plaintext: Buffer) =>
  requestMessage(VERSION, [
    {
      operation: OP.Encrypt,
      payload: [
        textString(TAG.UniqueIdentifier, uid),
        structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Cbc), enumeration(TAG.PaddingMethod, ENUM.PaddingMethod.Pkcs5), enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes)]),
        byteString(TAG.Data, plaintext),
        byteString(TAG.IvCounterNonce, randomBytes(16)),
      ],
    },
  ]);

/** Runs the workloads against one KMIP endpoint. */
async function measureEndpoint(server: KmipFigure["server"], port: number, credentials: Credentials, durationMs: number): Promise<RunFigure[]> {
  const connect = () => KmipTestClient.connect({ port, ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem });
  const figures: RunFigure[] = [];
  const setup = await connect();
  const created = await setup.send(createAes());
  const keyUid = field<string>(created.items[0]?.payload, TAG.UniqueIdentifier);
  if (keyUid === undefined) throw new Error(`${server}: Create failed: ${JSON.stringify(created.items[0])}`);
  await setup.send(byUid(OP.Activate, keyUid));
  const plaintext = randomBytes(1024);
  const probe = await setup.send(encryptGcm(keyUid, plaintext));
  const gcmWorks = probe.items[0]?.status === STATUS.Success;
  setup.close();
  for (const connections of [1, 8]) {
    const clients = await Promise.all(Array.from({ length: connections }, () => connect()));
    const ok = (response: { items: readonly { status: number }[] }) => response.items[0]?.status === STATUS.Success;
    // Create, Get and Destroy of one key: three requests, each timed as one operation.
    const cycle = async (client: KmipTestClient, latencies: number[]) => {
      const t0 = performance.now();
      const made = await client.send(createAes());
      const t1 = performance.now();
      const uid = field<string>(made.items[0]?.payload, TAG.UniqueIdentifier);
      if (uid === undefined) return 1;
      const got = await client.send(byUid(OP.Get, uid));
      const t2 = performance.now();
      const destroyed = await client.send(byUid(OP.Destroy, uid));
      latencies.push(t1 - t0, t2 - t1, performance.now() - t2);
      return [got, destroyed].filter((response) => !ok(response)).length;
    };
    await perConnection(clients, 300, cycle);
    figures.push(figure(server, "Create+Get+Destroy AES-256", connections, await perConnection(clients, durationMs, cycle)));
    const single = (message: () => Buffer) => async (client: KmipTestClient, latencies: number[]) => {
      const t0 = performance.now();
      const response = await client.send(message());
      latencies.push(performance.now() - t0);
      return ok(response) ? 0 : 1;
    };
    for (const [benchmark, message] of [["Encrypt AES-CBC 1 KiB", encryptCbc]] as const) {
      const probed = await clients[0]?.send(message(keyUid, plaintext));
      if (probed?.items[0]?.status !== STATUS.Success) {
        figures.push({ server, benchmark, connections, perSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0, note: `not offered (Result Reason ${probed?.items[0]?.reason ?? "?"})` });
        continue;
      }
      const encrypt = single(() => message(keyUid, plaintext));
      await perConnection(clients, 300, encrypt);
      figures.push(figure(server, benchmark, connections, await perConnection(clients, durationMs, encrypt)));
    }
    if (gcmWorks) {
      const encrypt = single(() => encryptGcm(keyUid, plaintext));
      await perConnection(clients, 300, encrypt);
      figures.push(figure(server, "Encrypt AES-GCM 1 KiB", connections, await perConnection(clients, durationMs, encrypt)));
    } else {
      figures.push({ server, benchmark: "Encrypt AES-GCM 1 KiB", connections, perSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0, note: `not offered (Result Reason ${probe.items[0]?.reason ?? "?"})` });
    }
    if (gcmWorks && connections === 1) {
      // KMIP lets a client send its next request before the answer to the last (answers come in
      // order); 16 in flight on the one connection show the server's own rate for it.
      const pipelined = async (client: KmipTestClient, latencies: number[]) => {
        const t0 = performance.now();
        const responses = await Promise.all(Array.from({ length: 16 }, () => client.send(encryptGcm(keyUid, plaintext))));
        const each = (performance.now() - t0) / 16;
        for (let i = 0; i < 16; i++) latencies.push(each);
        return responses.filter((response) => !ok(response)).length;
      };
      await perConnection(clients, 300, pipelined);
      figures.push({ ...figure(server, "Encrypt AES-GCM 1 KiB, 16 pipelined", connections, await perConnection(clients, durationMs, pipelined)), p50Ms: Number.NaN, p99Ms: Number.NaN });
    }
    // No storage and no key: the cost of TLS, framing, TTLV and the message layer alone.
    const discover = single(() => requestMessage(VERSION, [{ operation: OP.DiscoverVersions, payload: [] }]));
    await perConnection(clients, 300, discover);
    figures.push(figure(server, "Discover Versions (protocol cost)", connections, await perConnection(clients, durationMs, discover)));
    for (const client of clients) client.close();
  }
  return figures;
}

/** Operations and latencies of a closed loop on each connection (one request in flight per connection). */
interface Measured {
  readonly operations: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latencies: number[];
}

async function perConnection(clients: readonly KmipTestClient[], durationMs: number, run: (client: KmipTestClient, latencies: number[]) => Promise<number>): Promise<Measured> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) errors += await run(client, latencies);
    }),
  );
  return { operations: latencies.length, errors, seconds: (performance.now() - start) / 1000, latencies };
}

function figure(server: KmipFigure["server"], benchmark: string, connections: number, measured: Measured): RunFigure {
  const latencies = [...measured.latencies].sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { server, benchmark, connections, perSecond: measured.operations / measured.seconds, p50Ms: pick(0.5), p99Ms: pick(0.99), errors: measured.errors };
}

/** Starts pykmip-server (TLS1.2 suite, client certificates required) with kpki-issued certificates. */
async function startPykmipServer(dir: string, server: Credentials): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  writeFileSync(path.join(dir, "server.crt"), server.certPem);
  writeFileSync(path.join(dir, "server.key"), server.keyPem, { mode: 0o600 });
  writeFileSync(path.join(dir, "ca.crt"), server.caPem);
  mkdirSync(path.join(dir, "policies"), { recursive: true });
  const config = path.join(dir, "server.conf");
  writeFileSync(
    config,
    [
      "[server]",
      "hostname=127.0.0.1",
      `port=${port}`,
      `certificate_path=${path.join(dir, "server.crt")}`,
      `key_path=${path.join(dir, "server.key")}`,
      `ca_path=${path.join(dir, "ca.crt")}`,
      "auth_suite=TLS1.2",
      `policy_path=${path.join(dir, "policies")}`,
      "enable_tls_client_auth=True",
      "logging_level=WARNING",
      `database_path=${path.join(dir, "pykmip.db")}`,
      "",
    ].join("\n"),
  );
  const child = spawn("pykmip-server", ["-f", config, "-l", path.join(dir, "server.log")], { stdio: "ignore" });
  await waitForPort("pykmip-server", port, child, 30_000);
  return {
    port,
    // SIGTERM, then wait: it joins its session threads for up to 10 s (reference §3, pitfall 12).
    stop: () => stopPeer(child, 20_000),
  };
}

/**
 * Rounds of kpki then pykmip-server (both servers up throughout), so a change of load hits both;
 * each figure is the median of the rounds with its spread, and each ratio is taken per round.
 */
export async function runKmipBench(options: { durationMs?: number; runs?: number } = {}): Promise<KmipFigure[]> {
  const durationMs = options.durationMs ?? 3000;
  const runs = options.runs ?? 3;
  const rounds: RunFigure[][] = [];
  const kpki = await startBenchServer({ KPKI_KMIP_LISTEN: "127.0.0.1:0" });
  const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-kmip-bench-"));
  let pykmip: { port: number; stop: () => Promise<void> } | undefined;
  try {
    if (kpki.kmipPort === undefined) throw new Error("kpki serve did not announce its KMIP listener");
    const admin = createClient(kpki.url, kpki.caBundle, BENCH_TOKEN, 1);
    const issue = async (body: Record<string, unknown>): Promise<Credentials> => {
      const response = await admin.call("POST", "/v1/certificates", { ca: "kpki-internal", keyAlgorithm: "ECDSA-P256", ...body });
      if (response.status !== 201) throw new Error(`issuing a bench certificate: ${JSON.stringify(response.body)}`);
      const issued = response.body as { certificatePem: string; chainPem: string; privateKeyPem: string };
      return { caPem: issued.chainPem, certPem: issued.certificatePem, keyPem: issued.privateKeyPem };
    };
    const client = { ...(await issue({ profile: "client", subject: { commonName: "bench", organization: ["admin"] } })), caPem: kpki.caBundle };
    if (existsSync("/usr/bin/pykmip-server")) {
      const server = await issue({ profile: "server", subject: { commonName: "pykmip-server" }, subjectAltNames: ["IP:127.0.0.1", "DNS:localhost"] });
      pykmip = await startPykmipServer(dir, { ...server, certPem: server.certPem + server.caPem });
    }
    admin.close();
    for (let run = 0; run < runs; run++) {
      const round = await measureEndpoint("kpki", kpki.kmipPort, client, durationMs);
      if (pykmip !== undefined) round.push(...(await measureEndpoint("pykmip-server", pykmip.port, client, durationMs)));
      rounds.push(round);
    }
  } finally {
    await pykmip?.stop();
    await kpki.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = combineRounds(rounds);
  if (pykmip === undefined) {
    figures.push({ server: "pykmip-server", benchmark: "(all)", connections: 0, perSecond: median([0]), p50Ms: 0, p99Ms: 0, errors: 0, note: "pykmip-server is not installed (apt-get install python3-pykmip)" });
  }
  return figures;
}

/** The rounds' figures as medians with spread, and pykmip-server's rows with kpki's ratio per round. */
function combineRounds(rounds: readonly (readonly RunFigure[])[]): KmipFigure[] {
  const key = (f: RunFigure) => `${f.server}|${f.benchmark}|${f.connections}`;
  const first = rounds[0] ?? [];
  return first.map((template) => {
    const same = rounds.map((round) => round.find((f) => key(f) === key(template))).filter((f) => f !== undefined);
    const ratios = rounds.flatMap((round) => {
      const own = round.find((f) => key(f) === key(template));
      const ours = round.find((f) => f.server === "kpki" && f.benchmark === template.benchmark && f.connections === template.connections);
      return own === undefined || ours === undefined || own.note !== undefined || own.perSecond === 0 ? [] : [ours.perSecond / own.perSecond];
    });
    return {
      ...template,
      perSecond: median(same.map((f) => f.perSecond)),
      p50Ms: median(same.map((f) => f.p50Ms)).median,
      p99Ms: median(same.map((f) => f.p99Ms)).median,
      errors: same.reduce((sum, f) => sum + f.errors, 0),
      ...(template.server === "kpki" || ratios.length === 0 ? {} : { kpkiRatio: median(ratios) }),
    };
  });
}

export function formatKmipBench(figures: readonly KmipFigure[]): string {
  const rows = [
    ["server", "benchmark", "connections", "ops/s median (min–max)", "p50 ms", "p99 ms", "errors", "kpki ÷ this"],
    ...figures.map((f) => {
      const ms = (value: number) => (f.note !== undefined || Number.isNaN(value) ? "-" : value.toFixed(2));
      const rate = `${f.perSecond.median.toFixed(0)} (${f.perSecond.min.toFixed(0)}–${f.perSecond.max.toFixed(0)})`;
      const ratio = f.kpkiRatio === undefined ? "" : `${f.kpkiRatio.median.toFixed(1)}×`;
      return [f.server, f.benchmark, String(f.connections), f.note ?? rate, ms(f.p50Ms), ms(f.p99Ms), String(f.errors), ratio];
    }),
  ];
  return ["KMIP over mutual TLS (TTLV, KMIP 1.4), kpki vs pykmip-server", textTable(rows, "  ")].join("\n");
}

if (process.argv[1]?.endsWith("bench/kmip.ts") === true) {
  const quick = process.argv.includes("--quick");
  console.log(formatKmipBench(await runKmipBench(quick ? { durationMs: 1000 } : {})));
}

// GET /metrics of a real `kpki serve` (KMIP on; SQLite, or PostgreSQL under TEST_DATABASE_URL)
// after some activity: a certificate issued over REST, a named key used over REST, an unnamed key
// used over KMIP, a job run, a KMIP connection, a cluster. The exposition is read by a strict parser
// (TYPE/HELP before samples, label syntax), then each family is checked for the value the activity
// must have left. The Grafana dashboard's PromQL may only name metrics this scrape has.
import { randomBytes, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byteString, enumeration, integer, structure, textString } from "../../src/transports/kmip/ttlv/item.js";
import { ENUM, field, KmipTestClient, OP, requestMessage, STATUS, TAG } from "../helpers/kmip.js";
import { startKmipKpki, type KmipKpki } from "../helpers/kmip-server.js";
import { httpsRequest, jsonBody, PROJECT_ROOT } from "../helpers/process.js";
import { parsePrometheusText, sampleValue, type MetricFamily } from "../helpers/prometheus-text.js";
import { postgresqlTestUrl } from "../helpers/test-database.js";

let kpki: KmipKpki;
let scrape: Map<string, MetricFamily>;
/** notAfter of the short-lived certificate this test issues, in seconds since the epoch. */
let shortLivedNotAfter: number;
let jobStatus: string;
let clusterCas: string[];

const epochSeconds = (date: string | Date) => Math.floor(new Date(date).getTime() / 1000);

async function scrapeMetrics(): Promise<{ text: string; contentType: string }> {
  const response = await httpsRequest(`${kpki.server.url}/metrics`, { ca: kpki.caPem, headers: { Accept: "text/plain" } });
  expect(response.status).toBe(200);
  return { text: response.text, contentType: String(response.headers["content-type"]) };
}

/** Scrapes until `done` holds for the parsed families (e.g. a closed connection is counted). */
async function scrapeUntil(done: (families: Map<string, MetricFamily>) => boolean, timeoutMs = 10_000): Promise<Map<string, MetricFamily>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const families = parsePrometheusText((await scrapeMetrics()).text);
    if (done(families) || Date.now() > deadline) return families;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  kpki = await startKmipKpki();
  // A certificate over REST (the KMIP client credential) and a short-lived one (3 days).
  const admin = await kpki.issueClient("metrics-admin", ["admin"]);
  const shortLived = await kpki.rest("POST", "/v1/certificates", { ca: "kpki-internal", profile: "client", keyAlgorithm: "ECDSA-P256", subject: { commonName: "short-lived" }, ttlSeconds: 3 * 86_400 });
  expect(shortLived.status, shortLived.text).toBe(201);
  shortLivedNotAfter = epochSeconds(new X509Certificate(jsonBody<{ certificatePem: string }>(shortLived).certificatePem).validTo);
  // A named key used over REST.
  expect((await kpki.rest("POST", "/v1/keys", { name: "metrics-kek" })).status).toBe(201);
  const encrypted = await kpki.rest("POST", "/v1/keys/metrics-kek/encrypt", { plaintext: Buffer.from("secret").toString("base64") });
  expect(encrypted.status, encrypted.text).toBe(200);
  // An unnamed AES key created and used over KMIP (one connection, closed afterwards).
  const client = await KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: admin.certPem, key: admin.keyPem });
  try {
    const created = await client.send(
      requestMessage([1, 4], [
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
      ]),
    );
    expect(created.items[0]).toMatchObject({ status: STATUS.Success });
    const uid = field<string>(created.items[0]?.payload, TAG.UniqueIdentifier) ?? "";
    expect((await client.send(requestMessage([1, 4], [{ operation: OP.Activate, payload: [textString(TAG.UniqueIdentifier, uid)] }]))).items[0]).toMatchObject({ status: STATUS.Success });
    const cbc = structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Cbc), enumeration(TAG.PaddingMethod, ENUM.PaddingMethod.Pkcs5)]);
    const encrypt = { operation: OP.Encrypt, payload: [textString(TAG.UniqueIdentifier, uid), cbc, byteString(TAG.Data, Buffer.from("kmip")), byteString(TAG.IvCounterNonce, randomBytes(16))] };
    expect((await client.send(requestMessage([1, 4], [encrypt]))).items[0]).toMatchObject({ status: STATUS.Success });
  } finally {
    client.close();
  }
  // A job run (the scheduler may have run it already in this period: then this one is a skip).
  const run = await kpki.rest("POST", "/v1/jobs/rotate-named-keys/run");
  expect(run.status, run.text).toBe(200);
  jobStatus = jsonBody<{ outcome: string }>(run).outcome;
  // A cluster: three CAs of its own.
  const cluster = await kpki.rest("POST", "/v1/clusters", { name: "metrics", controlPlaneEndpoint: "cp.metrics.example:6443", keyAlgorithm: "ECDSA-P256" });
  expect(cluster.status, cluster.text).toBe(201);
  clusterCas = Object.values(jsonBody<{ authorities: Record<string, string> }>(cluster).authorities);
  scrape = await scrapeUntil((families) => families.get("kpki_kmip_connections")?.samples[0]?.value === 0);
}, 180_000);

afterAll(async () => {
  await kpki?.stop();
});

describe("GET /metrics", () => {
  it("is the Prometheus text format 0.0.4, every family has HELP and TYPE, kpki's own are prefixed kpki_", async () => {
    const { text, contentType } = await scrapeMetrics();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(text);
    for (const family of families.values()) expect(family.help, family.name).not.toBe("");
    const own = [...families.keys()].filter((name) => !/^(process|nodejs)_/.test(name));
    expect(own.every((name) => name.startsWith("kpki_")), own.join(", ")).toBe(true);
  });

  it("has process metrics (prom-client defaults)", () => {
    expect(scrape.get("process_cpu_seconds_total")?.type).toBe("counter");
    expect(sampleValue(scrape, "process_resident_memory_bytes")).toBeGreaterThan(10_000_000);
    expect(scrape.get("nodejs_eventloop_lag_p99_seconds")?.type).toBe("gauge");
  });

  it("counts HTTP requests by operation and status, with a latency histogram", () => {
    expect(scrape.get("kpki_http_requests_total")?.type).toBe("counter");
    expect(sampleValue(scrape, "kpki_http_requests_total", { operation: "createNamedKey", method: "POST", status: "201" })).toBe(1);
    expect(scrape.get("kpki_http_request_duration_seconds")?.type).toBe("histogram");
    expect(sampleValue(scrape, "kpki_http_request_duration_seconds", { operation: "createNamedKey", method: "POST" }, "kpki_http_request_duration_seconds_count")).toBe(1);
    expect(sampleValue(scrape, "kpki_http_request_duration_seconds", { operation: "createNamedKey", method: "POST", le: "+Inf" }, "kpki_http_request_duration_seconds_bucket")).toBe(1);
  });

  it("counts issued certificates by CA and profile", () => {
    expect(scrape.get("kpki_certificates_issued_total")?.type).toBe("counter");
    // The KMIP admin credential and the short-lived certificate; the service's own TLS certificate is profile server.
    expect(sampleValue(scrape, "kpki_certificates_issued_total", { ca: "kpki-internal", profile: "client" })).toBe(2);
    expect(sampleValue(scrape, "kpki_certificates_issued_total", { ca: "kpki-internal", profile: "server" })).toBeGreaterThanOrEqual(1);
  });

  it("counts key operations by named key, or by object kind for unnamed objects, over REST and KMIP alike", () => {
    expect(scrape.get("kpki_key_operations_total")?.type).toBe("counter");
    expect(sampleValue(scrape, "kpki_key_operations_total", { key: "metrics-kek", operation: "Encrypt" })).toBe(1);
    expect(sampleValue(scrape, "kpki_key_operations_total", { key: "object:SymmetricKey", operation: "Encrypt" })).toBe(1);
    // No uid, no free-form KMIP Name in a label.
    for (const sample of scrape.get("kpki_key_operations_total")?.samples ?? []) expect(sample.labels.key).toMatch(/^(object:[A-Za-z]+|[a-z0-9._-]{1,63})$/);
  });

  it("counts job runs by job and outcome", () => {
    expect(scrape.get("kpki_job_runs_total")?.type).toBe("counter");
    expect(["ran", "skipped-already-done"]).toContain(jobStatus);
    expect(sampleValue(scrape, "kpki_job_runs_total", { job: "rotate-named-keys", status: jobStatus })).toBeGreaterThanOrEqual(1);
  });

  it("has the certificate expiry gauges: earliest notAfter per CA and per cluster, counts expiring within 7 and 30 days", async () => {
    expect(scrape.get("kpki_certificate_earliest_not_after_seconds")?.type).toBe("gauge");
    expect(sampleValue(scrape, "kpki_certificate_earliest_not_after_seconds", { ca: "kpki-internal" })).toBe(shortLivedNotAfter);
    expect(sampleValue(scrape, "kpki_certificates_expiring", { within: "7d" })).toBe(1);
    expect(sampleValue(scrape, "kpki_certificates_expiring", { within: "30d" })).toBe(1);
    const root = jsonBody<{ notAfter: string }>(await kpki.rest("GET", "/v1/authorities/kpki-root"));
    expect(sampleValue(scrape, "kpki_ca_certificate_not_after_seconds", { ca: "kpki-root" })).toBe(epochSeconds(root.notAfter));
    const clusterNotAfters = await Promise.all(clusterCas.map(async (name) => epochSeconds(jsonBody<{ notAfter: string }>(await kpki.rest("GET", `/v1/authorities/${name}`)).notAfter)));
    expect(clusterNotAfters).toHaveLength(3);
    expect(sampleValue(scrape, "kpki_cluster_certificate_earliest_not_after_seconds", { cluster: "metrics" })).toBe(Math.min(...clusterNotAfters));
  });

  it("has KMIP connections: open now (0 after the client closed) and accepted in total", () => {
    expect(scrape.get("kpki_kmip_connections")?.type).toBe("gauge");
    expect(sampleValue(scrape, "kpki_kmip_connections")).toBe(0);
    expect(scrape.get("kpki_kmip_connections_total")?.type).toBe("counter");
    expect(sampleValue(scrape, "kpki_kmip_connections_total")).toBe(1);
  });

  it("has the database pool: the pg pool's counts on PostgreSQL, no samples on SQLite (no pool)", () => {
    const pool = scrape.get("kpki_database_pool");
    expect(pool?.type).toBe("gauge");
    if (postgresqlTestUrl() === undefined) {
      expect(pool?.samples).toEqual([]);
    } else {
      const total = sampleValue(scrape, "kpki_database_pool", { state: "total" });
      expect(total).toBeGreaterThanOrEqual(1);
      expect(total).toBeLessThanOrEqual(10);
      expect(sampleValue(scrape, "kpki_database_pool", { state: "idle" })).toBeLessThanOrEqual(total);
      expect(sampleValue(scrape, "kpki_database_pool", { state: "waiting" })).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("deploy/grafana/kpki-dashboard.json", () => {
  interface Panel {
    readonly title?: string;
    readonly type: string;
    readonly targets?: readonly { readonly expr: string }[];
    readonly panels?: readonly Panel[];
  }
  const dashboard = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "deploy", "grafana", "kpki-dashboard.json"), "utf8")) as { panels: readonly Panel[] };
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== "row");
  const expressions = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title ?? "", expr: target.expr })));

  it("has a query in every panel", () => {
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
  });

  it("names only metrics that a real scrape has (histograms by their _bucket series)", () => {
    const sampleNames = new Set([...scrape.values()].flatMap((family) => [family.name, ...family.samples.map((sample) => sample.name)]));
    // Histogram series exist as names even before their first observation.
    for (const family of scrape.values()) if (family.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) sampleNames.add(family.name + suffix);
    const used = new Set<string>();
    for (const { panel, expr } of expressions) {
      // Metric names in the dashboard are kpki's, process or Node.js ones; the rest are PromQL words.
      const names = expr.replace(/"[^"]*"/g, '""').match(/\b(kpki|process|nodejs)_[a-zA-Z0-9_]+/g) ?? [];
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(sampleNames.has(name), `${panel}: ${name} is not in the scrape`).toBe(true);
        used.add(name.replace(/_bucket$/, ""));
      }
    }
    // Every kpki family is on the dashboard.
    const kpkiFamilies = [...scrape.keys()].filter((name) => name.startsWith("kpki_"));
    expect(kpkiFamilies.filter((name) => !used.has(name))).toEqual([]);
  });
});

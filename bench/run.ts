/**
 * `npm run bench`: every benchmark in one run on this machine, kpki next to its peers (cfssl,
 * pykmip-server, started here on loopback and stopped afterwards) and next to the hardware limit.
 * Prints each table and one headline table; writes bench/results.json, bench/chart.svg and the
 * generated part of bench/README.md (a `--quick` smoke run writes only results.json). Figures are
 * medians of several runs with their spread; each comparison is a ratio measured in the same run.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SqliteDatabase from "better-sqlite3";
import { formatCryptoBackendBench, runCryptoBackendBench } from "./crypto-backends.js";
import { runCsrSigningBench } from "./csr-signing.js";
import { runHardwareLimitBench } from "./hardware-limit.js";
import { RUNS } from "./https-client.js";
import { formatInventoryScaleBench, postgresAvailable, runInventoryScaleBench, type InventoryScaleResult } from "./inventory-scale.js";
import { runIssuanceBench, type IssuanceFigure } from "./issuance.js";
import { runIssuanceScalingBench } from "./issuance-scaling.js";
import { formatKubeadmBench, runKubeadmBench } from "./kubeadm.js";
import { formatKeyServiceBench, formatOpsFigures, runKeyServiceBench } from "./key-service.js";
import { formatKmsPluginBench, runKmsPluginBench } from "./kms-plugin.js";
import { formatKmipBench, runKmipBench } from "./kmip.js";
import { chartSvg, csrSigningMarkdown, formatHeadlines, headlineRows, headlines, kmipMarkdown, kmsPluginMarkdown, limitsMarkdown, replaceGenerated, scalingMarkdown, type BenchEnvironment } from "./report.js";
import { runRevocationBench } from "./revocation.js";
import { markdownTable, textTable } from "./table.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
/**
 * Certificates and managed objects seeded for the inventory-at-scale bench: `--scale N` or
 * KPKI_BENCH_SCALE; 20,000 with --quick, else 100,000 (1,000,000 takes ~15 min to seed here).
 */
const scaleArgument = process.argv.indexOf("--scale");
const scale = Number(scaleArgument >= 0 ? process.argv[scaleArgument + 1] : (process.env.KPKI_BENCH_SCALE ?? (quick ? 20_000 : 100_000)));
if (!Number.isInteger(scale) || scale < 1_000) throw new Error("--scale (KPKI_BENCH_SCALE) must be an integer ≥ 1000");

const tryRun = (file: string, args: readonly string[]): string => {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "not installed";
  }
};

function environment(started: Date, loadAverageStart: readonly number[]): BenchEnvironment {
  const memory = new SqliteDatabase(":memory:");
  const sqlite = (memory.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  memory.close();
  const packageVersion = (JSON.parse(readFileSync(path.join(here, "..", "package.json"), "utf8")) as { version: string }).version;
  return {
    date: started.toISOString(),
    quick,
    runs: RUNS,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "?", memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), loadAverageStart, loadAverageEnd: loadavg() },
    versions: {
      kpki: packageVersion,
      node: process.version,
      "OpenSSL (node)": process.versions.openssl ?? "?",
      "openssl (CLI)": tryRun("openssl", ["version"]),
      "SQLite (better-sqlite3)": sqlite,
      PostgreSQL: tryRun("psql", ["-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version", "postgres"]),
      cfssl: tryRun("dpkg-query", ["-W", "-f", "${Version}", "golang-cfssl"]),
      "pykmip-server": tryRun("dpkg-query", ["-W", "-f", "${Version}", "python3-pykmip"]),
    },
  };
}

function formatIssuance(figures: readonly IssuanceFigure[]): string {
  const rows = [["provider", "benchmark", "conc.", "req/s median (min–max)", "p50 ms", "p99 ms", "server CPU ms/req", "errors"]];
  for (const f of figures) {
    rows.push([f.provider, f.benchmark, String(f.concurrency), `${f.perSecond.median.toFixed(0)} (${f.perSecond.min.toFixed(0)}–${f.perSecond.max.toFixed(0)})`, f.p50Ms.toFixed(2), f.p99Ms.toFixed(2), f.serverCpuMsPerRequest === 0 ? "-" : f.serverCpuMsPerRequest.toFixed(2), String(f.errors)]);
  }
  return textTable(rows);
}

const started = new Date();
const loadAverageStart = loadavg();
console.log(`kpki bench — ${started.toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load ${loadAverageStart.map((l) => l.toFixed(1)).join(" ")}, ${RUNS} run(s) per figure\n`);
const section = (title: string) => console.log(`${title} …`);

section("the limit: raw signatures and AES-GCM on one thread (node:crypto, openssl speed)");
const limits = runHardwareLimitBench(quick ? { runs: 1, nodeMs: 300 } : {});
console.log("\n" + textTable([["operation", "source", "per second"], ...limits.map((l) => [l.operation, l.source, `${l.perSecond.median.toFixed(0)} (${l.perSecond.min.toFixed(0)}–${l.perSecond.max.toFixed(0)})`])], "  ") + "\n");

section("CSR signing over HTTPS: kpki, cfssl serve, cfssl serve + certdb");
const csrSigning = await runCsrSigningBench(quick ? { runs: 1, durationMs: 1000, concurrencies: [8] } : {});
console.log("\n" + csrSigningMarkdown(csrSigning) + "\n");

section(`CSR signing as the inventory grows`);
const issuanceScaling = await runIssuanceScalingBench(quick ? { sizes: [1_000, 10_000], runs: 1, durationMs: 1000 } : {});
console.log("\n" + scalingMarkdown(issuanceScaling) + "\n");

section("KMIP over mutual TLS, kpki and pykmip-server");
const kmip = await runKmipBench(quick ? { durationMs: 1000, runs: 1 } : {});
console.log("\n" + formatKmipBench(kmip) + "\n");

section("KMS v2 plugin (gRPC over a unix socket; in-process and remote)");
const kmsPlugin = await runKmsPluginBench(quick ? { durationMs: 1000, concurrencies: [1] } : {});
console.log("\n" + formatKmsPluginBench(kmsPlugin) + "\n");

const issuance: IssuanceFigure[] = [];
for (const provider of ["node", "peculiar"] as const) {
  section(`WebCrypto provider ${provider}: CSR signing and server-side key generation`);
  issuance.push(...(await runIssuanceBench(provider, quick ? { runs: 1, durationMs: 1000, concurrencies: [8] } : { concurrencies: [8] })));
}
console.log("\n" + formatIssuance(issuance) + "\n");

section("kubeadm control-plane sets");
const kubeadm = await runKubeadmBench(quick ? 2 : 10);
console.log("\n" + formatKubeadmBench(kubeadm) + "\n");

section("key service");
const keyService = await runKeyServiceBench(quick ? { durationMs: 1000, locateObjects: 5_000 } : {});
console.log("\n" + formatKeyServiceBench(keyService) + "\n");

section("revocation: OCSP responder, CRL with 100,000 revoked entries");
const revocation = await runRevocationBench(quick ? { durationMs: 1000, revokedEntries: 10_000 } : {});
console.log("\n" + formatOpsFigures("revocation over HTTPS", revocation) + "\n");

section("crypto backends (in-process)");
const crypto = await runCryptoBackendBench(quick ? { signMs: 300, keygenMs: 300 } : {});
console.log("\n" + formatCryptoBackendBench(crypto) + "\n");

let inventoryScale: InventoryScaleResult | undefined;
if (await postgresAvailable()) {
  section(`inventory at scale on PostgreSQL: ${scale} certificates + ${scale} managed objects`);
  inventoryScale = await runInventoryScaleBench({ scale, samples: quick ? 30 : 40 });
  console.log("\n" + formatInventoryScaleBench(inventoryScale) + "\n");
} else {
  console.log("inventory at scale: skipped (no PostgreSQL at KPKI_BENCH_POSTGRES or 127.0.0.1:5432)\n");
}

const env = environment(started, loadAverageStart);
const headlineList = headlines({ csrSigning, limits, kmip, kmsPlugin, issuanceScaling });
console.log(formatHeadlines(headlineList) + "\n");

writeFileSync(path.join(here, "results.json"), JSON.stringify({ ...env, headlines: headlineList, limits, csrSigning, issuanceScaling, kmip, kmsPlugin, issuance, kubeadm, keyService, revocation, crypto, inventoryScale }, null, 2) + "\n");
console.log(`wrote ${path.join(here, "results.json")}`);
if (quick) {
  console.log("--quick: bench/README.md and bench/chart.svg are left as they are (a smoke run is not a measurement)");
} else {
  writeFileSync(path.join(here, "chart.svg"), chartSvg(csrSigning, `CSR signing, kpki vs cfssl — ${env.date.slice(0, 10)}, ${env.machine.cpus} × ${env.machine.cpuModel}`));
  const readmePath = path.join(here, "README.md");
  writeFileSync(readmePath, replaceGenerated(readFileSync(readmePath, "utf8"), generatedReadme(env)));
  console.log(`wrote ${path.join(here, "chart.svg")} and the generated part of ${readmePath}`);
}

function generatedReadme(environmentFacts: BenchEnvironment): string {
  const m = environmentFacts.machine;
  const load = (values: readonly number[]) => values.map((l) => l.toFixed(1)).join(" / ");
  return [
    `Run of ${environmentFacts.date} (${environmentFacts.runs} runs per figure). Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; load average (1/5/15 min) ${load(m.loadAverageStart)} at the start, ${load(m.loadAverageEnd)} at the end.`,
    "",
    markdownTable([["component", "version"], ...Object.entries(environmentFacts.versions)]),
    "",
    "#### Headlines and targets",
    "",
    markdownTable(headlineRows(headlineList)),
    "",
    "![CSR signing, kpki vs cfssl](chart.svg)",
    "",
    "#### CSR signing over HTTPS: kpki, cfssl, cfssl with its certificate database",
    "",
    csrSigningMarkdown(csrSigning),
    "",
    "#### The limit: one thread, no framing, no storage",
    "",
    limitsMarkdown(limits),
    "",
    "#### CSR signing as the inventory grows (SQLite, concurrency 8)",
    "",
    scalingMarkdown(issuanceScaling),
    "",
    "#### KMIP over mutual TLS: kpki and pykmip-server",
    "",
    kmipMarkdown(kmip),
    "",
    "#### KMS v2 plugin",
    "",
    kmsPluginMarkdown(kmsPlugin),
    "",
    "The other benchmarks of the run (WebCrypto providers, kubeadm sets, key service, revocation, crypto backends, inventory at scale) are in `bench/results.json`; their analysis is below.",
  ].join("\n");
}

/**
 * `npm run bench`: every benchmark in one run on this machine, printed as one table and written to
 * bench/results.json. Figures are medians of several runs with their spread; compare ratios
 * measured in the same run, not absolute numbers across machines.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatCryptoBackendBench, runCryptoBackendBench } from "./crypto-backends.js";
import { formatInventoryScaleBench, postgresAvailable, runInventoryScaleBench, type InventoryScaleResult } from "./inventory-scale.js";
import { runIssuanceBench, type IssuanceFigure } from "./issuance.js";
import { formatKubeadmBench, runKubeadmBench } from "./kubeadm.js";
import { formatKeyServiceBench, formatOpsFigures, runKeyServiceBench } from "./key-service.js";
import { formatKmsPluginBench, runKmsPluginBench } from "./kms-plugin.js";
import { formatKmipBench, runKmipBench } from "./kmip.js";
import { runRevocationBench } from "./revocation.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
/**
 * Certificates and managed objects seeded for the inventory-at-scale bench: `--scale N` or
 * KPKI_BENCH_SCALE; 20,000 with --quick, else 100,000 (1,000,000 takes ~15 min to seed here).
 */
const scaleArgument = process.argv.indexOf("--scale");
const scale = Number(scaleArgument >= 0 ? process.argv[scaleArgument + 1] : (process.env.KPKI_BENCH_SCALE ?? (quick ? 20_000 : 100_000)));
if (!Number.isInteger(scale) || scale < 1_000) throw new Error("--scale (KPKI_BENCH_SCALE) must be an integer ≥ 1000");

function formatIssuance(figures: readonly IssuanceFigure[]): string {
  const rows = [["provider", "benchmark", "conc.", "req/s median (min–max)", "p50 ms", "p99 ms", "server CPU ms/req", "errors"]];
  for (const f of figures) {
    rows.push([
      f.provider,
      f.benchmark,
      String(f.concurrency),
      `${f.perSecond.median.toFixed(0)} (${f.perSecond.min.toFixed(0)}–${f.perSecond.max.toFixed(0)})`,
      f.p50Ms.toFixed(2),
      f.p99Ms.toFixed(2),
      f.serverCpuMsPerRequest === 0 ? "-" : f.serverCpuMsPerRequest.toFixed(2),
      String(f.errors),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")).join("\n");
}

const started = new Date();
console.log(`kpki bench — ${started.toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);

const issuance: IssuanceFigure[] = [];
for (const provider of ["node", "peculiar"] as const) {
  console.log(`issuance over HTTPS, provider ${provider} …`);
  issuance.push(...(await runIssuanceBench(provider, quick ? { runs: 1, durationMs: 1000, concurrencies: [8] } : {})));
}
console.log("\n" + formatIssuance(issuance) + "\n");

console.log("kubeadm control-plane sets …");
const kubeadm = await runKubeadmBench(quick ? 2 : 10);
console.log("\n" + formatKubeadmBench(kubeadm) + "\n");

console.log("key service …");
const keyService = await runKeyServiceBench(quick ? { durationMs: 1000, locateObjects: 5_000 } : {});
console.log("\n" + formatKeyServiceBench(keyService) + "\n");

console.log("KMS v2 plugin (gRPC over a unix socket; in-process and remote) …");
const kmsPlugin = await runKmsPluginBench(quick ? { durationMs: 1000, concurrencies: [1] } : {});
console.log("\n" + formatKmsPluginBench(kmsPlugin) + "\n");

console.log("revocation: OCSP responder, CRL with 100,000 revoked entries …");
const revocation = await runRevocationBench(quick ? { durationMs: 1000, revokedEntries: 10_000 } : {});
console.log("\n" + formatOpsFigures("revocation over HTTPS", revocation) + "\n");

console.log("KMIP over mutual TLS, kpki and pykmip-server …");
const kmip = await runKmipBench(quick ? { durationMs: 1000 } : {});
console.log("\n" + formatKmipBench(kmip) + "\n");

console.log("crypto backends (in-process) …");
const crypto = await runCryptoBackendBench(quick ? { signMs: 300, keygenMs: 300 } : {});
console.log("\n" + formatCryptoBackendBench(crypto) + "\n");

let inventoryScale: InventoryScaleResult | undefined;
if (await postgresAvailable()) {
  console.log(`inventory at scale on PostgreSQL: ${scale} certificates + ${scale} managed objects …`);
  inventoryScale = await runInventoryScaleBench({ scale, samples: quick ? 30 : 40 });
  console.log("\n" + formatInventoryScaleBench(inventoryScale) + "\n");
} else {
  console.log("inventory at scale: skipped (no PostgreSQL at KPKI_BENCH_POSTGRES or 127.0.0.1:5432)\n");
}

writeFileSync(
  path.join(here, "results.json"),
  JSON.stringify({ date: started.toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverage: loadavg(), issuance, kubeadm, keyService, kmsPlugin, revocation, kmip, crypto, inventoryScale }, null, 2) + "\n",
);
console.log(`wrote ${path.join(here, "results.json")}`);

/**
 * The one report of `npm run bench`: the headline comparisons (kpki next to its peers and next to
 * the hardware limit, each ratio measured in the same run) with the issue's targets, as a text table
 * for the terminal, as the generated part of bench/README.md, and as a chart (bench/chart.svg).
 */
import type { CsrSigningFigure } from "./csr-signing.js";
import type { LimitFigure, LimitOperation } from "./hardware-limit.js";
import { formatSpread } from "./https-client.js";
import type { IssuanceScalingFigure } from "./issuance-scaling.js";
import type { KmipFigure } from "./kmip.js";
import type { KmsPluginFigure } from "./kms-plugin.js";
import type { Spread } from "./spread.js";
import { markdownTable, textTable } from "./table.js";

export interface BenchEnvironment {
  readonly date: string;
  readonly quick: boolean;
  readonly runs: number;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number; readonly kernel: string; readonly loadAverageStart: readonly number[]; readonly loadAverageEnd: readonly number[] };
  readonly versions: Readonly<Record<string, string>>;
}

export interface HeadlineInputs {
  readonly csrSigning: readonly CsrSigningFigure[];
  readonly limits: readonly LimitFigure[];
  readonly kmip: readonly KmipFigure[];
  readonly kmsPlugin: readonly KmsPluginFigure[];
  readonly issuanceScaling: readonly IssuanceScalingFigure[];
}

/** One comparison against a target: what was measured, the ratio or figure, and whether it meets the target. */
export interface Headline {
  readonly what: string;
  readonly kpki: string;
  readonly against: string;
  readonly result: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

const n0 = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 0 });
const ratio = (spread: Spread) => `${spread.median.toFixed(2)}× (${spread.min.toFixed(2)}–${spread.max.toFixed(2)})`;
const percent = (value: number) => `${(100 * value).toFixed(value < 0.01 ? 2 : 1)} %`;

function limitOf(limits: readonly LimitFigure[], operation: LimitOperation, source: LimitFigure["source"]): number | undefined {
  return limits.find((l) => l.operation === operation && l.source === source)?.perSecond.median;
}

/** The headline comparisons and the issue's targets (benchmark figures, not tests). */
export function headlines(inputs: HeadlineInputs): Headline[] {
  const out: Headline[] = [];
  for (const keyType of ["ECDSA P-256", "RSA-2048"] as const) {
    const rows = inputs.csrSigning.filter((f) => f.keyType === keyType);
    // The comparison at the concurrency where kpki is fastest (its best offer), cfssl at the same concurrency.
    const best = rows.filter((f) => f.signer === "kpki").sort((a, b) => b.perSecond.median - a.perSecond.median)[0];
    if (best === undefined) continue;
    for (const peer of ["cfssl", "cfssl + certdb"] as const) {
      const other = rows.find((f) => f.signer === peer && f.concurrency === best.concurrency);
      if (other?.kpkiRatio === undefined) continue;
      out.push({
        what: `CSR signing over HTTPS, ${keyType}, concurrency ${best.concurrency}`,
        kpki: `${n0(best.perSecond.median)}/s`,
        against: `${peer} ${n0(other.perSecond.median)}/s`,
        result: ratio(other.kpkiRatio),
        target: keyType === "ECDSA P-256" && peer === "cfssl" ? "≥ 2× cfssl" : "—",
        met: keyType === "ECDSA P-256" && peer === "cfssl" ? other.kpkiRatio.median >= 2 : undefined,
      });
    }
    const operation = keyType === "ECDSA P-256" ? "ECDSA P-256 sign" : "RSA-2048 sign";
    for (const source of ["node:crypto", "openssl speed"] as const) {
      const limit = limitOf(inputs.limits, operation, source);
      if (limit === undefined) continue;
      const fraction = best.perSecond.median / limit;
      const targeted = keyType === "ECDSA P-256" && source === "node:crypto";
      out.push({
        what: `CSR signing, ${keyType}, as a fraction of raw signing (1 thread)`,
        kpki: `${n0(best.perSecond.median)}/s`,
        against: `${source} ${n0(limit)} signatures/s`,
        result: percent(fraction),
        target: targeted ? "≥ 25 %" : "—",
        met: targeted ? fraction >= 0.25 : undefined,
      });
    }
  }
  for (const benchmark of ["Create+Get+Destroy AES-256", "Encrypt AES-CBC 1 KiB", "Discover Versions (protocol cost)"]) {
    const ours = inputs.kmip.find((f) => f.server === "kpki" && f.benchmark === benchmark && f.connections === 1);
    const theirs = inputs.kmip.find((f) => f.server === "pykmip-server" && f.benchmark === benchmark && f.connections === 1);
    if (ours === undefined) continue;
    out.push({
      what: `KMIP ${benchmark}, one connection`,
      kpki: `${n0(ours.perSecond.median)} ops/s`,
      against: theirs === undefined ? "pykmip-server: not run" : `pykmip-server ${theirs.note ?? `${n0(theirs.perSecond.median)} ops/s`}`,
      result: theirs?.kpkiRatio === undefined ? "—" : ratio(theirs.kpkiRatio),
      target: "≥ 30× pykmip-server",
      met: theirs?.kpkiRatio === undefined ? undefined : theirs.kpkiRatio.median >= 30,
    });
  }
  const aes = limitOf(inputs.limits, "AES-256-GCM encrypt 1 KiB", "node:crypto");
  const kmipEncrypt = inputs.kmip.find((f) => f.server === "kpki" && f.benchmark === "Encrypt AES-GCM 1 KiB, 16 pipelined");
  if (aes !== undefined && kmipEncrypt !== undefined) {
    out.push({ what: "KMIP Encrypt 1 KiB (16 pipelined), as a fraction of raw AES-256-GCM", kpki: `${n0(kmipEncrypt.perSecond.median)} ops/s`, against: `node:crypto ${n0(aes)}/s`, result: percent(kmipEncrypt.perSecond.median / aes), target: "—", met: undefined });
  }
  for (const operation of ["Encrypt", "Decrypt"] as const) {
    const f = inputs.kmsPlugin.find((k) => k.mode === "in-process" && k.operation === operation && k.concurrency === 1);
    if (f === undefined) continue;
    out.push({ what: `KMS v2 plugin ${operation}, in-process, one at a time`, kpki: `p50 ${f.p50Ms.toFixed(3)} ms`, against: "—", result: `p99 ${f.p99Ms.toFixed(3)} ms`, target: "p99 < 1 ms", met: f.p99Ms < 1 });
  }
  const scaling = [...inputs.issuanceScaling].sort((a, b) => a.inventory - b.inventory);
  const [smallest, largest] = [scaling[0], scaling.at(-1)];
  if (smallest !== undefined && largest !== undefined && largest !== smallest) {
    out.push({
      what: `CSR signing as the inventory grows ${n0(smallest.inventory)} → ${n0(largest.inventory)} certificates`,
      kpki: `${n0(smallest.perSecond.median)} → ${n0(largest.perSecond.median)}/s`,
      against: "—",
      result: `p99 ${smallest.p99Ms.toFixed(0)} → ${largest.p99Ms.toFixed(0)} ms`,
      target: "—",
      met: undefined,
    });
  }
  return out;
}

const metText = (met: boolean | undefined) => (met === undefined ? "" : met ? "met" : "MISSED");

export function headlineRows(list: readonly Headline[]): string[][] {
  return [["comparison", "kpki", "against", "kpki ÷ against", "target", ""], ...list.map((h) => [h.what, h.kpki, h.against, h.result, h.target, metText(h.met)])];
}

export function formatHeadlines(list: readonly Headline[]): string {
  return ["headline comparisons (ratios per round, median and range)", textTable(headlineRows(list), "  ")].join("\n");
}

/** Markdown of the CSR signing comparison: one row per key type and concurrency, signers side by side. */
export function csrSigningMarkdown(figures: readonly CsrSigningFigure[]): string {
  const rows = [["key type", "conc.", "kpki /s", "p50 / p99 ms", "CPU ms/cert", "cfssl /s", "p50 / p99 ms", "CPU ms/cert", "cfssl + certdb /s", "p50 / p99 ms", "kpki ÷ cfssl", "kpki ÷ cfssl + certdb"]];
  const keys = [...new Set(figures.map((f) => `${f.keyType}|${f.concurrency}`))];
  for (const key of keys) {
    const [keyType = "", concurrency = ""] = key.split("|");
    const of = (signer: CsrSigningFigure["signer"]) => figures.find((f) => f.keyType === keyType && String(f.concurrency) === concurrency && f.signer === signer);
    const cells = (f: CsrSigningFigure | undefined) => (f === undefined ? ["—", "—"] : [formatSpread(f.perSecond), `${f.p50Ms.median.toFixed(1)} / ${f.p99Ms.median.toFixed(1)}`]);
    const [kpki, cfssl, certdb] = [of("kpki"), of("cfssl"), of("cfssl + certdb")];
    rows.push([keyType, concurrency, ...cells(kpki), kpki?.serverCpuMs.toFixed(2) ?? "—", ...cells(cfssl), cfssl?.serverCpuMs.toFixed(2) ?? "—", ...cells(certdb), cfssl?.kpkiRatio === undefined ? "—" : ratio(cfssl.kpkiRatio), certdb?.kpkiRatio === undefined ? "—" : ratio(certdb.kpkiRatio)]);
  }
  return markdownTable(rows);
}

export function limitsMarkdown(limits: readonly LimitFigure[]): string {
  return markdownTable([["operation (one thread)", "source", "per second, median (min–max)"], ...limits.map((l) => [l.operation, l.source, formatSpread(l.perSecond)])]);
}

export function scalingMarkdown(figures: readonly IssuanceScalingFigure[]): string {
  return markdownTable([
    ["certificates in the inventory", "signed /s, median (min–max)", "p50 ms", "p99 ms", "errors", "seed s"],
    ...figures.map((f) => [n0(f.inventory), formatSpread(f.perSecond), f.p50Ms.toFixed(1), f.p99Ms.toFixed(1), String(f.errors), f.seedSeconds.toFixed(1)]),
  ]);
}

export function kmipMarkdown(figures: readonly KmipFigure[]): string {
  return markdownTable([
    ["server", "benchmark", "conn.", "ops/s, median (min–max)", "p50 ms", "p99 ms", "errors", "kpki ÷ this"],
    ...figures.map((f) => {
      const ms = (v: number) => (f.note !== undefined || Number.isNaN(v) ? "—" : v.toFixed(2));
      return [f.server, f.benchmark, String(f.connections), f.note ?? formatSpread(f.perSecond), ms(f.p50Ms), ms(f.p99Ms), String(f.errors), f.kpkiRatio === undefined ? "" : ratio(f.kpkiRatio)];
    }),
  ]);
}

export function kmsPluginMarkdown(figures: readonly KmsPluginFigure[]): string {
  return markdownTable([["mode", "operation", "conc.", "ops/s, median (min–max)", "p50 ms", "p99 ms", "errors"], ...figures.map((f) => [f.mode, f.operation, String(f.concurrency), formatSpread(f.perSecond), f.p50Ms.toFixed(3), f.p99Ms.toFixed(3), String(f.errors)])]);
}

/**
 * A self-contained SVG: CSR signing throughput per concurrency (kpki, cfssl, cfssl + certdb) for
 * each key type, on one linear axis, with kpki's ratio to plain cfssl written above each group.
 */
export function chartSvg(figures: readonly CsrSigningFigure[], title: string): string {
  const signers = ["kpki", "cfssl", "cfssl + certdb"] as const;
  const colours: Record<(typeof signers)[number], string> = { kpki: "#2b6cb0", cfssl: "#dd6b20", "cfssl + certdb": "#9c4221" };
  const keyTypes = [...new Set(figures.map((f) => f.keyType))];
  const concurrencies = [...new Set(figures.map((f) => f.concurrency))].sort((a, b) => a - b);
  const max = Math.max(1, ...figures.map((f) => f.perSecond.max));
  const [panelWidth, plotHeight, top, left, bar, gap] = [360, 220, 60, 60, 22, 26];
  const width = left + keyTypes.length * panelWidth + 20;
  const height = top + plotHeight + 90;
  const y = (value: number) => top + plotHeight - (plotHeight * value) / max;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="40" fill="#555">certificates signed per second over HTTPS (median; whisker: min–max of the runs); ×: kpki ÷ cfssl in the same round</text>`,
  ];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max * tick) / 4;
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(value)}" y2="${y(value)}" stroke="#e2e8f0"/>`, `<text x="${left - 6}" y="${y(value) + 4}" text-anchor="end" fill="#555">${n0(value)}</text>`);
  }
  keyTypes.forEach((keyType, panel) => {
    const x0 = left + panel * panelWidth + 20;
    const groupWidth = signers.length * bar + gap;
    parts.push(`<text x="${x0 + (concurrencies.length * groupWidth) / 2}" y="${top + plotHeight + 42}" text-anchor="middle" font-weight="bold">${escapeXml(keyType)} CSRs</text>`);
    concurrencies.forEach((concurrency, group) => {
      const gx = x0 + group * groupWidth;
      parts.push(`<text x="${gx + (signers.length * bar) / 2}" y="${top + plotHeight + 18}" text-anchor="middle">c=${concurrency}</text>`);
      signers.forEach((signer, i) => {
        const f = figures.find((g) => g.keyType === keyType && g.concurrency === concurrency && g.signer === signer);
        if (f === undefined) return;
        const bx = gx + i * bar;
        parts.push(
          `<rect x="${bx}" y="${y(f.perSecond.median)}" width="${bar - 3}" height="${top + plotHeight - y(f.perSecond.median)}" fill="${colours[signer]}"><title>${escapeXml(`${signer}, ${keyType}, c=${concurrency}: ${formatSpread(f.perSecond)}/s`)}</title></rect>`,
          `<line x1="${bx + (bar - 3) / 2}" x2="${bx + (bar - 3) / 2}" y1="${y(f.perSecond.min)}" y2="${y(f.perSecond.max)}" stroke="#1a202c"/>`,
        );
      });
      const cfssl = figures.find((g) => g.keyType === keyType && g.concurrency === concurrency && g.signer === "cfssl");
      if (cfssl?.kpkiRatio !== undefined) {
        const highest = Math.max(...figures.filter((g) => g.keyType === keyType && g.concurrency === concurrency).map((g) => g.perSecond.max));
        parts.push(`<text x="${gx + (signers.length * bar) / 2}" y="${y(highest) - 6}" text-anchor="middle" fill="#2b6cb0">${cfssl.kpkiRatio.median.toFixed(2)}×</text>`);
      }
    });
  });
  signers.forEach((signer, i) => {
    const lx = left + i * 150;
    parts.push(`<rect x="${lx}" y="${height - 22}" width="12" height="12" fill="${colours[signer]}"/>`, `<text x="${lx + 18}" y="${height - 12}">${escapeXml(signer)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Replaces the generated part of bench/README.md (between the markers), keeping the hand-written rest. */
export function replaceGenerated(readme: string, generated: string): string {
  const begin = "<!-- BEGIN GENERATED by npm run bench: do not edit by hand -->";
  const end = "<!-- END GENERATED -->";
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`bench/README.md has no generated section (${begin} … ${end})`);
  return readme.slice(0, from + begin.length) + "\n" + generated.trim() + "\n" + readme.slice(to);
}

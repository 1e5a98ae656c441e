/**
 * Profiles the hottest path, CSR signing over HTTPS: a `kpki serve` under `node --cpu-prof` takes a
 * closed loop of ECDSA P-256 CSR sign requests (profile `client`), then the profile's self time is
 * summed per function and per package, so the bench README's before/after can name where the time
 * goes. `npx tsx bench/profile-issuance.ts [--seconds 8] [--concurrency 8] [--out DIR]`.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closedLoop, createClient } from "./https-client.js";
import { makeCsrs } from "./csrs.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const argument = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};

/** Where a frame's code lives: a package under node_modules, node's own, or kpki's. */
function owner(url: string): string {
  if (url === "") return "(native / V8)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  if (url.startsWith("node:")) return "node:" + (url.slice(5).split("/")[0] ?? "");
  const own = /\/(src|dist)\/(.*)$/.exec(url);
  return own?.[2] !== undefined ? `kpki ${own[2].split("/").slice(0, -1).join("/")}` : url;
}

export function summariseProfile(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfMicros].filter(([id]) => ["(idle)", "(program)"].includes(byId.get(id)?.callFrame.functionName ?? "")).reduce((a, [, v]) => a + v, 0);
  const sum = (keyOf: (node: ProfileNode) => string) => {
    const out = new Map<string, number>();
    for (const [id, micros] of selfMicros) {
      const node = byId.get(id);
      if (node !== undefined) out.set(keyOf(node), (out.get(keyOf(node)) ?? 0) + micros);
    }
    return [...out].sort((a, b) => b[1] - a[1]).slice(0, top);
  };
  const pct = (micros: number) => `${((100 * micros) / total).toFixed(1).padStart(5)} %`;
  const lines = [`profile: ${(total / 1e6).toFixed(1)} s sampled, ${pct(idle)} idle/program`, "", "self time by package / module:"];
  for (const [key, micros] of sum((node) => owner(node.callFrame.url))) lines.push(`  ${pct(micros)}  ${key}`);
  lines.push("", "self time by function:");
  for (const [key, micros] of sum((node) => `${node.callFrame.functionName || "(anonymous)"}  ${owner(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`)) lines.push(`  ${pct(micros)}  ${key}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const seconds = Number(argument("--seconds", "8"));
  const concurrency = Number(argument("--concurrency", "8"));
  const out = argument("--out", mkdtempSync(path.join(os.tmpdir(), "kpki-profile-")));
  const server = await startBenchServer({}, ["--cpu-prof", `--cpu-prof-dir=${out}`]);
  const admin = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
  const created = await admin.call("POST", "/v1/authorities", { name: "bench-ec", type: "intermediate", parent: "kpki-root", subject: { commonName: "bench-ec" }, keyAlgorithm: "ECDSA-P256" });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const csrs = makeCsrs("ec", 16);
  const client = createClient(server.url, server.caBundle, BENCH_TOKEN, concurrency);
  const send = async (i: number) => (await client.call("POST", "/v1/certificates", { ca: "bench-ec", profile: "client", csr: csrs[i % csrs.length] })).status === 201;
  await closedLoop(concurrency, 1000, send);
  const result = await closedLoop(concurrency, seconds * 1000, send);
  console.log(`sign CSR ECDSA P-256, concurrency ${concurrency}: ${result.perSecond.toFixed(0)}/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, errors ${result.errors}`);
  client.close();
  admin.close();
  await server.stop();
  const file = readdirSync(out).find((name) => name.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`no profile written to ${out}`);
  console.log(`${path.join(out, file)}\n`);
  console.log(summariseProfile(JSON.parse(readFileSync(path.join(out, file), "utf8")) as CpuProfile));
}

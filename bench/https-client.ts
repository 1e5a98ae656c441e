/** A keep-alive HTTPS JSON client and a closed-loop load generator for benchmarks. */
import { Agent, request } from "node:https";
import type { Spread } from "./spread.js";

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

/** A binary answer (CRLs, OCSP responses). */
export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
}

export function createClient(baseUrl: string, caPem: string, token: string, sockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, ca: caPem });
  /** One request on the keep-alive agent; `payload` with its content type, `accept` for the answer. */
  const send = (method: string, path: string, payload: { body: Buffer; type: string } | undefined, accept: string): Promise<RawResponse> =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(path, baseUrl),
        {
          method,
          agent,
          headers: { Authorization: `Bearer ${token}`, Accept: accept, ...(payload === undefined ? {} : { "Content-Type": payload.type, "Content-Length": payload.body.length }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on("error", reject);
      req.end(payload?.body);
    });
  const call = async (method: string, path: string, body?: unknown): Promise<JsonResponse> => {
    const payload = body === undefined ? undefined : { body: Buffer.from(JSON.stringify(body)), type: "application/json" };
    const answer = await send(method, path, payload, "application/json");
    return { status: answer.status, body: JSON.parse(answer.body.toString() || "null") as unknown };
  };
  const raw = (method: string, path: string, body: Buffer | undefined, contentType: string, accept: string): Promise<RawResponse> =>
    send(method, path, body === undefined ? undefined : { body, type: contentType }, accept);
  return { call, raw, close: () => agent.destroy() };
}

/** Result of a closed-loop run: `concurrency` workers each sending the next request when one returns. */
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function closedLoop(concurrency: number, durationMs: number, send: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const ok = await send(next++);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

/** Median and spread (min–max) of several runs' figures. */
export function median(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const med = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median: med, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** Several closed-loop runs of the same load: the rate as median and spread, latencies of the median run. */
export interface RepeatedResult {
  readonly perSecond: Spread;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly runs: readonly LoadResult[];
}

/** Number of measured runs per figure (after one warm-up); `KPKI_BENCH_RUNS` or 3 (`--quick`: 1). */
export const RUNS = Number(process.env.KPKI_BENCH_RUNS ?? (process.argv.includes("--quick") ? 1 : 3));

/** A short warm-up (connections, JIT, caches), then `runs` closed-loop runs of `durationMs`. */
export async function repeatedLoop(concurrency: number, durationMs: number, send: (i: number) => Promise<boolean>, runs = RUNS): Promise<RepeatedResult> {
  await closedLoop(concurrency, Math.min(500, durationMs / 4), send);
  const results: LoadResult[] = [];
  for (let run = 0; run < runs; run++) results.push(await closedLoop(concurrency, durationMs, send));
  return summariseRuns(results);
}

/** Median and spread of the runs' rates; p50/p99 of the median run (percentiles of different runs do not average). */
export function summariseRuns(results: readonly LoadResult[]): RepeatedResult {
  const middle = [...results].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(results.length / 2)];
  return {
    perSecond: median(results.map((r) => r.perSecond)),
    p50Ms: middle?.p50Ms ?? 0,
    p99Ms: middle?.p99Ms ?? 0,
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    runs: results,
  };
}

/** "1,234 (1,100–1,300)": a rate with its spread. */
export function formatSpread(spread: Spread, digits = 0): string {
  const f = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${f(spread.median)} (${f(spread.min)}–${f(spread.max)})`;
}

/**
 * The limit of this machine for the operations kpki's figures are made of, so each kpki figure can
 * also be read as a fraction of what the hardware can do: raw signatures and AES-GCM encryptions per
 * second on one thread, in this process (`node:crypto` on a KeyObject: no WebCrypto, no framing, no
 * storage) and from `openssl speed` (OpenSSL's own loop, the same library Node links). Several runs
 * each: medians with their spread.
 */
import { execFileSync } from "node:child_process";
import { createCipheriv, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { median } from "./https-client.js";
import type { Spread } from "./spread.js";

export type LimitOperation = "ECDSA P-256 sign" | "RSA-2048 sign" | "AES-256-GCM encrypt 1 KiB";

export interface LimitFigure {
  readonly operation: LimitOperation;
  readonly source: "node:crypto" | "openssl speed";
  /** Operations per second on one thread. */
  readonly perSecond: Spread;
}

/** About the size of a leaf certificate's TBSCertificate, as kpki signs it. */
const TBS = randomBytes(1024);

function opsFor(ms: number, operation: () => void): number {
  for (let i = 0; i < 50; i++) operation(); // JIT
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 10; i++) operation();
    done += 10;
  }
  return (done * 1000) / (performance.now() - start);
}

function nodeLimits(runs: number, ms: number): LimitFigure[] {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const aesKey = randomBytes(32);
  const plaintext = randomBytes(1024);
  const signWith = (key: KeyObject) => () => sign("sha256", TBS, key);
  const encrypt = () => {
    const cipher = createCipheriv("aes-256-gcm", aesKey, randomBytes(12));
    cipher.update(plaintext);
    cipher.final();
    cipher.getAuthTag();
  };
  const cases: [LimitOperation, () => unknown][] = [
    ["ECDSA P-256 sign", signWith(ec)],
    ["RSA-2048 sign", signWith(rsa)],
    ["AES-256-GCM encrypt 1 KiB", encrypt],
  ];
  return cases.map(([operation, run]) => ({ operation, source: "node:crypto", perSecond: median(Array.from({ length: runs }, () => opsFor(ms, run))) }));
}

/** Parses `openssl speed` output: sign/s of "rsa 2048 bits" and "256 bits ecdsa (nistp256)", and AES-GCM 1024-byte throughput. */
export function parseOpensslSpeed(output: string): Partial<Record<LimitOperation, number>> {
  const found: Partial<Record<LimitOperation, number>> = {};
  const rsa = /^rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)/m.exec(output);
  if (rsa?.[1] !== undefined) found["RSA-2048 sign"] = Number(rsa[1]);
  const ecdsa = /^\s*256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)/m.exec(output);
  if (ecdsa?.[1] !== undefined) found["ECDSA P-256 sign"] = Number(ecdsa[1]);
  // "The 'numbers' are in 1000s of bytes per second processed."
  const gcm = /^AES-256-GCM\s+([\d.]+)k/m.exec(output);
  if (gcm?.[1] !== undefined) found["AES-256-GCM encrypt 1 KiB"] = (Number(gcm[1]) * 1000) / 1024;
  return found;
}

function opensslLimits(runs: number, seconds: number): LimitFigure[] {
  const samples = new Map<LimitOperation, number[]>();
  for (let run = 0; run < runs; run++) {
    const speed = (args: readonly string[]) => execFileSync("openssl", ["speed", "-seconds", String(seconds), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const parsed = parseOpensslSpeed(speed(["ecdsap256", "rsa2048"]) + speed(["-evp", "aes-256-gcm", "-bytes", "1024"]));
    for (const [operation, value] of Object.entries(parsed) as [LimitOperation, number][]) samples.set(operation, [...(samples.get(operation) ?? []), value]);
  }
  return [...samples].map(([operation, values]) => ({ operation, source: "openssl speed", perSecond: median(values) }));
}

export function runHardwareLimitBench(options: { runs?: number; nodeMs?: number; opensslSeconds?: number } = {}): LimitFigure[] {
  const runs = options.runs ?? 3;
  return [...nodeLimits(runs, options.nodeMs ?? 1000), ...opensslLimits(runs, options.opensslSeconds ?? 1)];
}

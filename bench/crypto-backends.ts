/**
 * Compares the WebCrypto providers behind the soft CryptoBackend with raw node:crypto.
 * Run: `npx tsx bench/crypto-backends.ts`. `npm run bench` imports `runCryptoBackendBench`.
 * Single process, so the figures are per event loop; node's webcrypto runs sign, keygen and cipher
 * jobs on the libuv thread pool, so its concurrent figures may use more than one core.
 * Symmetric figures (the KMS v2 hot path, ARCHITECTURE.md §5): AES-256-GCM encrypt and decrypt of a
 * 32-byte DEK and of 1 KiB through the backend with a warm key cache, next to node:crypto
 * createCipheriv / createDecipheriv on a KeyObject (the limit for this process).
 */
import { Crypto as PeculiarCrypto } from "@peculiar/webcrypto";
import { createCipheriv, createDecipheriv, createSecretKey, generateKeyPair, randomBytes, sign as nodeSign, type KeyObject } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { KeyAlgorithm, SignatureAlgorithm } from "../src/core/crypto/algorithms.js";
import type { CipherParameters } from "../src/core/crypto/secret-algorithms.js";
import { createMasterKeyRing, MasterKey } from "../src/infra/crypto/master-key.js";
import { NodeRandomSource } from "../src/infra/crypto/node-random.js";
import type { WebCryptoProvider } from "../src/infra/crypto/webcrypto-algorithms.js";
import { WebCryptoBackend } from "../src/infra/crypto/webcrypto-backend.js";
import { textTable } from "./table.js";

/** One measured figure. */
export interface Result {
  readonly provider: string;
  readonly operation: "generateKeyPair" | "sign" | "encrypt" | "decrypt" | "mac";
  readonly algorithm: string;
  /** Operations kept in flight at once. */
  readonly concurrency: number;
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly microsPerOp: number;
}

/** How long each figure runs; keygen counts are fixed because RSA takes hundreds of ms per key. */
export interface CryptoBenchOptions {
  readonly signMs?: number;
  /** Window of each encrypt / decrypt / MAC figure; default signMs. */
  readonly cipherMs?: number;
  readonly keygenMs?: number;
  readonly concurrency?: number;
}

const RAW = "node:crypto (raw KeyObject)";
const KEYGEN_COUNTS: Readonly<Record<KeyAlgorithm, number | undefined>> = {
  "ECDSA-P256": undefined, // undefined: as many as fit in keygenMs
  "ECDSA-P384": undefined,
  Ed25519: undefined,
  "RSA-2048": 5,
  "RSA-3072": 2,
  "RSA-4096": 1,
};

function keygenLimit(algorithm: KeyAlgorithm, keygenMs: number): Limit {
  const count = KEYGEN_COUNTS[algorithm];
  return count === undefined ? { ms: keygenMs } : { count };
}
const SIGN_CASES: readonly { key: KeyAlgorithm; signature: SignatureAlgorithm; label: string; hash: string | null }[] = [
  { key: "ECDSA-P256", signature: "ECDSA-SHA256", label: "ECDSA-P256 SHA-256", hash: "sha256" },
  { key: "ECDSA-P384", signature: "ECDSA-SHA384", label: "ECDSA-P384 SHA-384", hash: "sha384" },
  { key: "RSA-2048", signature: "RSA-PKCS1-SHA256", label: "RSA-2048 PKCS#1 SHA-256", hash: "sha256" },
  { key: "Ed25519", signature: "Ed25519", label: "Ed25519", hash: null },
];
/** About the size of a to-be-signed leaf certificate. */
const TBS = randomBytes(1024);
/** A KMS v2 DEK (what kube-apiserver asks the plugin to wrap) and a 1 KiB message. */
const CIPHER_SIZES: readonly [string, number][] = [
  ["AES-256-GCM 32 B", 32],
  ["AES-256-GCM 1 KiB", 1024],
];

const generateNodeKeyPair = promisify(generateKeyPair);

/** Runs every figure and returns them (also printed by the CLI entry point below). */
export async function runCryptoBackendBench(options: CryptoBenchOptions = {}): Promise<Result[]> {
  const signMs = options.signMs ?? 1000;
  const keygenMs = options.keygenMs ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const random = new NodeRandomSource();
  const keyRing = createMasterKeyRing(MasterKey.generate(random));
  const providers: readonly [string, WebCryptoProvider][] = [
    ["node webcrypto", globalThis.crypto],
    ["@peculiar/webcrypto", new PeculiarCrypto()],
  ];
  const results: Result[] = [];

  for (const [name, provider] of providers) {
    const backend = new WebCryptoBackend({ crypto: provider, keyRing, random });
    for (const algorithm of Object.keys(KEYGEN_COUNTS) as KeyAlgorithm[]) {
      results.push(await measure(name, "generateKeyPair", algorithm, 1, keygenLimit(algorithm, keygenMs), () => backend.generateKeyPair(algorithm)));
    }
  }
  for (const algorithm of Object.keys(KEYGEN_COUNTS) as KeyAlgorithm[]) {
    results.push(await measure(RAW, "generateKeyPair", algorithm, 1, keygenLimit(algorithm, keygenMs), () => rawKeyPair(algorithm)));
  }

  for (const test of SIGN_CASES) {
    const raw = await rawKeyPair(test.key);
    for (const [name, provider] of providers) {
      const backend = new WebCryptoBackend({ crypto: provider, keyRing, random });
      const { handle } = await backend.generateKeyPair(test.key);
      const run = (): Promise<Uint8Array> => backend.sign(handle, test.signature, TBS);
      await run(); // warm the key cache
      results.push(await measure(name, "sign", test.label, 1, { ms: signMs }, run));
      results.push(await measure(name, "sign", test.label, concurrency, { ms: signMs }, run));
    }
    results.push(await measure(RAW, "sign", test.label, 1, { ms: signMs }, async () => nodeSign(test.hash, TBS, raw.privateKey)));
  }
  results.push(...(await cipherFigures(providers, keyRing, random, options.cipherMs ?? signMs, concurrency)));
  return results;
}

/** AES-256-GCM encrypt / decrypt and HMAC-SHA256 through each provider (warm cache), then raw node:crypto. */
async function cipherFigures(
  providers: readonly [string, WebCryptoProvider][],
  keyRing: ReturnType<typeof createMasterKeyRing>,
  random: NodeRandomSource,
  ms: number,
  concurrency: number,
): Promise<Result[]> {
  const results: Result[] = [];
  const iv = randomBytes(12); // a fixed IV is fine for timing, never for real data
  const aad = randomBytes(16);
  const parameters: CipherParameters = { mode: "AES-GCM", iv, aad };
  for (const [label, size] of CIPHER_SIZES) {
    const plaintext = randomBytes(size);
    let raw: Uint8Array | undefined;
    for (const [name, provider] of providers) {
      const backend = new WebCryptoBackend({ crypto: provider, keyRing, random });
      const handle = await backend.generateSecret("AES", 256);
      raw ??= await backend.exportSecret(handle);
      const { ciphertext, tag } = await backend.encrypt(handle, parameters, plaintext); // also warms the cache
      const encrypt = (): Promise<unknown> => backend.encrypt(handle, parameters, plaintext);
      const decrypt = (): Promise<unknown> => backend.decrypt(handle, parameters, ciphertext, tag);
      results.push(await measure(name, "encrypt", label, 1, { ms }, encrypt));
      results.push(await measure(name, "encrypt", label, concurrency, { ms }, encrypt));
      results.push(await measure(name, "decrypt", label, 1, { ms }, decrypt));
      results.push(await measure(name, "decrypt", label, concurrency, { ms }, decrypt));
      if (size === 32) {
        const hmac = await backend.generateSecret("HMAC-SHA256", 256);
        results.push(await measure(name, "mac", "HMAC-SHA256 32 B", 1, { ms }, () => backend.mac(hmac, plaintext)));
      }
    }
    if (raw === undefined) continue;
    const key = createSecretKey(raw);
    const sealed = rawGcmEncrypt(key, iv, aad, plaintext);
    results.push(await measure(RAW, "encrypt", label, 1, { ms }, async () => rawGcmEncrypt(key, iv, aad, plaintext)));
    results.push(await measure(RAW, "decrypt", label, 1, { ms }, async () => rawGcmDecrypt(key, iv, aad, sealed.ciphertext, sealed.tag)));
  }
  return results;
}

function rawGcmEncrypt(key: KeyObject, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

function rawGcmDecrypt(key: KeyObject, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function rawKeyPair(algorithm: KeyAlgorithm): Promise<{ privateKey: KeyObject }> {
  switch (algorithm) {
    case "ECDSA-P256":
      return generateNodeKeyPair("ec", { namedCurve: "P-256" });
    case "ECDSA-P384":
      return generateNodeKeyPair("ec", { namedCurve: "P-384" });
    case "Ed25519":
      return generateNodeKeyPair("ed25519");
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return generateNodeKeyPair("rsa", { modulusLength: Number(algorithm.slice(4)) });
  }
}

/** Either a fixed number of sequential runs (slow RSA keygen) or as many as fit in a time window. */
type Limit = { readonly count: number } | { readonly ms: number };

async function measure(
  provider: string,
  operation: Result["operation"],
  algorithm: string,
  concurrency: number,
  limit: Limit,
  run: () => Promise<unknown>,
): Promise<Result> {
  if ("ms" in limit) await runFor(concurrency, Math.min(200, limit.ms / 5), run); // warm-up (JIT, caches)
  const start = performance.now();
  let ops: number;
  if ("count" in limit) {
    for (let i = 0; i < limit.count; i++) await run();
    ops = limit.count;
  } else {
    ops = await runFor(concurrency, limit.ms, run);
  }
  const elapsedMs = performance.now() - start;
  return { provider, operation, algorithm, concurrency, ops, opsPerSecond: (ops * 1000) / elapsedMs, microsPerOp: (elapsedMs * 1000) / ops };
}

/** `concurrency` callers, each calling `run` back to back until the window closes; returns the count. */
async function runFor(concurrency: number, ms: number, run: () => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  const caller = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await run();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return done;
}

/** The results as a text table: one row per figure, providers side by side. */
export function formatCryptoBackendBench(results: readonly Result[]): string {
  const providers = [...new Set(results.map((r) => r.provider))];
  const rows = [...new Set(results.map((r) => `${r.operation}|${r.algorithm}|${r.concurrency}`))];
  const cell = (r: Result | undefined): string =>
    r === undefined ? "—" : `${formatRate(r.opsPerSecond)}/s (${formatMicros(r.microsPerOp)} µs)`;
  const table = [["operation", "algorithm", "in flight", ...providers]];
  for (const row of rows) {
    const [operation, algorithm, concurrency] = row.split("|") as [string, string, string];
    const of = (p: string): Result | undefined =>
      results.find((r) => r.provider === p && r.operation === operation && r.algorithm === algorithm && String(r.concurrency) === concurrency);
    table.push([operation, algorithm, concurrency, ...providers.map((p) => cell(of(p)))]);
  }
  return textTable(table);
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString("en-US") : perSecond.toFixed(2);
}

function formatMicros(micros: number): string {
  return micros >= 1000 ? Math.round(micros).toLocaleString("en-US") : micros.toFixed(1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runCryptoBackendBench();
  console.log(`Node ${process.version}, ${cpus().length} CPU(s), load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
  console.log(formatCryptoBackendBench(results));
}

import { generateKeyPair } from "node:crypto";
import { isKeyAlgorithm, type KeyAlgorithm } from "../../core/crypto/algorithms.js";
import type { EphemeralKeyGenerator, EphemeralKeyPair } from "../../core/pki/ports.js";
import { DomainError, invalidInput } from "../../core/shared/domain-error.js";

/** The key sizes worth pooling: only RSA generation is slow (≈ 300 ms for 2048 bits, seconds for 4096). */
export type RsaKeyAlgorithm = "RSA-2048" | "RSA-3072" | "RSA-4096";
const RSA_ALGORITHMS: readonly RsaKeyAlgorithm[] = ["RSA-2048", "RSA-3072", "RSA-4096"];

/** Ready keys kept per RSA size unless configured: kubelet-style leaf keys are mostly RSA-2048. */
export const DEFAULT_POOL_SIZES: Readonly<Record<RsaKeyAlgorithm, number>> = { "RSA-2048": 4, "RSA-3072": 1, "RSA-4096": 1 };

/** Settings of the pool. */
export interface EphemeralKeyPoolOptions {
  /** Ready keys per RSA size; 0 turns pooling off for that size. Missing sizes take DEFAULT_POOL_SIZES. */
  readonly poolSizes?: Partial<Record<RsaKeyAlgorithm, number>>;
  /** Makes one key pair; default `generateNodeKeyPair` (node:crypto, off the event loop). */
  readonly generate?: (algorithm: KeyAlgorithm) => Promise<EphemeralKeyPair>;
  /** Pause before retrying after a failed background generation; default 5000 ms. */
  readonly retryDelayMs?: number;
}

const DER = { publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "der" } } as const;

/**
 * One key pair from node:crypto's asynchronous `generateKeyPair`, which runs on the libuv thread
 * pool: the event loop keeps serving requests while a prime search is running.
 */
export async function generateNodeKeyPair(algorithm: KeyAlgorithm): Promise<EphemeralKeyPair> {
  const pair = await generateDer(algorithm);
  // Views, not copies: wiping privateKeyPkcs8 then wipes the only JavaScript copy of the key.
  return { algorithm, privateKeyPkcs8: view(pair.privateKey), publicKeySpki: view(pair.publicKey) };
}

function view(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

type DerPair = { publicKey: Buffer; privateKey: Buffer };
type DerCallback = (error: Error | null, publicKey: Buffer, privateKey: Buffer) => void;

function generateDer(algorithm: KeyAlgorithm): Promise<DerPair> {
  switch (algorithm) {
    case "ECDSA-P256":
      return derPair((done) => generateKeyPair("ec", { namedCurve: "P-256", ...DER }, done));
    case "ECDSA-P384":
      return derPair((done) => generateKeyPair("ec", { namedCurve: "P-384", ...DER }, done));
    case "Ed25519":
      return derPair((done) => generateKeyPair("ed25519", DER, done));
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return derPair((done) => generateKeyPair("rsa", { modulusLength: Number(algorithm.slice(4)), publicExponent: 0x10001, ...DER }, done));
  }
}

function derPair(start: (done: DerCallback) => void): Promise<DerPair> {
  return new Promise((resolve, reject) => {
    start((error, publicKey, privateKey) => (error === null ? resolve({ publicKey, privateKey }) : reject(error)));
  });
}

/**
 * Server-side key generation for leaf certificates (`EphemeralKeyGenerator`). EC and Ed25519 keys
 * are made on demand (well under a millisecond). For RSA a few keys are kept ready in memory and
 * refilled in the background one at a time, so a request takes a ready key instead of waiting
 * for a prime search; an empty pool falls back to generating on demand. Every key, pooled or not,
 * is handed out exactly once and never stored or logged.
 */
export class EphemeralKeyPool implements EphemeralKeyGenerator {
  readonly #sizes: Readonly<Record<RsaKeyAlgorithm, number>>;
  readonly #generate: (algorithm: KeyAlgorithm) => Promise<EphemeralKeyPair>;
  readonly #retryDelayMs: number;
  readonly #ready = new Map<RsaKeyAlgorithm, EphemeralKeyPair[]>(RSA_ALGORITHMS.map((a) => [a, []]));
  #running = false;
  /** The single background generation loop, while it runs. */
  #refill: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(options: EphemeralKeyPoolOptions = {}) {
    const sizes = { ...DEFAULT_POOL_SIZES, ...options.poolSizes };
    for (const algorithm of RSA_ALGORITHMS) {
      const size = sizes[algorithm];
      if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`pool size for ${algorithm} must be a non-negative integer, got ${size}`);
    }
    this.#sizes = sizes;
    this.#generate = options.generate ?? generateNodeKeyPair;
    this.#retryDelayMs = options.retryDelayMs ?? 5000;
  }

  /** Starts filling the pools in the background. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#scheduleRefill(0);
  }

  /**
   * Cancels refills, wipes and drops every ready key, and resolves once a generation that was
   * already running has finished (its key is discarded), so nothing is left pending.
   */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#drop();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(new DomainError("unavailable", "the ephemeral key pool was stopped"));
    await this.#refill;
  }

  async generate(algorithm: KeyAlgorithm): Promise<EphemeralKeyPair> {
    if (!isKeyAlgorithm(algorithm)) throw invalidInput("algorithm", `unknown key algorithm ${String(algorithm)}`);
    if (isRsa(algorithm)) {
      const pooled = this.#ready.get(algorithm)?.shift(); // shift: each pooled key leaves the pool once
      if (pooled !== undefined) {
        this.#scheduleRefill(0);
        return pooled;
      }
    }
    return this.#generate(algorithm);
  }

  /** How many keys of this algorithm are ready right now (0 for algorithms that are not pooled). */
  readyCount(algorithm: KeyAlgorithm): number {
    return isRsa(algorithm) ? (this.#ready.get(algorithm)?.length ?? 0) : 0;
  }

  /** Resolves when every pool is full (e.g. for a readiness probe); rejects if the pool stops first. */
  whenFilled(): Promise<void> {
    if (this.#deficient() === undefined) return Promise.resolve();
    if (!this.#running) return Promise.reject(new DomainError("unavailable", "the ephemeral key pool is not running"));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #scheduleRefill(delayMs: number): void {
    if (!this.#running || this.#refill !== undefined || this.#timer !== undefined) return;
    // unref: a waiting refill never keeps the process (or a test run) alive.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#running || this.#refill !== undefined) return;
      this.#refill = this.#refillLoop().then((failed) => {
        this.#refill = undefined;
        // A key taken while the loop was finishing, or a failure: go again (after a pause on failure).
        if (failed) this.#scheduleRefill(this.#retryDelayMs);
        else if (this.#deficient() !== undefined) this.#scheduleRefill(0);
      });
    }, delayMs).unref();
  }

  /**
   * Generates one key at a time (at most one thread-pool thread busy in the background) until
   * every pool is full. Resolves to true when a generation failed.
   */
  async #refillLoop(): Promise<boolean> {
    for (let algorithm = this.#deficient(); this.#running && algorithm !== undefined; algorithm = this.#deficient()) {
      let pair: EphemeralKeyPair;
      try {
        pair = await this.#generate(algorithm);
      } catch {
        return true; // nothing secret in a failed generation; retry later rather than spin
      }
      const ready = this.#ready.get(algorithm);
      if (!this.#running || ready === undefined || ready.length >= this.#sizes[algorithm]) {
        pair.privateKeyPkcs8.fill(0); // stopped meanwhile: discard
        continue;
      }
      ready.push(pair);
    }
    if (this.#running) this.#notifyFilled();
    return false;
  }

  /** The RSA size that most needs a key: the largest shortfall, ties to the smaller (more used) size. */
  #deficient(): RsaKeyAlgorithm | undefined {
    let best: RsaKeyAlgorithm | undefined;
    let bestMissing = 0;
    for (const algorithm of RSA_ALGORITHMS) {
      const missing = this.#sizes[algorithm] - (this.#ready.get(algorithm)?.length ?? 0);
      if (missing > bestMissing) {
        best = algorithm;
        bestMissing = missing;
      }
    }
    return best;
  }

  #notifyFilled(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #drop(): void {
    for (const ready of this.#ready.values()) {
      for (const pair of ready) pair.privateKeyPkcs8.fill(0);
      ready.length = 0;
    }
  }
}

function isRsa(algorithm: KeyAlgorithm): algorithm is RsaKeyAlgorithm {
  return (RSA_ALGORITHMS as readonly string[]).includes(algorithm);
}

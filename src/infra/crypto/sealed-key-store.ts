import { createHash, type webcrypto } from "node:crypto";
import { isKeyAlgorithm, type KeyAlgorithm } from "../../core/crypto/algorithms.js";
import type { KeyHandle } from "../../core/crypto/key-handle.js";
import type { SecretAlgorithm } from "../../core/crypto/secret-algorithms.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import { LruCache } from "./lru-cache.js";
import { findMasterKey, type MasterKey, type MasterKeyRing } from "./master-key.js";
import { openSealed, seal } from "./sealing.js";

/** AAD of a sealed private key: binds the blob to "key material" and to its algorithm. */
export function keyMaterialAad(algorithm: KeyAlgorithm): string {
  return `kpki:key-material:v1:${algorithm}`;
}

/** AAD of sealed secret bytes: a secret blob never opens as a private key, nor as another secret algorithm. */
export function secretAad(algorithm: SecretAlgorithm): string {
  return `kpki:secret:v1:${algorithm}`;
}

/** The AAD a handle's blob is sealed with, chosen by what the algorithm names. */
export function sealingAad(algorithm: KeyAlgorithm | SecretAlgorithm): string {
  return isKeyAlgorithm(algorithm) ? keyMaterialAad(algorithm) : secretAad(algorithm);
}

/**
 * What the soft backend keeps of every key, private or secret: the bytes sealed under the master
 * key ring, and an LRU of imported WebCrypto keys so the hot path (sign, encrypt, decrypt, MAC)
 * costs one provider call and no unseal or import.
 */
export class SealedKeyStore {
  readonly #backend: string;
  readonly #ring: MasterKeyRing;
  readonly #random: RandomSource;
  readonly #cache: LruCache<Promise<webcrypto.CryptoKey>>;

  constructor(options: { readonly backend: string; readonly keyRing: MasterKeyRing; readonly random: RandomSource; readonly cacheSize: number }) {
    this.#backend = options.backend;
    this.#ring = options.keyRing;
    this.#random = options.random;
    this.#cache = new LruCache(options.cacheSize);
  }

  /** Id of the master key new handles are sealed under. */
  get currentWrappingKeyId(): string {
    return this.#ring.current.id;
  }

  /** A handle whose `ref` is `material` sealed under the current master key. The caller keeps (and wipes) `material`. */
  seal(algorithm: KeyAlgorithm | SecretAlgorithm, material: Uint8Array): KeyHandle {
    const key = this.#ring.current;
    return { backend: this.#backend, algorithm, ref: seal(key, material, sealingAad(algorithm), this.#random), wrappingKeyId: key.id };
  }

  /** The handle's bytes in clear (PKCS#8 or raw secret); the caller wipes them after use. */
  unseal(handle: KeyHandle): Uint8Array {
    return openSealed(this.#ringKey(handle), handle.ref, sealingAad(handle.algorithm));
  }

  /** Whether the handle is sealed under the current master key. */
  isCurrent(handle: KeyHandle): boolean {
    return handle.wrappingKeyId === this.#ring.current.id;
  }

  /** The same key sealed under the current master key (the handle itself when it already is). */
  reseal(handle: KeyHandle): KeyHandle {
    if (this.isCurrent(handle)) return handle;
    const material = this.unseal(handle);
    try {
      return this.seal(handle.algorithm, material);
    } finally {
      material.fill(0);
    }
  }

  /**
   * The cached WebCrypto key for this handle and `usage` (a signature algorithm, a cipher mode…:
   * WebCrypto binds a key to one scheme). Concurrent first uses share one unseal + `load`; a failed
   * load is not kept, so the next call tries again. `load`'s argument is wiped once it settles.
   */
  cryptoKey(handle: KeyHandle, usage: string, load: (material: Uint8Array) => Promise<webcrypto.CryptoKey>): Promise<webcrypto.CryptoKey> {
    const id = cacheId(handle, usage);
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const loading = this.#load(handle, load);
    this.#cache.set(id, loading);
    loading.catch(() => {
      if (this.#cache.peek(id) === loading) this.#cache.delete(id);
    });
    return loading;
  }

  /** Puts a key imported while creating `handle` into the cache, so its first use needs no unseal. */
  prime(handle: KeyHandle, usage: string, key: webcrypto.CryptoKey): void {
    this.#cache.set(cacheId(handle, usage), Promise.resolve(key));
  }

  async #load(handle: KeyHandle, load: (material: Uint8Array) => Promise<webcrypto.CryptoKey>): Promise<webcrypto.CryptoKey> {
    const material = this.unseal(handle);
    try {
      return await load(material);
    } finally {
      material.fill(0);
    }
  }

  #ringKey(handle: KeyHandle): MasterKey {
    const key = findMasterKey(this.#ring, handle.wrappingKeyId);
    if (key !== undefined) return key;
    const loaded = [this.#ring.current.id, ...this.#ring.previous.map((k) => k.id)].join(", ");
    throw new DomainError(
      "unavailable",
      `key is sealed under master key ${handle.wrappingKeyId}, which is not loaded (loaded: ${loaded}); ` +
        "add it as a previous master key to use or re-seal this key",
    );
  }
}

/** Cache key: a hash of everything that selects the key, so a forged handle never hits another key's entry. */
function cacheId(handle: KeyHandle, usage: string): string {
  return createHash("sha256").update(`${handle.algorithm}\0${handle.wrappingKeyId}\0${usage}\0`).update(handle.ref).digest("base64");
}

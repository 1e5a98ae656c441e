import { createHash, type webcrypto } from "node:crypto";
import {
  defaultSignatureAlgorithm,
  isKeyAlgorithm,
  signatureFitsKey,
  type KeyAlgorithm,
  type SignatureAlgorithm,
} from "../../core/crypto/algorithms.js";
import type { CryptoBackend } from "../../core/crypto/crypto-backend.js";
import type { KeyHandle, KeyPairHandle } from "../../core/crypto/key-handle.js";
import { DomainError, invalidInput, isDomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import { ecdsaP1363ToDer } from "./ecdsa-signature.js";
import { LruCache } from "./lru-cache.js";
import { findMasterKey, type MasterKey, type MasterKeyRing } from "./master-key.js";
import { inspectPrivateKey } from "./private-key-info.js";
import { openSealed, seal } from "./sealing.js";
import { verifySignature } from "./verify-signature.js";
import {
  ED25519_SPELLINGS,
  generateParams,
  importParams,
  isEcdsa,
  signParams,
  type Ed25519Params,
  type WebCryptoProvider,
} from "./webcrypto-algorithms.js";

/** Settings of the software backend. */
export interface WebCryptoBackendOptions {
  /** The WebCrypto implementation every key operation goes through (node's webcrypto, @peculiar/webcrypto…). */
  readonly crypto: WebCryptoProvider;
  readonly keyRing: MasterKeyRing;
  /** For the sealing IVs. */
  readonly random: RandomSource;
  /** Imported signing keys kept ready (per key and signature algorithm); default 1024. */
  readonly cacheSize?: number;
}

/** `KeyHandle.backend` of keys this backend made. */
export const SOFT_BACKEND_NAME = "soft";
const DEFAULT_CACHE_SIZE = 1024;
const SELF_TEST_MESSAGE = Buffer.from("kpki import pairwise consistency test");

/** AAD of a sealed private key: binds the blob to "key material" and to its algorithm. */
export function keyMaterialAad(algorithm: KeyAlgorithm): string {
  return `kpki:key-material:v1:${algorithm}`;
}

/**
 * The software `CryptoBackend`: private keys exist only as PKCS#8 sealed under the master key
 * (AES-256-GCM, `KeyHandle.ref`), and are unsealed into non-extractable WebCrypto keys that an
 * LRU cache keeps, so the signing hot path costs one `subtle.sign` and no unseal or import.
 */
export class WebCryptoBackend implements CryptoBackend {
  readonly name = SOFT_BACKEND_NAME;
  readonly #subtle: webcrypto.SubtleCrypto;
  readonly #ring: MasterKeyRing;
  readonly #random: RandomSource;
  readonly #cache: LruCache<Promise<webcrypto.CryptoKey>>;
  /** The provider's spelling of Ed25519, found on first use. */
  #ed25519: Ed25519Params | undefined;

  constructor(options: WebCryptoBackendOptions) {
    this.#subtle = options.crypto.subtle;
    this.#ring = options.keyRing;
    this.#random = options.random;
    this.#cache = new LruCache(options.cacheSize ?? DEFAULT_CACHE_SIZE);
  }

  /** Id of the master key new handles are sealed under. */
  get currentWrappingKeyId(): string {
    return this.#ring.current.id;
  }

  async generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPairHandle> {
    if (!isKeyAlgorithm(algorithm)) throw invalidInput("algorithm", `unknown key algorithm ${String(algorithm)}`);
    const pair = await this.#withEd25519(algorithm, (ed) =>
      this.#subtle.generateKey(generateParams(algorithm, ed), true, ["sign", "verify"]),
    ).catch((error: unknown) => {
      if (isDomainError(error)) throw error;
      throw new DomainError("internal", `the WebCrypto provider failed to generate a ${algorithm} key`, {}, { cause: error });
    });
    if (!("privateKey" in pair)) throw new DomainError("internal", `WebCrypto returned no key pair for ${algorithm}`);
    const pkcs8 = new Uint8Array(await this.#subtle.exportKey("pkcs8", pair.privateKey));
    try {
      const publicKeySpki = new Uint8Array(await this.#subtle.exportKey("spki", pair.publicKey));
      return { handle: this.#sealHandle(algorithm, pkcs8), publicKeySpki };
    } finally {
      pkcs8.fill(0);
    }
  }

  async importPrivateKey(pkcs8Der: Uint8Array): Promise<KeyPairHandle> {
    const info = inspectPrivateKey(pkcs8Der);
    try {
      // Pairwise consistency test (FIPS 140-3 style) through the provider that will sign with it:
      // proves the provider accepts the key and that private and public halves match.
      const signature = defaultSignatureAlgorithm(info.algorithm);
      const key = await this.#importKey(info.algorithm, signature, info.pkcs8).catch((error: unknown) => {
        if (isDomainError(error) && error.code !== "internal") throw error;
        // node:crypto parsed it, the provider refuses it: typically private and public parts disagree.
        throw new DomainError("invalid_input", "privateKey: the WebCrypto provider rejects this key (inconsistent or damaged)", {
          field: "privateKey",
        });
      });
      const signed = await this.#signWith(key, signature, SELF_TEST_MESSAGE);
      if (!verifySignature(signature, info.publicKeySpki, SELF_TEST_MESSAGE, signed)) {
        throw invalidInput("privateKey", "the key fails its pairwise consistency test");
      }
      return { handle: this.#sealHandle(info.algorithm, info.pkcs8), publicKeySpki: info.publicKeySpki };
    } finally {
      info.pkcs8.fill(0);
    }
  }

  async sign(handle: KeyHandle, algorithm: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array> {
    checkHandle(handle);
    if (!signatureFitsKey(algorithm, handle.algorithm)) {
      throw invalidInput("algorithm", `signature algorithm ${algorithm} does not fit a ${handle.algorithm} key`);
    }
    const key = await this.#signingKey(handle, algorithm);
    return this.#signWith(key, algorithm, data);
  }

  async reseal(handle: KeyHandle): Promise<KeyHandle> {
    checkHandle(handle);
    if (this.isCurrent(handle)) return handle;
    const pkcs8 = this.#unseal(handle);
    try {
      return this.#sealHandle(handle.algorithm, pkcs8);
    } finally {
      pkcs8.fill(0);
    }
  }

  isCurrent(handle: KeyHandle): boolean {
    return handle.wrappingKeyId === this.#ring.current.id;
  }

  async exportPrivateKey(handle: KeyHandle): Promise<Uint8Array> {
    checkHandle(handle);
    return this.#unseal(handle);
  }

  /** The cached non-extractable CryptoKey; concurrent first uses share one unseal + import. */
  #signingKey(handle: KeyHandle, signature: SignatureAlgorithm): Promise<webcrypto.CryptoKey> {
    const id = cacheId(handle, signature);
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const loading = this.#loadKey(handle, signature);
    this.#cache.set(id, loading);
    loading.catch(() => {
      if (this.#cache.peek(id) === loading) this.#cache.delete(id);
    });
    return loading;
  }

  async #loadKey(handle: KeyHandle, signature: SignatureAlgorithm): Promise<webcrypto.CryptoKey> {
    const pkcs8 = this.#unseal(handle);
    try {
      return await this.#importKey(handle.algorithm, signature, pkcs8);
    } finally {
      pkcs8.fill(0);
    }
  }

  async #importKey(algorithm: KeyAlgorithm, signature: SignatureAlgorithm, pkcs8: Uint8Array): Promise<webcrypto.CryptoKey> {
    try {
      return await this.#withEd25519(algorithm, (ed) => this.#subtle.importKey("pkcs8", pkcs8, importParams(algorithm, signature, ed), false, ["sign"]));
    } catch (error) {
      if (isDomainError(error)) throw error;
      throw new DomainError("internal", `the WebCrypto provider cannot import this ${algorithm} key for ${signature}`, {}, { cause: error });
    }
  }

  async #signWith(key: webcrypto.CryptoKey, signature: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array> {
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(await this.#subtle.sign(signParams(signature, this.#ed25519 ?? firstSpelling()), key, data));
    } catch (error) {
      throw new DomainError("internal", `the WebCrypto provider failed to sign with ${signature}`, {}, { cause: error });
    }
    // WebCrypto gives ECDSA as IEEE P1363 r ‖ s; X.509 and node:crypto want DER (RFC 3279 §2.2.3).
    return isEcdsa(signature) ? ecdsaP1363ToDer(raw) : raw;
  }

  /**
   * Runs a WebCrypto call that needs Ed25519's parameters. Providers spell it differently; the
   * first spelling that works is kept for the life of the backend.
   */
  async #withEd25519<T>(algorithm: KeyAlgorithm, operation: (ed25519: Ed25519Params) => Promise<T>): Promise<T> {
    if (algorithm !== "Ed25519" || this.#ed25519 !== undefined) return operation(this.#ed25519 ?? firstSpelling());
    let firstError: unknown;
    for (const spelling of ED25519_SPELLINGS) {
      try {
        const result = await operation(spelling);
        this.#ed25519 = spelling;
        return result;
      } catch (error) {
        firstError ??= error;
      }
    }
    throw new DomainError("unsupported", "this WebCrypto provider does not support Ed25519", {}, { cause: firstError });
  }

  #sealHandle(algorithm: KeyAlgorithm, pkcs8: Uint8Array): KeyHandle {
    const key = this.#ring.current;
    return {
      backend: this.name,
      algorithm,
      ref: seal(key, pkcs8, keyMaterialAad(algorithm), this.#random),
      wrappingKeyId: key.id,
    };
  }

  #unseal(handle: KeyHandle): Uint8Array {
    return openSealed(this.#ringKey(handle), handle.ref, keyMaterialAad(handle.algorithm));
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

function checkHandle(handle: KeyHandle): void {
  if (handle.backend !== SOFT_BACKEND_NAME) {
    throw invalidInput("handle", `key handle belongs to backend "${handle.backend}", not "${SOFT_BACKEND_NAME}"`);
  }
  if (!isKeyAlgorithm(handle.algorithm)) throw invalidInput("handle", `unknown key algorithm ${String(handle.algorithm)}`);
}

/** Cache key: a hash of everything that selects the key, so a forged handle never hits another key's entry. */
function cacheId(handle: KeyHandle, signature: SignatureAlgorithm): string {
  return createHash("sha256")
    .update(`${handle.algorithm}\0${handle.wrappingKeyId}\0${signature}\0`)
    .update(handle.ref)
    .digest("base64");
}

function firstSpelling(): Ed25519Params {
  const [first] = ED25519_SPELLINGS;
  if (first === undefined) throw new DomainError("internal", "no Ed25519 spelling configured");
  return first;
}

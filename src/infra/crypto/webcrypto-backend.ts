import type { webcrypto } from "node:crypto";
import {
  defaultSignatureAlgorithm,
  isKeyAlgorithm,
  signatureFitsKey,
  type KeyAlgorithm,
  type SignatureAlgorithm,
} from "../../core/crypto/algorithms.js";
import type { CryptoBackend } from "../../core/crypto/crypto-backend.js";
import type { KeyHandle, KeyPairHandle } from "../../core/crypto/key-handle.js";
import type { CipherOutput, CipherParameters, SecretAlgorithm } from "../../core/crypto/secret-algorithms.js";
import { DomainError, invalidInput, isDomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import { ecdsaP1363ToDer } from "./ecdsa-signature.js";
import type { MasterKeyRing } from "./master-key.js";
import { inspectPrivateKey } from "./private-key-info.js";
import { SealedKeyStore } from "./sealed-key-store.js";
import { isSecretAlgorithm } from "./secret-params.js";
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
import { WebCryptoSecrets } from "./webcrypto-secrets.js";

export { keyMaterialAad, secretAad } from "./sealed-key-store.js";

/** Settings of the software backend. */
export interface WebCryptoBackendOptions {
  /** The WebCrypto implementation every key operation goes through (node's webcrypto, @peculiar/webcrypto…). */
  readonly crypto: WebCryptoProvider;
  readonly keyRing: MasterKeyRing;
  /** For the sealing IVs and generated secrets. */
  readonly random: RandomSource;
  /** Imported keys kept ready (per key and signature algorithm or cipher mode); default 1024. */
  readonly cacheSize?: number;
}

/** `KeyHandle.backend` of keys this backend made. */
export const SOFT_BACKEND_NAME = "soft";
const DEFAULT_CACHE_SIZE = 1024;
const SELF_TEST_MESSAGE = Buffer.from("kpki import pairwise consistency test");

/**
 * The software `CryptoBackend`: private keys exist only as PKCS#8 and secrets only as raw bytes
 * sealed under the master key (AES-256-GCM, `KeyHandle.ref`), and are unsealed into
 * non-extractable WebCrypto keys that an LRU cache keeps, so the hot path (sign, encrypt, decrypt,
 * MAC) costs one WebCrypto call and no unseal or import. The symmetric half is `WebCryptoSecrets`.
 */
export class WebCryptoBackend implements CryptoBackend {
  readonly name = SOFT_BACKEND_NAME;
  readonly #subtle: webcrypto.SubtleCrypto;
  readonly #keys: SealedKeyStore;
  readonly #secrets: WebCryptoSecrets;
  /** The provider's spelling of Ed25519, found on first use. */
  #ed25519: Ed25519Params | undefined;

  constructor(options: WebCryptoBackendOptions) {
    this.#subtle = options.crypto.subtle;
    this.#keys = new SealedKeyStore({
      backend: SOFT_BACKEND_NAME,
      keyRing: options.keyRing,
      random: options.random,
      cacheSize: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    });
    this.#secrets = new WebCryptoSecrets(this.#subtle, this.#keys, options.random);
  }

  /** Id of the master key new handles are sealed under. */
  get currentWrappingKeyId(): string {
    return this.#keys.currentWrappingKeyId;
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
      return { handle: this.#keys.seal(algorithm, pkcs8), publicKeySpki };
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
      return { handle: this.#keys.seal(info.algorithm, info.pkcs8), publicKeySpki: info.publicKeySpki };
    } finally {
      info.pkcs8.fill(0);
    }
  }

  async sign(handle: KeyHandle, algorithm: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array> {
    checkPrivateKeyHandle(handle, "sign");
    if (!signatureFitsKey(algorithm, handle.algorithm)) {
      throw invalidInput("algorithm", `signature algorithm ${algorithm} does not fit a ${handle.algorithm} key`);
    }
    const key = await this.#keys.cryptoKey(handle, algorithm, (pkcs8) => this.#importKey(handle.algorithm, algorithm, pkcs8));
    return this.#signWith(key, algorithm, data);
  }

  async reseal(handle: KeyHandle): Promise<KeyHandle> {
    checkHandle(handle);
    return this.#keys.reseal(handle);
  }

  isCurrent(handle: KeyHandle): boolean {
    return this.#keys.isCurrent(handle);
  }

  async exportPrivateKey(handle: KeyHandle): Promise<Uint8Array> {
    checkPrivateKeyHandle(handle, "export as a private key");
    return this.#keys.unseal(handle);
  }

  async generateSecret(algorithm: SecretAlgorithm, lengthBits: number): Promise<KeyHandle> {
    return this.#secrets.generate(algorithm, lengthBits);
  }

  async importSecret(algorithm: SecretAlgorithm, raw: Uint8Array): Promise<KeyHandle> {
    return this.#secrets.import(algorithm, raw);
  }

  async exportSecret(handle: KeyHandle): Promise<Uint8Array> {
    checkHandle(handle);
    return this.#secrets.export(handle);
  }

  async encrypt(handle: KeyHandle, parameters: CipherParameters, plaintext: Uint8Array): Promise<CipherOutput> {
    checkHandle(handle);
    return this.#secrets.encrypt(handle, parameters, plaintext);
  }

  async decrypt(handle: KeyHandle, parameters: CipherParameters, ciphertext: Uint8Array, tag?: Uint8Array): Promise<Uint8Array> {
    checkHandle(handle);
    return this.#secrets.decrypt(handle, parameters, ciphertext, tag);
  }

  async mac(handle: KeyHandle, data: Uint8Array): Promise<Uint8Array> {
    checkHandle(handle);
    return this.#secrets.mac(handle, data);
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
}

/** A handle of this backend naming a known algorithm (private key or secret). */
function checkHandle(handle: KeyHandle): void {
  if (handle.backend !== SOFT_BACKEND_NAME) {
    throw invalidInput("handle", `key handle belongs to backend "${handle.backend}", not "${SOFT_BACKEND_NAME}"`);
  }
  if (!isKeyAlgorithm(handle.algorithm) && !isSecretAlgorithm(handle.algorithm)) {
    throw invalidInput("handle", `unknown key algorithm ${String(handle.algorithm)}`);
  }
}

/** A handle of this backend holding a private key (not a secret). */
function checkPrivateKeyHandle(handle: KeyHandle, action: string): asserts handle is KeyHandle & { readonly algorithm: KeyAlgorithm } {
  checkHandle(handle);
  if (!isKeyAlgorithm(handle.algorithm)) {
    throw invalidInput("handle", `the handle holds ${handle.algorithm} secret material, not a private key, so it cannot ${action}`);
  }
}

function firstSpelling(): Ed25519Params {
  const [first] = ED25519_SPELLINGS;
  if (first === undefined) throw new DomainError("internal", "no Ed25519 spelling configured");
  return first;
}

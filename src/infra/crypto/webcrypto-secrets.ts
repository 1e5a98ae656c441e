import type { webcrypto } from "node:crypto";
import type { KeyHandle } from "../../core/crypto/key-handle.js";
import type { CipherOutput, CipherParameters, SecretAlgorithm } from "../../core/crypto/secret-algorithms.js";
import { DomainError, invalidInput, isDomainError } from "../../core/shared/domain-error.js";
import type { RandomSource } from "../../core/shared/random.js";
import type { SealedKeyStore } from "./sealed-key-store.js";
import {
  aesCall,
  badParameter,
  CRYPTOGRAPHIC_FAILURE,
  decryptionFailed,
  generatedLengthProblem,
  importedLengthProblem,
  isHmac,
  isRsa,
  isSecretAlgorithm,
  keyImport,
  modeOf,
  type SecretUsage,
} from "./secret-params.js";

const CBC_BLOCK_BYTES = 16;

/**
 * The symmetric half of the soft backend: AES and HMAC keys and opaque secret data, sealed like
 * private keys (AAD `kpki:secret:v1:<algorithm>`), plus RSA-OAEP decryption with a sealed private
 * key. A warm encrypt, decrypt or MAC is one hash for the cache lookup and one WebCrypto call.
 * The caller (WebCryptoBackend) has already checked that the handle belongs to this backend.
 */
export class WebCryptoSecrets {
  readonly #subtle: webcrypto.SubtleCrypto;
  readonly #keys: SealedKeyStore;
  readonly #random: RandomSource;

  constructor(subtle: webcrypto.SubtleCrypto, keys: SealedKeyStore, random: RandomSource) {
    this.#subtle = subtle;
    this.#keys = keys;
    this.#random = random;
  }

  async generate(algorithm: SecretAlgorithm, lengthBits: number): Promise<KeyHandle> {
    checkAlgorithm(algorithm);
    const problem = generatedLengthProblem(algorithm, lengthBits);
    if (problem !== undefined) throw invalidInput("length", problem);
    const raw = this.#random.bytes(lengthBits / 8);
    if (raw.length !== lengthBits / 8) throw new DomainError("internal", `random source returned ${raw.length} bytes for ${lengthBits / 8}`);
    try {
      return await this.import(algorithm, raw);
    } finally {
      raw.fill(0);
    }
  }

  async import(algorithm: SecretAlgorithm, raw: Uint8Array): Promise<KeyHandle> {
    checkAlgorithm(algorithm);
    const problem = importedLengthProblem(algorithm, raw instanceof Uint8Array ? raw.length : -1);
    if (problem !== undefined) throw invalidInput("length", problem);
    const handle = this.#keys.seal(algorithm, raw);
    if (algorithm === "DATA") return handle;
    // Import now: a provider that lacks, say, AES-192 says so at creation rather than at first use,
    // and the key's first use finds it cached.
    const usage: SecretUsage = algorithm === "AES" ? "AES-GCM" : "HMAC";
    const key = await this.#import(algorithm, usage, raw).catch((error: unknown) => {
      throw new DomainError("unsupported", `this WebCrypto provider does not support ${raw.length * 8}-bit ${algorithm} keys`, {}, { cause: error });
    });
    this.#keys.prime(handle, usage, key);
    return handle;
  }

  async export(handle: KeyHandle): Promise<Uint8Array> {
    if (!isSecretAlgorithm(handle.algorithm)) {
      throw invalidInput("handle", `the handle holds a ${handle.algorithm} private key, not a secret; use exportPrivateKey`);
    }
    return this.#keys.unseal(handle);
  }

  async encrypt(handle: KeyHandle, parameters: CipherParameters, plaintext: Uint8Array): Promise<CipherOutput> {
    if (modeOf(parameters) === "RSA-OAEP-SHA256") {
      throw badParameter("mode", "RSA-OAEP-SHA256 encrypts with the public key, outside the backend; the backend only decrypts with the private key");
    }
    const call = aesCall(parameters, handle.algorithm, undefined, false);
    const key = await this.#cryptoKey(handle, call.usage);
    let output: Uint8Array;
    try {
      output = new Uint8Array(await this.#subtle.encrypt(call.params, key, plaintext));
    } catch (error) {
      throw new DomainError("internal", `the WebCrypto provider failed to encrypt with ${call.usage}`, {}, { cause: error });
    }
    if (call.tagBytes === 0) return { ciphertext: output };
    // WebCrypto appends the GCM tag; KMIP and the port carry it separately (views, no copy).
    const split = output.length - call.tagBytes;
    return { ciphertext: output.subarray(0, split), tag: output.subarray(split) };
  }

  async decrypt(handle: KeyHandle, parameters: CipherParameters, ciphertext: Uint8Array, tag?: Uint8Array): Promise<Uint8Array> {
    if (modeOf(parameters) === "RSA-OAEP-SHA256") return this.#decryptOaep(handle, ciphertext, tag);
    const call = aesCall(parameters, handle.algorithm, tag, true);
    if (call.usage === "AES-CBC" && (ciphertext.length === 0 || ciphertext.length % CBC_BLOCK_BYTES !== 0)) {
      // Public structure, independent of the key: saying so is no padding oracle.
      throw new DomainError("invalid_input", `ciphertext: an AES-CBC ciphertext is a non-empty multiple of 16 bytes, got ${ciphertext.length}`, {
        field: "ciphertext",
        reason: CRYPTOGRAPHIC_FAILURE,
      });
    }
    const key = await this.#cryptoKey(handle, call.usage);
    const input = tag === undefined ? ciphertext : concat(ciphertext, tag);
    try {
      return new Uint8Array(await this.#subtle.decrypt(call.params, key, input));
    } catch {
      throw decryptionFailed();
    }
  }

  async mac(handle: KeyHandle, data: Uint8Array): Promise<Uint8Array> {
    if (!isHmac(handle.algorithm)) throw badParameter("handle", `MAC needs an HMAC key, not a ${handle.algorithm} key`);
    const key = await this.#cryptoKey(handle, "HMAC");
    try {
      return new Uint8Array(await this.#subtle.sign("HMAC", key, data));
    } catch (error) {
      throw new DomainError("internal", `the WebCrypto provider failed to compute ${handle.algorithm}`, {}, { cause: error });
    }
  }

  async #decryptOaep(handle: KeyHandle, ciphertext: Uint8Array, tag: Uint8Array | undefined): Promise<Uint8Array> {
    if (!isRsa(handle.algorithm)) throw badParameter("mode", `RSA-OAEP-SHA256 needs an RSA private key, not a ${handle.algorithm} key`);
    if (tag !== undefined) throw badParameter("tag", "RSA-OAEP has no authentication tag");
    const key = await this.#cryptoKey(handle, "RSA-OAEP-SHA256");
    try {
      return new Uint8Array(await this.#subtle.decrypt({ name: "RSA-OAEP" }, key, ciphertext));
    } catch {
      throw decryptionFailed();
    }
  }

  #cryptoKey(handle: KeyHandle, usage: SecretUsage): Promise<webcrypto.CryptoKey> {
    return this.#keys.cryptoKey(handle, usage, (material) =>
      this.#import(handle.algorithm, usage, material).catch((error: unknown) => {
        if (isDomainError(error)) throw error;
        throw new DomainError("internal", `the WebCrypto provider cannot import this ${handle.algorithm} key for ${usage}`, {}, { cause: error });
      }),
    );
  }

  #import(algorithm: KeyHandle["algorithm"], usage: SecretUsage, material: Uint8Array): Promise<webcrypto.CryptoKey> {
    const how = keyImport(usage, algorithm);
    return this.#subtle.importKey(how.format, material, how.params, false, how.usages);
  }
}

function checkAlgorithm(algorithm: SecretAlgorithm): void {
  if (!isSecretAlgorithm(algorithm)) throw invalidInput("algorithm", `unknown secret algorithm ${String(algorithm)}`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

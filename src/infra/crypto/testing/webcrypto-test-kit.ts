import { Crypto as PeculiarCrypto } from "@peculiar/webcrypto";
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { DomainError } from "../../../core/shared/domain-error.js";
import type { WebCryptoProvider } from "../webcrypto-algorithms.js";

// Shared by the soft backend's test files (not used by production code).

/** Every WebCrypto provider the soft backend must work with; tests run `describe.each` over them. */
export const PROVIDERS: readonly [string, () => WebCryptoProvider][] = [
  ["node webcrypto", () => globalThis.crypto],
  ["@peculiar/webcrypto", () => new PeculiarCrypto()],
];

/** The DomainError a promise rejects with (fails the test when it resolves or rejects with anything else). */
export async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/**
 * The provider with its `subtle` methods routed through `intercept`: a returned promise replaces
 * the call, undefined lets it through. Lets tests count or fail provider calls without timing.
 */
export function intercepted(inner: WebCryptoProvider, intercept: (method: string | symbol, args: unknown[]) => Promise<unknown> | undefined): WebCryptoProvider {
  const subtle = new Proxy(inner.subtle, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]): unknown => intercept(property, args) ?? (Reflect.apply(value, target, args) as unknown);
    },
  });
  return { subtle };
}

/** A provider whose importKey calls are counted, to see the key cache at work. */
export function countingProvider(inner: WebCryptoProvider): { provider: WebCryptoProvider; imports: () => number } {
  let imports = 0;
  const provider = intercepted(inner, (method) => {
    if (method === "importKey") imports++;
    return undefined;
  });
  return { provider, imports: () => imports };
}

/** DER PKCS#8 of an OpenSSL-made key in ../testdata (`<name>.pem`). */
export function pkcs8Fixture(name: string): Uint8Array {
  const pem = readFileSync(new URL(`../testdata/${name}.pem`, import.meta.url), "utf8");
  return createPrivateKey(pem).export({ format: "der", type: "pkcs8" });
}

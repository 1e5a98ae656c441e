import type * as PeculiarModule from "@peculiar/x509";

// Test-only loader for @peculiar/x509, the independent oracle. Its dependency tsyringe insists on a
// Reflect metadata polyfill (reflect-metadata is not installed); the few calls it makes are served here.

type PeculiarX509 = typeof PeculiarModule;
type MetadataReflect = {
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  getMetadata?: (key: unknown, target: object) => unknown;
  hasMetadata?: (key: unknown, target: object) => boolean;
  metadata?: (key: unknown, value: unknown) => (target: object) => void;
};

let loaded: Promise<PeculiarX509> | undefined;

/** Imports @peculiar/x509 once, after installing a minimal Reflect metadata shim. */
export function loadPeculiar(): Promise<PeculiarX509> {
  if (!loaded) {
    const r = Reflect as unknown as MetadataReflect;
    if (!r.getMetadata) {
      const store = new WeakMap<object, Map<unknown, unknown>>();
      const own = (target: object, create: boolean): Map<unknown, unknown> | undefined => {
        let m = store.get(target);
        if (!m && create) store.set(target, (m = new Map()));
        return m;
      };
      r.defineMetadata = (key, value, target) => void own(target, true)?.set(key, value);
      r.getOwnMetadata = (key, target) => own(target, false)?.get(key);
      r.getMetadata = (key, target) => {
        for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
          const m = own(o, false);
          if (m?.has(key)) return m.get(key);
        }
        return undefined;
      };
      r.hasMetadata = (key, target) => r.getMetadata?.(key, target) !== undefined;
      r.metadata = (key, value) => (target) => r.defineMetadata?.(key, value, target);
    }
    loaded = import("@peculiar/x509");
  }
  return loaded;
}

import type { RequestContext } from "../shared/request-context.js";
import type { Clock } from "../shared/clock.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import type { CryptoBackend } from "./crypto-backend.js";
import type { KeyMaterialRepositories } from "./ports.js";

/** Keys read per round inside the transaction, to bound memory. */
const BATCH = 500;
/** A rotation of many keys may take minutes; it is rare and must not be cut short. */
const TIMEOUT_MILLIS = 30 * 60_000;

/**
 * Re-seals every stored private key under the backend's current master key (the data half of
 * `kpki master-key rotate`). One transaction for the caller's `markCurrent` step (recording the new
 * key as the one the data is sealed under) and all keys: afterwards either everything is sealed under
 * the new key or nothing is, so no crash can leave data that neither key alone opens. `markCurrent`
 * runs first, so writers that store keys concurrently wait for this transaction and then refuse.
 */
export class ResealService<R extends KeyMaterialRepositories> {
  constructor(
    private readonly deps: {
      readonly uow: UnitOfWork<R>;
      readonly crypto: CryptoBackend;
      readonly clock: Clock;
      readonly currentWrappingKeyId: string;
    },
  ) {}

  async resealAll(context: RequestContext, markCurrent: (repositories: R) => Promise<void>, progress?: (done: number) => void): Promise<number> {
    return this.deps.uow.run(
      async (r) => {
        await markCurrent(r);
        let done = 0;
        for (;;) {
          const batch = await r.keyMaterials.listSealedWithOtherKey(this.deps.currentWrappingKeyId, BATCH);
          if (batch.length === 0) break;
          for (const key of batch) await r.keyMaterials.replaceHandle(key.id, await this.deps.crypto.reseal(key.handle));
          done += batch.length;
          progress?.(done);
        }
        await r.audit.record(
          { actor: context.principal.id, action: "master-key.rotate", target: `master-key:${this.deps.currentWrappingKeyId}`, result: "success", requestId: context.requestId, details: { resealedKeys: done } },
          this.deps.clock.now(),
        );
        return done;
      },
      { timeoutMillis: TIMEOUT_MILLIS },
    );
  }
}

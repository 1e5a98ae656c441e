/**
 * Runs `work` in one database transaction with repositories bound to it: everything inside
 * commits together or not at all. `R` is the set of repositories the consumer needs; each core
 * module declares its own (the consumer owns the port), infra provides a superset.
 *
 * `run` may call `work` more than once. When the database refuses the transaction for transient
 * contention with other transactions (a deadlock victim, a serialization failure, a lock not
 * available, SQLite busy), the whole transaction has rolled back and the unit of work reruns it
 * from the start, a bounded number of times with a short jittered backoff; only if the last run
 * still fails does the error reach the caller. So `work` must be safe to rerun: everything it does
 * goes through the repositories it is given, and anything else it touches must be idempotent
 * (invalidating a cache entry) or overwritten by the rerun (a local result). It must not
 * append to outside state, count, send, or log a success before `run` resolves; do that after.
 *
 * Audit entries recorded in `work` are appended when `work` has finished, still in the same
 * transaction: every transaction takes the audit chain's lock after its row locks, one lock order
 * for all, so the chain cannot be one side of a deadlock.
 */
export interface UnitOfWork<R> {
  run<T>(work: (repositories: R) => Promise<T>, options?: { readonly timeoutMillis?: number }): Promise<T>;
  /** Reads that need no transaction (listings, lookups). */
  read<T>(work: (repositories: R) => Promise<T>): Promise<T>;
}

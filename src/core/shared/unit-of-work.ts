/**
 * Runs `work` in one database transaction with repositories bound to it: everything inside
 * commits together or not at all. `R` is the set of repositories the consumer needs; each core
 * module declares its own (the consumer owns the port), infra provides a superset.
 */
export interface UnitOfWork<R> {
  run<T>(work: (repositories: R) => Promise<T>, options?: { readonly timeoutMillis?: number }): Promise<T>;
  /** Reads that need no transaction (listings, lookups). */
  read<T>(work: (repositories: R) => Promise<T>): Promise<T>;
}

/** One submitted item and the caller waiting for its commit. */
interface Waiting<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** How a group forms. */
export interface GroupCommitOptions {
  /** Most items one commit takes; the rest wait for the next (bounds a transaction's size and time). */
  readonly maxItems: number;
  /** Longest a submitted item waits for callers still preparing theirs before its group commits anyway. */
  readonly maxDelayMillis: number;
}

/** 64 items; 5 ms, a small fraction of what a commit costs a lone caller under load. */
export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxItems: 64, maxDelayMillis: 5 };

/**
 * Group commit: concurrent callers share one transaction (one BEGIN/COMMIT, one log sync, one read
 * of shared state) instead of queueing for the writer one by one.
 *
 * A caller works inside `prepare` (validate, sign) and submits its item at the end. A group commits
 * when every caller that is still preparing has submitted, or `maxDelayMillis` after its first item
 * (PostgreSQL's commit_delay / commit_siblings idea: wait only when others are about to commit
 * too). A lone caller never waits. Waiting matters with a synchronous driver (better-sqlite3): a
 * commit blocks the event loop, so no request moves while it runs and, without the wait, every
 * group would hold one item. While a commit runs, the next group collects.
 *
 * Every caller is answered only after the commit that holds its item has finished, so durability
 * is that of the commit itself. When a commit of several items fails (one item spoils it: a
 * repeated unique value, a state check), each item is committed again on its own, so every caller
 * gets the answer its own item deserves and one bad item never fails the others.
 *
 * `commit` must be all or nothing (one transaction) and safe to call again for the same items
 * after it failed.
 */
export class GroupCommit<T> {
  private readonly waiting: Waiting<T>[] = [];
  /** Callers inside `prepare` that have not submitted yet. */
  private preparing = 0;
  private committing = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly commit: (items: readonly T[]) => Promise<void>,
    private readonly options: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {}

  /**
   * Runs `work`, which may call `submit` (more than once, e.g. to retry): each call resolves once
   * its item is committed, or rejects with the error of a commit that held it alone.
   */
  async prepare<R>(work: (submit: (item: T) => Promise<void>) => Promise<R>): Promise<R> {
    this.preparing += 1;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      this.preparing -= 1;
    };
    try {
      return await work((item) => {
        done();
        return new Promise<void>((resolve, reject) => {
          this.waiting.push({ item, resolve, reject });
          this.schedule();
        });
      });
    } finally {
      if (counted) {
        done();
        // A caller that leaves without submitting may be the one a group was waiting for.
        this.schedule();
      }
    }
  }

  /** Starts a commit if one can start now, or arms the delay that bounds the wait. */
  private schedule(): void {
    if (this.committing || this.waiting.length === 0) return;
    if (this.preparing === 0 || this.waiting.length >= this.options.maxItems) {
      this.start();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (!this.committing) this.start();
    }, this.options.maxDelayMillis);
  }

  private start(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.committing = true;
    void this.commitGroup(this.waiting.splice(0, this.options.maxItems)).finally(() => {
      this.committing = false;
      this.schedule();
    });
  }

  private async commitGroup(group: readonly Waiting<T>[]): Promise<void> {
    try {
      await this.commit(group.map((waiting) => waiting.item));
      for (const waiting of group) waiting.resolve();
      return;
    } catch (error) {
      const only = group.length === 1 ? group[0] : undefined;
      if (only !== undefined) {
        only.reject(error);
        return;
      }
    }
    for (const waiting of group) {
      try {
        await this.commit([waiting.item]);
        waiting.resolve();
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}

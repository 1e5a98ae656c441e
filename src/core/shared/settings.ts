/** Small named facts about the installation (kpki_meta): ids, bootstrap state, check values. */
export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  /** Inserts or replaces. */
  set(key: string, value: string, at: Date): Promise<void>;
  /**
   * Inserts only if absent: false when the key exists; throws `already_exists` when a concurrent
   * writer inserted it at the same moment (the transaction is then void).
   */
  claim(key: string, value: string, at: Date): Promise<boolean>;
}

/** What `kpki kms-plugin` runs: which socket, which named key, and where the key service is. */
export interface KmsPluginOptions {
  /** `unix:///path/socket.sock` (EncryptionConfiguration's `endpoint`). */
  readonly listen: string;
  /** The named key whose versions are the KEKs. */
  readonly key: string;
  /** The remote kpki to call over HTTPS; absent: in-process, against this host's database (single node). */
  readonly remote?: { readonly server: string; readonly token: string; readonly caCertPem?: string };
}

/**
 * What the CLI can do on this host directly against the database (not through a server): the
 * composition root implements it, so this transport never constructs infrastructure itself.
 */
export interface LocalOperations {
  /** Runs the service until SIGTERM/SIGINT; `announce` receives human messages (bootstrap token). */
  serve(overrides: { listen?: string }, announce: (text: string) => void): Promise<void>;
  /** Applies pending migrations (or only reports them); returns lines to print. */
  migrate(options: { statusOnly: boolean }): Promise<readonly string[]>;
  /** Re-seals every stored key under a new master key; returns lines to print. */
  rotateMasterKey(options: { newKeyFile?: string }, progress: (line: string) => void): Promise<readonly string[]>;
  /** Checks the audit hash chain on this host's database; `ok` false names every break. */
  verifyAudit(options: { expectHead?: { seq: number; hash: string } }, progress: (line: string) => void): Promise<{ ok: boolean; lines: readonly string[] }>;
  /** Runs the KMS v2 plugin until SIGTERM/SIGINT; `announce` receives human messages (listening, status). */
  kmsPlugin(options: KmsPluginOptions, announce: (text: string) => void): Promise<void>;
}

import type { JobOutcome, JobStatus } from "../../core/jobs/index.js";

/** What `kpki kms-plugin` runs: which socket, which named key, and where the key service is. */
export interface KmsPluginOptions {
  /** `unix:///path/socket.sock` (EncryptionConfiguration's `endpoint`). */
  readonly listen: string;
  /** The named key whose versions are the KEKs. */
  readonly key: string;
  /** The remote kpki to call over HTTPS; absent: in-process, against this host's database (single node). */
  readonly remote?: { readonly server: string; readonly token: string; readonly caCertPem?: string };
}

/** What `kpki rotate` runs: every scheduled job, or only the named ones; or only says what is due. */
export interface RotateOptions {
  /** Job names (`--job`, repeatable); absent: every job. */
  readonly jobs?: readonly string[];
  readonly dryRun: boolean;
}

/** One job as `kpki rotate --dry-run` shows it: where it stands in its period, and what it would do. */
export interface RotatePlanEntry extends JobStatus {
  /** What a run now would change (absent when the job cannot tell cheaply). */
  readonly preview?: string;
}

/** What `kpki rotate` did (or, with --dry-run, would do). */
export type RotateResult = { readonly kind: "ran"; readonly outcomes: readonly JobOutcome[] } | { readonly kind: "plan"; readonly plan: readonly RotatePlanEntry[] };

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
  /** Writes a sealed backup of the whole database (one consistent snapshot) to `outFile`; returns lines to print. */
  backup(options: { outFile: string }, progress: (line: string) => void): Promise<readonly string[]>;
  /** Restores a backup into this host's database (empty, or wiped first with `force`), in one transaction; returns lines to print. */
  restore(options: { inFile: string; force: boolean }, progress: (line: string) => void): Promise<readonly string[]>;
  /** Checks the audit hash chain on this host's database; `ok` false names every break. */
  verifyAudit(options: { expectHead?: { seq: number; hash: string } }, progress: (line: string) => void): Promise<{ ok: boolean; lines: readonly string[] }>;
  /**
   * Runs each due scheduled job once (the scheduler's jobs and run lease: a job that already ran in
   * its period, or runs elsewhere, is skipped); `progress` receives a line per job as it goes.
   */
  rotate(options: RotateOptions, progress: (line: string) => void): Promise<RotateResult>;
  /** Runs the KMS v2 plugin until SIGTERM/SIGINT; `announce` receives human messages (listening, status). */
  kmsPlugin(options: KmsPluginOptions, announce: (text: string) => void): Promise<void>;
}

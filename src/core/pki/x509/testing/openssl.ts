import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Test-only helpers to run the openssl CLI as an independent oracle.

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "kpki-x509-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs openssl; returns stdout, throws with stderr on a non-zero exit. */
export function openssl(args: readonly string[], input?: string | Uint8Array): string {
  return execFileSync("openssl", args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs openssl and returns stdout as bytes (for DER output). */
export function opensslBytes(args: readonly string[], input?: string | Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync("openssl", args, { input, stdio: ["pipe", "pipe", "pipe"] }));
}

/** Runs openssl without throwing: exit status and both outputs. */
export function opensslRun(args: readonly string[], input?: string | Uint8Array): { status: number; stdout: string; stderr: string } {
  const result = spawnSync("openssl", args, { input, encoding: "utf8" });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

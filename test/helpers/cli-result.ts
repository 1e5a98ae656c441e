import { expect } from "vitest";
import type { RunResult } from "./process.js";

/** Exit 0; returns stdout. */
export function cliOk(result: RunResult): string {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The expected exit code and exactly one `kpki: …` line on stderr; returns that line. */
export function cliFails(result: RunResult, exitCode: number): string {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(exitCode);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kpki: /);
  return lines[0] ?? "";
}

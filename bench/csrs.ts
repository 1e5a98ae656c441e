/** CSRs for the signing benchmarks, made by openssl (an independent implementation), with their keys discarded. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A few distinct CSRs made by openssl; the server does not mind seeing one twice. */
export function makeCsrs(kind: "ec" | "rsa", count: number): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-bench-csr-"));
  try {
    return Array.from({ length: count }, (_, i) => {
      const key = kind === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"];
      const out = path.join(dir, `${i}.csr`);
      execFileSync("openssl", ["req", "-new", ...key, "-nodes", "-keyout", path.join(dir, `${i}.key`), "-out", out, "-subj", `/CN=client-${i}`], { stdio: "ignore" });
      return readFileSync(out, "utf8");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


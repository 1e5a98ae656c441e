import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// The real openssl binary (3.x) as the independent peer of kpki's X.509 code: every helper runs it
// through node:child_process in a temporary directory.

/** Key types the helpers can make with openssl, named as the kpki API names them. */
export type OpensslKeyAlgorithm = "ECDSA-P256" | "ECDSA-P384" | "RSA-2048" | "RSA-3072" | "RSA-4096" | "Ed25519";

/** What an openssl run produced (it did not throw). */
export interface OpensslRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs openssl and returns its exit status and output; never throws on a non-zero exit. */
export function opensslRun(args: readonly string[], input?: string | Buffer): OpensslRun {
  const result = spawnSync("openssl", args, { input, maxBuffer: 16 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8") };
}

/** Runs openssl and returns stdout; throws with stderr when it fails. */
export function openssl(args: readonly string[], input?: string | Buffer): string {
  const run = opensslRun(args, input);
  if (run.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** A temporary directory with helpers to write and read files in it. */
export class TempDir {
  readonly path: string;

  constructor(prefix = "kpki-openssl-") {
    this.path = mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  /** The absolute path of `name` in this directory. */
  file(name: string): string {
    return path.join(this.path, name);
  }

  /** Writes `content` to `name` and returns its path. */
  write(name: string, content: string | Buffer): string {
    const file = this.file(name);
    writeFileSync(file, content);
    return file;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** `openssl genpkey` arguments for each key type. */
function genpkeyArgs(algorithm: OpensslKeyAlgorithm): string[] {
  switch (algorithm) {
    case "ECDSA-P256":
      return ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"];
    case "ECDSA-P384":
      return ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-pkeyopt", "ec_param_enc:named_curve"];
    case "RSA-2048":
      return ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
    case "RSA-3072":
      return ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"];
    case "RSA-4096":
      return ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"];
    case "Ed25519":
      return ["-algorithm", "ED25519"];
  }
}

/** A new private key as PKCS#8 PEM (`PRIVATE KEY`). */
export function generateKey(algorithm: OpensslKeyAlgorithm): string {
  return openssl(["genpkey", ...genpkeyArgs(algorithm)]);
}

/** What to put in a CSR. */
export interface CsrOptions {
  /** Key type of a new key; ignored when `keyPem` is given. Default ECDSA-P256. */
  readonly algorithm?: OpensslKeyAlgorithm;
  /** Use this key instead of making one. */
  readonly keyPem?: string;
  /** openssl `-subj` text, e.g. `/CN=svc.example.internal`; `/` for an empty subject. */
  readonly subject: string;
  /** Each becomes one `-addext`, e.g. `subjectAltName=DNS:a.example`. */
  readonly extensions?: readonly string[];
  /** More `openssl req` arguments, e.g. `["-sha1"]`. */
  readonly reqArgs?: readonly string[];
}

/** A CSR openssl made, and its key. */
export interface Csr {
  readonly csrPem: string;
  readonly keyPem: string;
}

/** Makes a PKCS#10 CSR with `openssl req`. */
export function makeCsr(options: CsrOptions): Csr {
  const dir = new TempDir("kpki-csr-");
  try {
    const keyPem = options.keyPem ?? generateKey(options.algorithm ?? "ECDSA-P256");
    const keyFile = dir.write("key.pem", keyPem);
    const extensions = (options.extensions ?? []).flatMap((extension) => ["-addext", extension]);
    const csrPem = openssl(["req", "-new", "-key", keyFile, "-subj", options.subject, "-config", emptyConfig(dir), ...(options.reqArgs ?? []), ...extensions]);
    return { csrPem, keyPem };
  } finally {
    dir.remove();
  }
}

/** The DER inside a single PEM block (no validation beyond what Buffer.from does). */
export function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [^-]+-----/g, "").replace(/\s+/g, "");
  return Buffer.from(body, "base64");
}

/** PEM of `der` with the given label and 64-character lines. */
export function derToPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Every PEM block in `text`, each with its BEGIN/END lines. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN ([^-]+)-----[\s\S]*?-----END \1-----\n?/g) ?? [];
}

/** A CA made with openssl: certificate and key PEM. */
export interface OpensslCa {
  readonly certificatePem: string;
  readonly keyPem: string;
}

/** `-addext` values of a root CA certificate. */
const CA_EXTENSIONS = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash"];

/**
 * A self-signed root CA made by `openssl req -x509`. `keyPem` may be any key openssl reads
 * (PKCS#8, PKCS#1 or SEC1), so callers can test those encodings.
 */
export function makeOpensslRoot(options: { subject: string; keyPem?: string }): OpensslCa {
  const dir = new TempDir("kpki-ca-");
  try {
    const keyPem = options.keyPem ?? generateKey("ECDSA-P256");
    const keyFile = dir.write("key.pem", keyPem);
    const extensions = CA_EXTENSIONS.flatMap((extension) => ["-addext", extension]);
    const certificatePem = openssl([
      "req", "-x509", "-new", "-key", keyFile, "-subj", options.subject, "-days", "3650",
      "-set_serial", `0x${randomSerialHex()}`, "-nodes", "-config", emptyConfig(dir), ...extensions,
    ]);
    return { certificatePem, keyPem };
  } finally {
    dir.remove();
  }
}

/**
 * Signs `csrPem` with an openssl CA (`openssl x509 -req`), adding `extensions` (extfile lines).
 * Nothing is copied from the CSR: the certificate carries exactly these extensions.
 */
export function signWithOpenssl(ca: OpensslCa, csrPem: string, extensions: readonly string[], days = 365): string {
  const dir = new TempDir("kpki-sign-");
  try {
    return openssl([
      "x509", "-req", "-in", dir.write("req.csr", csrPem), "-CA", dir.write("ca.pem", ca.certificatePem), "-CAkey", dir.write("ca.key", ca.keyPem),
      "-set_serial", `0x${randomSerialHex()}`, "-days", String(days), "-extfile", dir.write("ext.cnf", `${extensions.join("\n")}\n`),
    ]);
  } finally {
    dir.remove();
  }
}

/** The extfile lines of a CA certificate signed by an external CA. */
export const EXTERNAL_CA_EXTENSIONS: readonly string[] = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"];

/** Text of `openssl x509 -noout …` on a PEM certificate. */
export function x509Text(certificatePem: string, args: readonly string[]): string {
  return openssl(["x509", "-noout", ...args], certificatePem);
}

/** The SubjectPublicKeyInfo PEM of a certificate (`openssl x509 -pubkey`). */
export function certificatePublicKey(certificatePem: string): string {
  return openssl(["x509", "-noout", "-pubkey"], certificatePem);
}

/** The SubjectPublicKeyInfo PEM of a private key (`openssl pkey -pubout`). */
export function privateKeyPublicKey(keyPem: string): string {
  return openssl(["pkey", "-pubout"], keyPem);
}

/** Result of `openssl verify`: whether it said OK, and its output for failure messages. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly output: string;
}

/**
 * `openssl verify -CAfile <trusted> [-untrusted <chain>] [-purpose <purpose>] <leaf>`. The chain
 * may contain the trust anchor too; openssl ignores it there.
 */
export function opensslVerify(options: { trustedPem: string; untrustedPem?: string; purpose?: "sslserver" | "sslclient"; leafPem: string }): VerifyResult {
  const dir = new TempDir("kpki-verify-");
  try {
    const leaf = dir.write("leaf.pem", options.leafPem);
    const args = ["verify", "-CAfile", dir.write("trusted.pem", options.trustedPem)];
    if (options.untrustedPem !== undefined && options.untrustedPem.trim() !== "") args.push("-untrusted", dir.write("untrusted.pem", options.untrustedPem));
    if (options.purpose !== undefined) args.push("-purpose", options.purpose);
    const run = opensslRun([...args, leaf]);
    return { ok: run.status === 0 && run.stdout.trim() === `${leaf}: OK`, output: `${run.stdout}${run.stderr}` };
  } finally {
    dir.remove();
  }
}

/** The private key in the legacy forms openssl 3 still writes: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`. */
export function traditionalKeyPem(keyPem: string, kind: "rsa" | "ec"): string {
  // `openssl rsa` writes PKCS#8 unless told otherwise; `openssl ec` writes SEC1 already.
  return openssl(kind === "rsa" ? ["rsa", "-traditional"] : ["ec"], keyPem);
}

function randomSerialHex(): string {
  // 16 random bytes with the top bit clear: positive, 127 bits.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString("hex");
}

/** An empty openssl config, so that the system openssl.cnf adds no extensions of its own. */
function emptyConfig(dir: TempDir): string {
  return dir.write("openssl.cnf", "[req]\ndistinguished_name = dn\n[dn]\n");
}

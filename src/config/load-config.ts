import { readFileSync } from "node:fs";
import type { z } from "zod";
import { configSchema, type Config } from "./config.js";

/** `a, b,c` → ["a", "b", "c"]. */
function commaSeparated(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Which environment variable sets which config key, and how its text becomes a value. */
const ENVIRONMENT: Record<string, { key: keyof Config; parse?: (text: string) => unknown }> = {
  KPKI_LISTEN: { key: "listen" },
  KPKI_KMIP_LISTEN: { key: "kmipListen" },
  KPKI_KMIP_IDLE_TIMEOUT_SECONDS: { key: "kmipIdleTimeoutSeconds", parse: Number },
  KPKI_KMIP_MAX_CONNECTIONS: { key: "kmipMaxConnections", parse: Number },
  KPKI_DATA_DIR: { key: "dataDir" },
  DATABASE_URL: { key: "databaseUrl" },
  KPKI_DATABASE_URL: { key: "databaseUrl" },
  KPKI_MASTER_KEY: { key: "masterKey" },
  KPKI_MASTER_KEY_FILE: { key: "masterKeyFile" },
  KPKI_PUBLIC_URL: { key: "publicUrl" },
  KPKI_PUBLIC_NAMES: { key: "publicNames", parse: commaSeparated },
  KPKI_BOOTSTRAP_TOKEN: { key: "bootstrapToken" },
  KPKI_LOG_LEVEL: { key: "logLevel" },
  KPKI_MAX_BODY_BYTES: { key: "maxBodyBytes", parse: Number },
  KPKI_ROOT_CA_TTL_DAYS: { key: "rootCaTtlDays", parse: Number },
  KPKI_CRYPTO_PROVIDER: { key: "cryptoProvider" },
  KPKI_RENEW_BEFORE_DAYS: { key: "renewBeforeDays", parse: Number },
  KPKI_KEY_RECENT_USE_DAYS: { key: "keyRecentUseDays", parse: Number },
  KPKI_RATE_LIMIT_PER_ADDRESS: { key: "rateLimitPerAddress", parse: Number },
  KPKI_RATE_LIMIT_PER_ADDRESS_BURST: { key: "rateLimitPerAddressBurst", parse: Number },
  KPKI_RATE_LIMIT_PER_PRINCIPAL: { key: "rateLimitPerPrincipal", parse: Number },
  KPKI_RATE_LIMIT_PER_PRINCIPAL_BURST: { key: "rateLimitPerPrincipalBurst", parse: Number },
  KPKI_ADMIN_ALLOW: { key: "adminAllow", parse: commaSeparated },
  KPKI_OCSP_RESPONDER_CERTIFICATE_HOURS: { key: "ocspResponderCertificateHours", parse: Number },
};

/** A configuration problem, reported as one line and a non-zero exit. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Builds the configuration from an optional JSON file (`KPKI_CONFIG_FILE`) overlaid by environment
 * variables, validates it and freezes it. Any bad value throws a ConfigError naming the variable;
 * secrets are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const file = env.KPKI_CONFIG_FILE;
  if (file !== undefined && file !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new ConfigError(`KPKI_CONFIG_FILE ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`KPKI_CONFIG_FILE ${file}: must contain a JSON object`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      raw[key] = value;
      origin[key] = `${file}: ${key}`;
    }
  }
  for (const [name, { key, parse }] of Object.entries(ENVIRONMENT)) {
    const text = env[name] ?? readSecretFile(env, name);
    if (text === undefined || text === "") continue;
    raw[key] = parse ? parse(text) : text;
    origin[key] = name;
  }
  for (const [key, value] of Object.entries(overrides)) {
    raw[key] = value;
    origin[key] = `--${key}`;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(describe(result.error, origin));
  }
  return Object.freeze(result.data);
}

/**
 * `<NAME>_FILE` names a file holding the value (Docker/Kubernetes secrets), for the settings that
 * are secrets or contain one. Trailing newlines are dropped.
 */
const FILE_VARIANTS = new Set(["DATABASE_URL", "KPKI_DATABASE_URL", "KPKI_BOOTSTRAP_TOKEN"]);

function readSecretFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = FILE_VARIANTS.has(name) ? env[`${name}_FILE`] : undefined;
  if (file === undefined || file === "") return undefined;
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new ConfigError(`${name}_FILE ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** One line naming the first bad setting by the variable the operator actually set. */
function describe(error: z.ZodError, origin: Record<string, string>): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid configuration";
  const key = String(issue.path[0] ?? "");
  const where = origin[key] ?? (key === "" ? "configuration" : key);
  const secret = key === "masterKey" || key === "bootstrapToken";
  const message = issue.code === "unrecognized_keys" ? `unknown setting ${issue.keys.join(", ")}` : issue.message;
  return `invalid ${where}${secret ? " (value not shown)" : ""}: ${message}`;
}

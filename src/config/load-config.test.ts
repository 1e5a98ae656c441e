import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./load-config.js";

describe("loadConfig", () => {
  it("has safe defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ listen: ":8443", dataDir: "./data", logLevel: "info", publicNames: [], maxBodyBytes: 262144, keyRecentUseDays: 30 });
    expect(Object.isFrozen(config)).toBe(true);
    // No KMIP listener unless KPKI_KMIP_LISTEN asks for one.
    expect(config.kmipListen).toBeUndefined();
    expect(config).toMatchObject({ kmipIdleTimeoutSeconds: 300, kmipMaxConnections: 1024 });
    // Rate limits on, high enough for real clients; admin operations from anywhere.
    expect(config).toMatchObject({ rateLimitPerAddress: 500, rateLimitPerAddressBurst: 1000, rateLimitPerPrincipal: 200, rateLimitPerPrincipalBurst: 400, adminAllow: [], ocspResponderCertificateHours: 0 });
  });

  it("maps every KPKI_* variable", () => {
    const config = loadConfig({
      KPKI_LISTEN: "127.0.0.1:9443",
      KPKI_DATA_DIR: "/var/lib/kpki",
      DATABASE_URL: "postgresql://u@h/db",
      KPKI_MASTER_KEY_FILE: "/run/secrets/key",
      KPKI_PUBLIC_URL: "https://pki.example.com",
      KPKI_PUBLIC_NAMES: "pki.example.com, 10.0.0.9",
      KPKI_BOOTSTRAP_TOKEN: "x".repeat(40),
      KPKI_LOG_LEVEL: "debug",
      KPKI_MAX_BODY_BYTES: "65536",
      KPKI_KEY_RECENT_USE_DAYS: "7",
      KPKI_KMIP_LISTEN: "0.0.0.0:5696",
      KPKI_KMIP_IDLE_TIMEOUT_SECONDS: "60",
      KPKI_KMIP_MAX_CONNECTIONS: "64",
      KPKI_RATE_LIMIT_PER_ADDRESS: "0.5",
      KPKI_RATE_LIMIT_PER_ADDRESS_BURST: "3",
      KPKI_RATE_LIMIT_PER_PRINCIPAL: "0",
      KPKI_RATE_LIMIT_PER_PRINCIPAL_BURST: "7",
      KPKI_ADMIN_ALLOW: "10.0.0.0/8, 2001:db8::/32,192.0.2.1",
      KPKI_OCSP_RESPONDER_CERTIFICATE_HOURS: "24",
    });
    expect(config).toMatchObject({
      listen: "127.0.0.1:9443",
      dataDir: "/var/lib/kpki",
      databaseUrl: "postgresql://u@h/db",
      masterKeyFile: "/run/secrets/key",
      publicUrl: "https://pki.example.com",
      publicNames: ["pki.example.com", "10.0.0.9"],
      logLevel: "debug",
      maxBodyBytes: 65536,
      keyRecentUseDays: 7,
      kmipListen: "0.0.0.0:5696",
      kmipIdleTimeoutSeconds: 60,
      kmipMaxConnections: 64,
      rateLimitPerAddress: 0.5,
      rateLimitPerAddressBurst: 3,
      rateLimitPerPrincipal: 0,
      rateLimitPerPrincipalBurst: 7,
      adminAllow: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"],
      ocspResponderCertificateHours: 24,
    });
  });

  it.each([
    [{ KPKI_LISTEN: "nonsense" }, /^invalid KPKI_LISTEN: /],
    [{ KPKI_LISTEN: ":70000" }, /^invalid KPKI_LISTEN: port/],
    [{ KPKI_LOG_LEVEL: "loud" }, /^invalid KPKI_LOG_LEVEL: /],
    [{ DATABASE_URL: "mysql://x" }, /^invalid DATABASE_URL: /],
    [{ KPKI_PUBLIC_URL: "ftp://x" }, /^invalid KPKI_PUBLIC_URL: /],
    [{ KPKI_PUBLIC_NAMES: "ok.example,bad_name!" }, /^invalid KPKI_PUBLIC_NAMES: /],
    [{ KPKI_MAX_BODY_BYTES: "lots" }, /^invalid KPKI_MAX_BODY_BYTES: /],
    [{ KPKI_KEY_RECENT_USE_DAYS: "0" }, /^invalid KPKI_KEY_RECENT_USE_DAYS: /],
    [{ KPKI_KEY_RECENT_USE_DAYS: "1.5" }, /^invalid KPKI_KEY_RECENT_USE_DAYS: /],
    [{ KPKI_RATE_LIMIT_PER_ADDRESS: "-1" }, /^invalid KPKI_RATE_LIMIT_PER_ADDRESS: /],
    [{ KPKI_RATE_LIMIT_PER_PRINCIPAL_BURST: "0" }, /^invalid KPKI_RATE_LIMIT_PER_PRINCIPAL_BURST: /],
    [{ KPKI_ADMIN_ALLOW: "10.0.0.0/8,10.0.0.0/40" }, /^invalid KPKI_ADMIN_ALLOW: "10.0.0.0\/40": the prefix length must be 0–32$/],
    [{ KPKI_OCSP_RESPONDER_CERTIFICATE_HOURS: "1" }, /^invalid KPKI_OCSP_RESPONDER_CERTIFICATE_HOURS: must be 0 \(off\) or at least 2$/],
    [{ KPKI_ADMIN_ALLOW: "intranet" }, /^invalid KPKI_ADMIN_ALLOW: "intranet" is not an IP address or CIDR range/],
    [{ KPKI_KMIP_LISTEN: "5696" }, /^invalid KPKI_KMIP_LISTEN: must be HOST:PORT/],
    [{ KPKI_KMIP_LISTEN: "[::1]:99999" }, /^invalid KPKI_KMIP_LISTEN: port/],
    [{ KPKI_KMIP_IDLE_TIMEOUT_SECONDS: "0" }, /^invalid KPKI_KMIP_IDLE_TIMEOUT_SECONDS: /],
    [{ KPKI_KMIP_MAX_CONNECTIONS: "many" }, /^invalid KPKI_KMIP_MAX_CONNECTIONS: /],
    [{ KPKI_BOOTSTRAP_TOKEN: "short" }, /^invalid KPKI_BOOTSTRAP_TOKEN \(value not shown\): /],
  ])("refuses %o with one line naming the variable", (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it("never echoes a secret value", () => {
    expect(() => loadConfig({ KPKI_BOOTSTRAP_TOKEN: "secret-but-short" })).toThrow(/^(?!.*secret-but-short)/);
  });

  it("reads DATABASE_URL_FILE and refuses an unreadable one", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-config-"));
    const file = path.join(dir, "url");
    writeFileSync(file, "postgresql://kpki:pw@db/kpki\n");
    expect(loadConfig({ DATABASE_URL_FILE: file }).databaseUrl).toBe("postgresql://kpki:pw@db/kpki");
    expect(() => loadConfig({ DATABASE_URL_FILE: path.join(dir, "missing") })).toThrow(/^DATABASE_URL_FILE .*cannot be read \(ENOENT\)$/);
  });

  it("reads a JSON config file and lets the environment override it", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-config-"));
    const file = path.join(dir, "kpki.json");
    writeFileSync(file, JSON.stringify({ listen: ":9000", logLevel: "warn" }));
    expect(loadConfig({ KPKI_CONFIG_FILE: file, KPKI_LOG_LEVEL: "error" })).toMatchObject({ listen: ":9000", logLevel: "error" });
    writeFileSync(file, JSON.stringify({ colour: "blue" }));
    expect(() => loadConfig({ KPKI_CONFIG_FILE: file })).toThrow(/unknown setting colour/);
  });
});

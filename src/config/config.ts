import { isIP } from "node:net";
import { z } from "zod";
import { parseAddressRange } from "../core/shared/address-ranges.js";

/** host:port or :port (all interfaces). */
const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, "must be HOST:PORT, [IPv6]:PORT or :PORT")
  .refine((value) => {
    const port = Number(value.slice(value.lastIndexOf(":") + 1));
    return port >= 0 && port <= 65535;
  }, "port must be 0–65535");

const publicName = z
  .string()
  .min(1)
  .max(253)
  .refine(
    (value) => isIP(value) !== 0 || /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(value),
    "must be a DNS name or an IP address",
  );

/** An IPv4/IPv6 CIDR range (or a single address), checked at start. */
const addressRange = z.string().superRefine((value, context) => {
  try {
    parseAddressRange(value);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** Requests per second a token bucket admits on average; 0 turns the limit off. */
const requestRate = z.number().min(0).max(1_000_000);
/** Requests a token bucket admits at once after a quiet spell. */
const requestBurst = z.number().int().min(1).max(1_000_000);

/**
 * The whole configuration, one source of truth: environment variables `KPKI_*` (and `DATABASE_URL`)
 * are mapped onto it by load-config.ts, an optional JSON file may supply the same keys.
 */
export const configSchema = z
  .object({
    /** HTTPS listen address for the REST API. */
    listen: listenAddress.default(":8443"),
    /**
     * KMIP (binary TTLV over mutual TLS) listen address, e.g. `0.0.0.0:5696` (the IANA port);
     * unset: no KMIP listener.
     */
    kmipListen: listenAddress.optional(),
    /** A KMIP connection with nothing in flight and nothing received for this long is closed. */
    kmipIdleTimeoutSeconds: z.number().int().min(1).max(86_400).default(300),
    /** KMIP connections accepted at once. */
    kmipMaxConnections: z.number().int().min(1).max(65_535).default(1024),
    /** Where the embedded database, master key file and CA bundle live. */
    dataDir: z.string().min(1).default("./data"),
    /** `file:…` (SQLite, default `file:<dataDir>/kpki.db`) or `postgresql://…`. */
    databaseUrl: z
      .string()
      .regex(/^(file:.+|postgres(ql)?:\/\/.+)$/, "must be file:PATH or postgresql://…")
      .optional(),
    /** Base64 of 32 bytes; takes precedence over the key file. */
    masterKey: z.string().min(1).optional(),
    /** Path of the master key file (default `<dataDir>/master.key`, created on first start). */
    masterKeyFile: z.string().min(1).optional(),
    /** e.g. https://pki.example.com — put into issued certificates (CRL/OCSP URLs, later issue). */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Extra DNS names / IPs for the service's own TLS certificate. */
    publicNames: z.array(publicName).max(100).default([]),
    /** Presets the bootstrap admin token (automation, tests). At least 32 characters. */
    bootstrapToken: z.string().min(32, "must be at least 32 characters").max(256).optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /**
     * REST requests per second per source address (IPv4 address or IPv6 /64), counted before
     * authentication, in each replica's memory (N replicas admit N× this in total); 0: no limit.
     */
    rateLimitPerAddress: requestRate.default(500),
    rateLimitPerAddressBurst: requestBurst.default(1000),
    /** REST requests per second per authenticated principal (token), per replica; 0: no limit. */
    rateLimitPerPrincipal: requestRate.default(200),
    rateLimitPerPrincipalBurst: requestBurst.default(400),
    /**
     * Address ranges (CIDR) admin-only operations (token.manage, audit.read, key.export,
     * cluster.encryption.export) may come from; empty: from anywhere.
     */
    adminAllow: z.array(addressRange).max(1000).default([]),
    /**
     * Sign OCSP answers with a delegated responder certificate per CA (RFC 6960 §4.2.2.2), valid
     * this many hours, instead of with the CA key itself; 0: the CA signs. At least 2: a certificate
     * is replaced at half its lifetime, and an answer is valid for an hour.
     */
    ocspResponderCertificateHours: z
      .number()
      .int()
      .min(0)
      .max(24 * 30)
      .refine((hours) => hours === 0 || hours >= 2, "must be 0 (off) or at least 2")
      .default(0),
    /** Largest accepted request body (HTTP) and request message (KMIP). */
    maxBodyBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024),
    /**
     * The WebCrypto implementation behind the software crypto backend: Node's built-in one (default;
     * 3–8× faster here, see bench/README.md) or @peculiar/webcrypto.
     */
    cryptoProvider: z.enum(["node", "peculiar"]).default("node"),
    /** Renew kpki-signed CA certificates this many days before they expire (scheduled job). */
    renewBeforeDays: z.number().int().min(1).max(3650).default(30),
    /**
     * A named-key version that decrypted data within this many days is not destroyed, nor retired
     * by raising the minimum decryption version, unless forced; also the usage report's default window.
     */
    keyRecentUseDays: z.number().int().min(1).max(3650).default(30),
    /** Validity of the bootstrap root and internal intermediate CAs. */
    rootCaTtlDays: z.number().int().min(1).max(36500).default(3650),
  })
  .strict();

/** The validated, frozen configuration the composition root receives. */
export type Config = Readonly<z.infer<typeof configSchema>>;

import { pino, type DestinationStream } from "pino";
import type { Logger } from "../../core/shared/logger.js";

/**
 * Field names whose values never reach a log line, wherever they appear (two levels deep): keys,
 * tokens, secrets and ciphertexts. Code should not log them at all; this catches mistakes.
 */
export const REDACTED_PATHS = [
  "authorization",
  "privateKey",
  "privateKeyPem",
  "token",
  "secret",
  "masterKey",
  "password",
  "ciphertext",
  "plaintext",
  "headers.authorization",
  "req.headers.authorization",
  "*.authorization",
  "*.privateKey",
  "*.privateKeyPem",
  "*.token",
  "*.secret",
  "*.masterKey",
  "*.password",
  "*.ciphertext",
  "*.plaintext",
];

/** JSON lines on stdout (or `destination`), secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger & { level: string } {
  return pino(
    {
      level,
      base: { service: "kpki" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

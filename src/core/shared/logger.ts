/**
 * Structured logging port (pino-shaped). Never pass key material, tokens or plaintext: the
 * implementation also redacts well-known secret field names as a second line of defence.
 */
export interface Logger {
  error(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  info(object: object, message?: string): void;
  debug(object: object, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

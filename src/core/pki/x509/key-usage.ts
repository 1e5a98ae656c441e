/** The KeyUsage named bits, in bit order: index = bit number (RFC 5280 §4.2.1.3). */
export const KEY_USAGES = [
  "digitalSignature",
  "contentCommitment",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;

/** One KeyUsage bit by name. */
export type KeyUsage = (typeof KEY_USAGES)[number];

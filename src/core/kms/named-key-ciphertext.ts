import { kmsError } from "./kms-error.js";

/** Prefix of every named-key ciphertext; the version digit is the envelope format. */
const PREFIX = "kpki:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A named-key ciphertext, decoded: which key and version, and the AES-GCM pieces. */
export interface NamedCiphertext {
  readonly name: string;
  readonly version: number;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

/**
 * `kpki:v1:<name>:<version>:<base64url(iv ‖ ciphertext ‖ tag)>` — self-describing, so rotation never
 * breaks old data: decryption finds the version that made it (the Vault transit habit).
 */
export function encodeNamedCiphertext(value: NamedCiphertext): string {
  return `${PREFIX}${value.name}:${value.version}:${Buffer.concat([value.iv, value.ciphertext, value.tag]).toString("base64url")}`;
}

export function decodeNamedCiphertext(text: string): NamedCiphertext {
  const match = /^kpki:v1:([a-z0-9][a-z0-9._-]{0,62}):([1-9][0-9]{0,9}):([A-Za-z0-9_-]+)$/.exec(text);
  const bytes = match?.[3] === undefined ? undefined : Buffer.from(match[3], "base64url");
  if (match === null || bytes === undefined || bytes.length < IV_BYTES + TAG_BYTES) {
    throw kmsError("invalid_input", "Invalid Field", "ciphertext: not a kpki named-key ciphertext (kpki:v1:<name>:<version>:<data>)", "ciphertext");
  }
  return {
    name: match[1] ?? "",
    version: Number(match[2]),
    iv: bytes.subarray(0, IV_BYTES),
    ciphertext: bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

/** The additional data a named-key encryption authenticates: the key, the version and the caller's context. */
export function namedKeyAad(name: string, version: number, context: Uint8Array | undefined): Uint8Array {
  const label = Buffer.from(`${PREFIX}${name}:${version}`, "utf8");
  return context === undefined ? label : Buffer.concat([label, Buffer.from([0]), context]);
}

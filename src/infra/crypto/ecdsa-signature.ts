import { DomainError } from "../../core/shared/domain-error.js";

const INTEGER = 0x02;
const SEQUENCE = 0x30;

/**
 * Converts a WebCrypto ECDSA signature (IEEE P1363: r ‖ s, each exactly the field size) into
 * the DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` of RFC 3279 §2.2.3, the form
 * X.509, CRLs, OCSP and `node:crypto.verify` (dsaEncoding "der") expect.
 */
export function ecdsaP1363ToDer(signature: Uint8Array): Uint8Array {
  if (signature.length === 0 || signature.length % 2 !== 0) {
    throw new DomainError("internal", `ECDSA signature of ${signature.length} bytes is not r ‖ s`);
  }
  const half = signature.length / 2;
  const r = derInteger(signature.subarray(0, half));
  const s = derInteger(signature.subarray(half));
  return derTlv(SEQUENCE, concat(r, s));
}

/** The inverse: DER ECDSA-Sig-Value → r ‖ s, each left-padded to `fieldBytes`. */
export function ecdsaDerToP1363(der: Uint8Array, fieldBytes: number): Uint8Array {
  const sequence = readTlv(der, 0, SEQUENCE);
  if (sequence.end !== der.length) throw malformed("trailing bytes after the SEQUENCE");
  const r = readTlv(der, sequence.start, INTEGER);
  const s = readTlv(der, r.end, INTEGER);
  if (s.end !== sequence.end) throw malformed("trailing bytes inside the SEQUENCE");
  const out = new Uint8Array(fieldBytes * 2);
  out.set(unsignedField(der.subarray(r.start, r.end), fieldBytes), 0);
  out.set(unsignedField(der.subarray(s.start, s.end), fieldBytes), fieldBytes);
  return out;
}

/** X.690 §8.3.2: minimal two's-complement; unsigned values with the high bit set get a 0x00 prefix. */
function derInteger(unsigned: Uint8Array): Uint8Array {
  let first = 0;
  while (first < unsigned.length && unsigned[first] === 0) first++;
  // ECDSA r and s lie in [1, n-1] (SEC 1 §4.1.3); zero would be a provider bug, not a signature.
  if (first === unsigned.length) throw new DomainError("internal", "ECDSA signature has a zero component");
  const magnitude = unsigned.subarray(first);
  const needsPad = (magnitude[0] ?? 0) >= 0x80;
  const content = new Uint8Array(magnitude.length + (needsPad ? 1 : 0));
  content.set(magnitude, needsPad ? 1 : 0);
  return derTlv(INTEGER, content);
}

function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const length = derLength(content.length);
  const out = new Uint8Array(1 + length.length + content.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

/** X.690 §8.1.3: short form below 128, otherwise 0x80|n followed by n big-endian bytes. */
function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function readTlv(der: Uint8Array, offset: number, tag: number): { start: number; end: number } {
  if (der[offset] !== tag) throw malformed(`expected tag 0x${tag.toString(16)} at offset ${offset}`);
  let position = offset + 1;
  const first = der[position++];
  if (first === undefined) throw malformed("truncated length");
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 2) throw malformed("unsupported length form");
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[position++];
      if (byte === undefined) throw malformed("truncated length");
      length = length * 256 + byte;
    }
    if (length < 0x80) throw malformed("non-minimal length");
  }
  const end = position + length;
  if (end > der.length) throw malformed("truncated content");
  return { start: position, end };
}

function unsignedField(integer: Uint8Array, fieldBytes: number): Uint8Array {
  if (integer.length === 0 || (integer[0] ?? 0) >= 0x80) throw malformed("negative or empty INTEGER");
  // Strict DER (X.690 §8.3.2): a leading 0x00 only where the next byte has its high bit set.
  if (integer.length > 1 && integer[0] === 0 && (integer[1] ?? 0) < 0x80) throw malformed("non-minimal INTEGER");
  const magnitude = integer[0] === 0 ? integer.subarray(1) : integer;
  if (magnitude.length > fieldBytes) throw malformed("INTEGER longer than the field");
  const out = new Uint8Array(fieldBytes);
  out.set(magnitude, fieldBytes - magnitude.length);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function malformed(reason: string): DomainError {
  return new DomainError("invalid_input", `signature: not a DER ECDSA-Sig-Value (${reason})`, { field: "signature" });
}

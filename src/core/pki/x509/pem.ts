import { invalidInput, type DomainError } from "../../shared/domain-error.js";
import { withField } from "./field-error.js";

// Textual encoding of DER per RFC 7468: "-----BEGIN label-----", base64 body, "-----END label-----".

// RFC 7468 §3: labels are printable ASCII without '-' at either end; in practice uppercase words.
const LABEL = /^[\x21-\x2c\x2e-\x7e](?:[\x20-\x7e]*[\x21-\x2c\x2e-\x7e])?$/;
const BOUNDARY = /^-----(BEGIN|END) ([\x20-\x7e]*?)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;

/** One decoded PEM block. */
export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

/** Encodes DER as PEM with 64-character lines and a trailing newline (RFC 7468 §2). */
export function pemEncode(label: string, der: Uint8Array): string {
  if (!LABEL.test(label)) throw invalidInput("pem", `invalid PEM label "${label}"`);
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  let body = "";
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/**
 * Decodes every PEM block in `text`, in order. Text between blocks is ignored (RFC 7468 §2
 * "explanatory text"), CRLF and surrounding whitespace are tolerated; the base64 itself is strict.
 */
export function pemDecodeAll(text: string, field = "pem"): PemBlock[] {
  return withField(field, () => decodeAll(text));
}

function decodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let open: { label: string; line: number; body: string[] } | undefined;
  const lines = text.split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    const boundary = BOUNDARY.exec(line);
    if (boundary) {
      const [, kind, label = ""] = boundary;
      if (kind === "BEGIN") {
        if (open) throw invalidInput("pem", `BEGIN ${label} on line ${i + 1} inside the ${open.label} block opened on line ${open.line}`);
        if (!LABEL.test(label)) throw invalidInput("pem", `invalid PEM label "${label}" on line ${i + 1}`);
        open = { label, line: i + 1, body: [] };
      } else {
        if (!open) throw invalidInput("pem", `END ${label} on line ${i + 1} without a matching BEGIN`);
        if (label !== open.label) throw invalidInput("pem", `BEGIN ${open.label} on line ${open.line} ends with END ${label} on line ${i + 1}`);
        blocks.push({ label, der: decodeBody(open.body.join(""), label, open.line) });
        open = undefined;
      }
    } else if (open) {
      if (line.includes(":")) throw invalidInput("pem", `PEM headers (RFC 1421) are not accepted, line ${i + 1}`);
      if (!BASE64_LINE.test(line.replace(/[ \t]/g, ""))) throw invalidInput("pem", `invalid base64 on line ${i + 1}`);
      open.body.push(line.replace(/[ \t]/g, ""));
    }
  }
  if (open) throw invalidInput("pem", `BEGIN ${open.label} on line ${open.line} has no END line`);
  if (blocks.length === 0) throw invalidInput("pem", "no PEM block found");
  return blocks;
}

function decodeBody(b64: string, label: string, line: number): Uint8Array {
  // Strict base64 (RFC 4648 §4): padded to a multiple of 4, '=' only at the end, canonical trailing bits.
  const ok = b64.length > 0 && b64.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(b64);
  const bytes = ok ? Buffer.from(b64, "base64") : undefined;
  if (!bytes || bytes.toString("base64") !== b64) throw invalidInput("pem", `the ${label} block on line ${line} is not valid base64`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The DER of the single PEM block in `text`, whose label must be one of `acceptedLabels`. */
export function pemDecodeOne(text: string, acceptedLabels: readonly string[], field: string): Uint8Array {
  const blocks = pemDecodeAll(text, field);
  const [block] = blocks;
  if (blocks.length !== 1 || block === undefined) throw invalidInput(field, `expected one PEM block, found ${blocks.length}`);
  if (!acceptedLabels.includes(block.label)) throw pemLabelError(field, 0, block.label, acceptedLabels);
  return block.der;
}

/** The invalid_input error for PEM block number `index` (0-based) having a label not in `expected`. */
export function pemLabelError(field: string, index: number, label: string, expected: readonly string[] = ["CERTIFICATE"]): DomainError {
  return invalidInput(field, `PEM block ${index + 1} is "${label}", expected ${expected.map((l) => `"${l}"`).join(" or ")}`);
}

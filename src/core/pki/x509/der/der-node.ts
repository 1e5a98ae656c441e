import { DomainError } from "../../../shared/domain-error.js";

// The parsed-element shape shared by the DER reader and its string/time helpers (X.690 §8.1).

/** Universal tag numbers used in X.509 (X.680 §8.6). */
export const Tag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  NUMERIC_STRING: 18,
  PRINTABLE_STRING: 19,
  TELETEX_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  VISIBLE_STRING: 26,
  UNIVERSAL_STRING: 28,
  BMP_STRING: 30,
} as const;

/** The two class bits of an identifier octet (X.690 §8.1.2.2). */
export type TagClass = "universal" | "application" | "context" | "private";

/** One DER element (TLV). `bytes` and `value` are views into the input, never copies. */
export interface DerNode {
  readonly tag: number;
  readonly tagClass: TagClass;
  readonly constructed: boolean;
  /** Offset of the identifier octet, counted from the start of the outermost input. */
  readonly offset: number;
  readonly headerLength: number;
  /** The full TLV. */
  readonly bytes: Uint8Array;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** Parsed children of a constructed element; empty for primitive ones. */
  readonly children: readonly DerNode[];
}

/** The error every DER-level refusal uses; parsers above prefix it with their field name. */
export function derError(reason: string, offset?: number): DomainError {
  const where = offset === undefined ? "" : ` at offset ${offset}`;
  return new DomainError("invalid_input", `DER: ${reason}${where}`, { field: "der" });
}

/** Human name of a node's tag, for messages. */
export function describeTag(node: Pick<DerNode, "tag" | "tagClass" | "constructed">): string {
  if (node.tagClass === "universal") {
    const name = Object.entries(Tag).find(([, n]) => n === node.tag)?.[0];
    return name !== undefined ? name.replace(/_/g, " ") : `universal ${node.tag}`;
  }
  return `[${node.tagClass === "context" ? "" : `${node.tagClass} `}${node.tag}]${node.constructed ? " constructed" : ""}`;
}


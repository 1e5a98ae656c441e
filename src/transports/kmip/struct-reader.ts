import { KmipError, invalidField, missingData } from "./kmip-error.js";
import { ITEM_TYPE, itemTypeName, type StructureItem, type TtlvItem } from "./ttlv/item.js";
import { describeTag } from "./ttlv/tags.js";

type Of<T extends number> = Extract<TtlvItem, { type: T }>;

/**
 * Reads the children of one structure by tag, strictly: each accessor checks the item type, and
 * `done()` refuses any child nobody asked for. A request field the server silently ignored (a Key
 * Wrapping Specification, say) could make it do something else than the client meant, so an
 * unexpected field is an Invalid Field, never skipped.
 */
export class StructReader {
  private readonly used: Uint8Array;

  constructor(
    readonly item: StructureItem,
    /** What this structure is, for messages ("Create request payload"). */
    readonly what: string,
  ) {
    this.used = new Uint8Array(item.value.length);
  }

  /** Reads a structure item, refusing any other type. */
  static of(item: TtlvItem, what: string): StructReader {
    if (item.type !== ITEM_TYPE.Structure) throw invalidField(`${what}: ${describeTag(item.tag)} must be a Structure, not a ${itemTypeName(item.type)}`);
    return new StructReader(item, what);
  }

  /** Whether an unread child with this tag is present. */
  has(tag: number): boolean {
    return this.item.value.some((child, index) => child.tag === tag && this.used[index] === 0);
  }

  private takeAll<T extends number>(tag: number, type: T): Of<T>[] {
    const found: Of<T>[] = [];
    this.item.value.forEach((child, index) => {
      if (child.tag !== tag || this.used[index] !== 0) return;
      if (child.type !== type) throw invalidField(`${this.what}: ${describeTag(tag)} must be a ${itemTypeName(type)}, not a ${itemTypeName(child.type)}`);
      this.used[index] = 1;
      found.push(child as Of<T>);
    });
    return found;
  }

  private take<T extends number>(tag: number, type: T): Of<T> | undefined {
    const children = this.item.value;
    for (let index = 0; index < children.length; index++) {
      const child = children[index]!;
      if (child.tag !== tag || this.used[index] !== 0) continue;
      if (child.type !== type) throw invalidField(`${this.what}: ${describeTag(tag)} must be a ${itemTypeName(type)}, not a ${itemTypeName(child.type)}`);
      this.used[index] = 1;
      return child as Of<T>;
    }
    return undefined;
  }

  private required<T>(value: T | undefined, tag: number): T {
    if (value === undefined) throw missingData(`${this.what}: ${describeTag(tag)} is required`);
    return value;
  }

  /**
   * A Text String. NUL is refused: it is valid UTF-8, but no KMIP text needs it and PostgreSQL text
   * cannot hold it (found by the fuzzer: a Unique Identifier with a NUL reached the database).
   */
  optionalText(tag: number): string | undefined {
    const value = this.take(tag, ITEM_TYPE.TextString)?.value;
    if (value !== undefined) checkText(value, `${this.what}: ${describeTag(tag)}`);
    return value;
  }
  text(tag: number): string {
    return this.required(this.optionalText(tag), tag);
  }
  texts(tag: number): string[] {
    return this.takeAll(tag, ITEM_TYPE.TextString).map((item) => checkText(item.value, `${this.what}: ${describeTag(tag)}`));
  }

  optionalBytes(tag: number): Uint8Array | undefined {
    return this.take(tag, ITEM_TYPE.ByteString)?.value;
  }
  bytes(tag: number): Uint8Array {
    return this.required(this.optionalBytes(tag), tag);
  }

  optionalInteger(tag: number): number | undefined {
    return this.take(tag, ITEM_TYPE.Integer)?.value;
  }
  integer(tag: number): number {
    return this.required(this.optionalInteger(tag), tag);
  }

  optionalInterval(tag: number): number | undefined {
    return this.take(tag, ITEM_TYPE.Interval)?.value;
  }

  optionalEnumeration(tag: number): number | undefined {
    return this.take(tag, ITEM_TYPE.Enumeration)?.value;
  }
  enumeration(tag: number): number {
    return this.required(this.optionalEnumeration(tag), tag);
  }
  enumerations(tag: number): number[] {
    return this.takeAll(tag, ITEM_TYPE.Enumeration).map((item) => item.value);
  }

  optionalBoolean(tag: number): boolean | undefined {
    return this.take(tag, ITEM_TYPE.Boolean)?.value;
  }

  /** A Date-Time as a Date (whole seconds). */
  optionalDate(tag: number): Date | undefined {
    const item = this.take(tag, ITEM_TYPE.DateTime);
    return item === undefined ? undefined : dateOf(item.value, this.what, tag);
  }
  dates(tag: number): Date[] {
    return this.takeAll(tag, ITEM_TYPE.DateTime).map((item) => dateOf(item.value, this.what, tag));
  }

  optionalStruct(tag: number, what = describeTag(tag)): StructReader | undefined {
    const item = this.take(tag, ITEM_TYPE.Structure);
    return item === undefined ? undefined : new StructReader(item, `${this.what}: ${what}`);
  }
  struct(tag: number, what = describeTag(tag)): StructReader {
    return this.required(this.optionalStruct(tag, what), tag);
  }
  structs(tag: number, what = describeTag(tag)): StructReader[] {
    return this.takeAll(tag, ITEM_TYPE.Structure).map((item) => new StructReader(item, `${this.what}: ${what}`));
  }

  /** The next unread child of any type with this tag (attribute values whose type depends on their name). */
  optionalAny(tag: number): TtlvItem | undefined {
    const index = this.item.value.findIndex((child, i) => child.tag === tag && this.used[i] === 0);
    if (index < 0) return undefined;
    this.used[index] = 1;
    return this.item.value[index];
  }

  /** Every unread child, in order, marking them read (the 2.0 Attributes structure: tags are the names). */
  rest(): TtlvItem[] {
    const out: TtlvItem[] = [];
    this.item.value.forEach((child, index) => {
      if (this.used[index] === 0) {
        this.used[index] = 1;
        out.push(child);
      }
    });
    return out;
  }

  /** Refuses any child that was not read. */
  done(): void {
    const index = this.used.indexOf(0);
    if (index >= 0) {
      const child = this.item.value[index]!;
      throw new KmipError("InvalidField", `${this.what}: unexpected ${describeTag(child.tag)} (${itemTypeName(child.type)}), or a field given twice`);
    }
  }
}

/** Refuses a text with a NUL character (see optionalText). */
export function checkText(value: string, what: string): string {
  if (value.includes("\u0000")) throw invalidField(`${what} must not contain NUL characters`);
  return value;
}

// The dates REST takes (RFC 3339: years 0001–9999); KMIP's 64-bit seconds reach much further.
const FIRST_YEAR_MILLIS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const LAST_YEAR_MILLIS = 253_402_300_799_000; // 9999-12-31T23:59:59Z

/** KMIP Date-Time (seconds, signed 64-bit) → Date, within the years 0001–9999 as REST. */
export function dateOf(seconds: bigint, what: string, tag: number): Date {
  const millis = Number(seconds) * 1000;
  if (!Number.isSafeInteger(millis) || millis < FIRST_YEAR_MILLIS || millis > LAST_YEAR_MILLIS) throw invalidField(`${what}: ${describeTag(tag)} is outside the years 0001–9999`);
  return new Date(millis);
}

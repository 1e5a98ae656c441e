// TTLV items as values (KMIP 1.4 §9.1.1, 2.0 §9.1): what the codec reads and writes. No KMIP
// meaning lives here; tags are plain numbers (tags.ts names them).

/** Item Type codes (KMIP 1.4 §9.1.1.2; 0x0B Date-Time Extended is KMIP 2.0). */
export const ITEM_TYPE = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
} as const;

export type ItemTypeName = keyof typeof ITEM_TYPE;
export type ItemType = (typeof ITEM_TYPE)[ItemTypeName];

const TYPE_NAMES: readonly string[] = Object.entries(ITEM_TYPE).reduce<string[]>((names, [name, code]) => {
  names[code] = name;
  return names;
}, []);

/** "Structure", "Text String"… for messages. */
export function itemTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16).padStart(2, "0")}`;
}

/**
 * One decoded item. Integers and enumerations are JS numbers (32 bits fit), Long Integers,
 * Big Integers, Date-Times and Date-Time Extended are bigint (64 bits and more do not).
 */
export type TtlvItem =
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.Structure; readonly value: readonly TtlvItem[] }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.Integer; readonly value: number }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.LongInteger; readonly value: bigint }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.BigInteger; readonly value: bigint }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.Enumeration; readonly value: number }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.Boolean; readonly value: boolean }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.TextString; readonly value: string }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.ByteString; readonly value: Uint8Array }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.DateTime; readonly value: bigint }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.Interval; readonly value: number }
  | { readonly tag: number; readonly type: typeof ITEM_TYPE.DateTimeExtended; readonly value: bigint };

export type StructureItem = Extract<TtlvItem, { type: typeof ITEM_TYPE.Structure }>;

// Builders. Absent optional children are written as `undefined` and dropped by `structure`, so
// encoders read like the specification's tables.

export function structure(tag: number, children: readonly (TtlvItem | undefined | readonly TtlvItem[])[]): StructureItem {
  const value: TtlvItem[] = [];
  for (const child of children) {
    if (child === undefined) continue;
    if (Array.isArray(child)) value.push(...(child as readonly TtlvItem[]));
    else value.push(child as TtlvItem);
  }
  return { tag, type: ITEM_TYPE.Structure, value };
}

export const integer = (tag: number, value: number): TtlvItem => ({ tag, type: ITEM_TYPE.Integer, value });
export const longInteger = (tag: number, value: bigint): TtlvItem => ({ tag, type: ITEM_TYPE.LongInteger, value });
export const bigInteger = (tag: number, value: bigint): TtlvItem => ({ tag, type: ITEM_TYPE.BigInteger, value });
export const enumeration = (tag: number, value: number): TtlvItem => ({ tag, type: ITEM_TYPE.Enumeration, value });
export const boolean = (tag: number, value: boolean): TtlvItem => ({ tag, type: ITEM_TYPE.Boolean, value });
export const textString = (tag: number, value: string): TtlvItem => ({ tag, type: ITEM_TYPE.TextString, value });
export const byteString = (tag: number, value: Uint8Array): TtlvItem => ({ tag, type: ITEM_TYPE.ByteString, value });
export const interval = (tag: number, value: number): TtlvItem => ({ tag, type: ITEM_TYPE.Interval, value });
/** A Date-Time: whole seconds since the epoch (the fraction is dropped, KMIP 1.4 §9.1.1.4). */
export const dateTime = (tag: number, value: Date): TtlvItem => ({ tag, type: ITEM_TYPE.DateTime, value: BigInt(Math.floor(value.getTime() / 1000)) });

import type { ColumnType, PortableValue } from "./catalog.js";

// The sealed content of a backup file is JSON lines:
//   {"kind":"header", …}                       format, kpki version, migrations, created time, tables with columns and row counts
//   per table, in foreign-key order:
//     {"kind":"table","name":"…"}
//     [v1, v2, …]                              one line per row, values in the header's column order
//     {"kind":"end","name":"…","rows":n,"sha256":"…"}   SHA-256 over the table's row lines (each with its "\n")
//   {"kind":"trailer","tables":[{"name","rows","sha256"}, …]}

/** The content format this build writes and reads. */
export const CONTENT_FORMAT = 1;

export interface TableSummary {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: ColumnType }[];
  readonly rows: number;
}

export interface BackupHeader {
  readonly kind: "header";
  readonly format: typeof CONTENT_FORMAT;
  readonly kpkiVersion: string;
  /** The database the backup was taken from. */
  readonly provider: "sqlite" | "postgresql";
  readonly createdAt: string;
  readonly masterKeyId: string;
  /** Applied migrations, in order; the last one is the migration head. */
  readonly migrations: readonly string[];
  readonly migrationHead: string;
  /** In the order their sections follow. */
  readonly tables: readonly TableSummary[];
}

export interface TableStart {
  readonly kind: "table";
  readonly name: string;
}

export interface TableEnd {
  readonly kind: "end";
  readonly name: string;
  readonly rows: number;
  readonly sha256: string;
}

export interface Trailer {
  readonly kind: "trailer";
  readonly tables: readonly { readonly name: string; readonly rows: number; readonly sha256: string }[];
}

export type ContentLine = BackupHeader | TableStart | TableEnd | Trailer | PortableValue[];

/** One line of the content (without its newline). */
export function contentLine(value: ContentLine): string {
  return `${JSON.stringify(value)}\n`;
}

/** Splits authenticated plaintext segments into lines (a JSON line never holds a raw newline). */
export async function* contentLines(segments: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest = Buffer.alloc(0);
  for await (const segment of segments) {
    let buffer = rest.length === 0 ? segment : Buffer.concat([rest, segment]);
    for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a)) {
      yield buffer.subarray(0, newline + 1).toString("utf8");
      buffer = buffer.subarray(newline + 1);
    }
    rest = Buffer.from(buffer);
  }
  if (rest.length > 0) yield rest.toString("utf8");
}

import { describe, expect, it } from "vitest";
import { foreignKeyOrder, orderSelfReferences, portableDateTime, type CatalogTable } from "./catalog.js";

const table = (name: string, references: { table: string; column?: string }[] = []): CatalogTable => ({
  name,
  columns: [
    { name: "id", type: "text", serial: false },
    { name: "parentId", type: "text", serial: false },
  ],
  primaryKey: ["id"],
  foreignKeys: references.map((reference) => ({ table: reference.table, columns: [reference.column ?? "parentId"], referencedColumns: ["id"] })),
});

describe("backup catalog", () => {
  it("orders tables after the tables they reference, alphabetically among equals", () => {
    const ordered = foreignKeyOrder([table("certificates", [{ table: "authorities" }]), table("authorities", [{ table: "authorities" }, { table: "keys" }]), table("keys"), table("audit")]);
    expect(ordered.map((entry) => entry.name)).toEqual(["audit", "keys", "authorities", "certificates"]);
    expect(() => foreignKeyOrder([table("a", [{ table: "b" }]), table("b", [{ table: "a" }])])).toThrow(/cycle \(a → b → a\)/);
    expect(() => foreignKeyOrder([table("a", [{ table: "missing" }])])).toThrow(/not in the database/);
  });

  it("puts a row a table references in itself (a parent CA) before the rows that reference it", () => {
    const authorities = table("authorities", [{ table: "authorities" }]);
    const rows = [
      ["leaf", "mid"],
      ["mid", "root"],
      ["other", null],
      ["root", null],
    ];
    expect(orderSelfReferences(authorities, rows).map((row) => row[0])).toEqual(["root", "mid", "leaf", "other"]);
    expect(orderSelfReferences(table("plain"), rows)).toEqual(rows);
  });

  it("reads both providers' DateTime text as the same instant", () => {
    expect(portableDateTime("2026-11-27T23:53:54.123+00:00", "t")).toBe("2026-11-27T23:53:54.123Z");
    expect(portableDateTime("2026-11-27 23:53:54.123", "t")).toBe("2026-11-27T23:53:54.123Z");
    expect(portableDateTime("2026-11-27 23:53:54", "t")).toBe("2026-11-27T23:53:54.000Z");
    expect(portableDateTime(1_795_823_634_123n, "t")).toBe("2026-11-27T23:53:54.123Z");
    expect(() => portableDateTime("yesterday", "t")).toThrow(/not a date/);
  });
});

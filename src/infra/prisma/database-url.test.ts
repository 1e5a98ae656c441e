import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultDatabaseUrl, parseDatabaseUrl, type DatabaseTarget } from "./database-url.js";

const cwd = process.cwd();

describe("parseDatabaseUrl", () => {
  const good: [string, DatabaseTarget][] = [
    ["file:./data/kpki.db", { provider: "sqlite", filename: path.join(cwd, "data/kpki.db") }],
    ["file:data/kpki.db", { provider: "sqlite", filename: path.join(cwd, "data/kpki.db") }],
    ["file:../elsewhere/x.db", { provider: "sqlite", filename: path.resolve(cwd, "../elsewhere/x.db") }],
    ["file:/var/lib/kpki/kpki.db", { provider: "sqlite", filename: "/var/lib/kpki/kpki.db" }],
    ["file:///var/lib/kpki/kpki.db", { provider: "sqlite", filename: "/var/lib/kpki/kpki.db" }],
    ["file://localhost/var/lib/kpki.db", { provider: "sqlite", filename: "/var/lib/kpki.db" }],
    ["  file:/x.db  ", { provider: "sqlite", filename: "/x.db" }],
    ["", { provider: "sqlite", filename: path.join(cwd, "state/kpki.db") }],
    ["postgresql://kpki:s3cret@db.example:5432/kpki", { provider: "postgresql", url: "postgresql://kpki:s3cret@db.example:5432/kpki" }],
    ["postgres://kpki@127.0.0.1/kpki?sslmode=require", { provider: "postgresql", url: "postgres://kpki@127.0.0.1/kpki?sslmode=require" }],
    ["postgresql:///kpki?host=/run/postgresql", { provider: "postgresql", url: "postgresql:///kpki?host=/run/postgresql" }],
  ];
  it.each(good)("accepts %j", (url, expected) => {
    expect(parseDatabaseUrl(url, "./state")).toEqual(expected);
  });

  const bad: [string, RegExp][] = [
    ["file:", /without a path/],
    ["file://", /without a path/],
    ["file://db-host/data/kpki.db", /with a host \("db-host"\)/],
    ["file:./kpki.db?mode=ro", /query parameters/],
    ["file::memory:", /in-memory/],
    ["file:./data/", /directory/],
    ["mysql://root@localhost/kpki", /unsupported scheme "mysql:"/],
    ["sqlite:./kpki.db", /unsupported scheme "sqlite:"/],
    ["./data/kpki.db", /expected file:PATH/],
    ["postgresql://", /without host or database/],
    ["postgresql://kpki:pa#ss@db:5432/kpki", /not a valid postgresql:\/\/ URL/],
    ["postgresql://kpki@db:99999/kpki", /not a valid postgresql:\/\/ URL/],
  ];
  it.each(bad)("rejects %j", (url, reason) => {
    expect(() => parseDatabaseUrl(url, "./data")).toThrow(reason);
  });

  it("gives one-line reasons that never repeat a password", () => {
    for (const [url] of bad) {
      const message = captureMessage(() => parseDatabaseUrl(url.replace("pa#ss", "hunter2#"), "./data"));
      expect(message).not.toContain("\n");
      expect(message).not.toContain("hunter2");
    }
  });
});

describe("defaultDatabaseUrl", () => {
  it.each([
    ["./data", "file:./data/kpki.db"],
    ["./data/", "file:./data/kpki.db"],
    ["/var/lib/kpki", "file:/var/lib/kpki/kpki.db"],
    ["/", "file:/kpki.db"],
    ["", "file:./kpki.db"],
  ])("%s → %s", (dataDir, url) => {
    expect(defaultDatabaseUrl(dataDir)).toBe(url);
  });

  it("is accepted by parseDatabaseUrl", () => {
    expect(parseDatabaseUrl(defaultDatabaseUrl("/srv/kpki/"), "/ignored")).toEqual({ provider: "sqlite", filename: "/srv/kpki/kpki.db" });
  });
});

function captureMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected an error");
}

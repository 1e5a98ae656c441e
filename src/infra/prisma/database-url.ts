import path from "node:path";

/** Where the data lives: an embedded SQLite file or a PostgreSQL server. */
export type DatabaseTarget =
  | { readonly provider: "sqlite"; readonly filename: string }
  | { readonly provider: "postgresql"; readonly url: string };

/** The embedded default: `file:<dataDir>/kpki.db`. */
export function defaultDatabaseUrl(dataDir: string): string {
  // "/" must give file:/kpki.db, not file://kpki.db (which would name a host).
  const dir = dataDir === "" ? "." : dataDir.replace(/\/+$/, "");
  return `file:${dir}/kpki.db`;
}

/**
 * Reads `DATABASE_URL`. `file:PATH` is SQLite, with a relative PATH resolved against the process
 * working directory (what the better-sqlite3 driver adapter does: it only strips `file:`);
 * `postgres://…` / `postgresql://…` is PostgreSQL. An empty value means "not set" and gives the
 * embedded default under `dataDir`. Anything else throws an Error with a one-line reason that never
 * repeats the URL (it may hold a password).
 */
export function parseDatabaseUrl(url: string, dataDir: string): DatabaseTarget {
  const value = url.trim();
  if (value === "") return parseDatabaseUrl(defaultDatabaseUrl(dataDir), dataDir);
  if (value.startsWith("file:")) return { provider: "sqlite", filename: sqliteFilename(value) };
  if (/^postgres(ql)?:\/\//i.test(value)) {
    if (/^postgres(ql)?:\/\/$/i.test(value)) {
      throw new Error("DATABASE_URL: postgresql:// URL without host or database");
    }
    if (!URL.canParse(value)) {
      throw new Error("DATABASE_URL: not a valid postgresql:// URL (check the escaping of special characters in the password)");
    }
    return { provider: "postgresql", url: value };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  throw new Error(
    scheme === undefined
      ? "DATABASE_URL: expected file:PATH (SQLite) or postgresql://… (PostgreSQL)"
      : `DATABASE_URL: unsupported scheme "${scheme}:" (expected file:PATH for SQLite or postgresql://… for PostgreSQL)`,
  );
}

function sqliteFilename(value: string): string {
  let rest = value.slice("file:".length);
  if (rest.startsWith("//")) {
    // RFC 8089 form: file:///abs/path (empty host) or file://localhost/abs/path; no other host.
    const slash = rest.indexOf("/", 2);
    const host = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
    if (host !== "" && host.toLowerCase() !== "localhost") {
      throw new Error(`DATABASE_URL: file: URL with a host ("${host}") is not supported; use file:/absolute/path`);
    }
    rest = slash === -1 ? "" : rest.slice(slash);
  }
  if (rest === "") throw new Error("DATABASE_URL: file: URL without a path (e.g. file:./data/kpki.db)");
  if (rest.includes("?") || rest.includes("#")) {
    throw new Error("DATABASE_URL: query parameters are not supported in file: URLs (the driver would take them as part of the file name)");
  }
  if (rest === ":memory:" || rest.startsWith(":memory:")) {
    throw new Error("DATABASE_URL: in-memory SQLite is not supported (every connection would see its own empty database)");
  }
  if (rest.endsWith("/")) throw new Error("DATABASE_URL: file: URL names a directory, not a database file");
  return path.resolve(process.cwd(), rest);
}

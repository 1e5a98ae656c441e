// Prisma CLI configuration (Prisma 6.19, driver adapters, no Rust engines): see ARCHITECTURE.md
// "Offline facts". The CLI is only used to generate clients and to diff schemas into SQL; the
// service applies migrations with its own migrator (src/infra/prisma/migrator.ts).
import { defineConfig } from "prisma/config";
import { tmpdir } from "node:os";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  // The CLI insists on an adapter even for `migrate diff`, which needs no database: give it a scratch file.
  adapter: async () => new PrismaBetterSQLite3({ url: `file:${path.join(tmpdir(), "kpki-prisma-cli.db")}` }),
});

// Prisma CLI configuration (Prisma 6.19, driver adapters, no Rust engines): see ARCHITECTURE.md
// "Offline facts". The CLI is only used to generate clients and to diff schemas into SQL; the
// service applies migrations with its own migrator (src/infra/prisma/migrator.ts).
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  adapter: async () => new PrismaBetterSQLite3({ url: "file:./data/prisma-cli.db" }),
});

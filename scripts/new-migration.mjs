#!/usr/bin/env node
// Writes the next migration for both providers after prisma/schema.prisma changed:
//   npm run migration:new -- <name>          (name: [a-z0-9_]+, e.g. add_key_versions)
// It diffs prisma/migrations/schema.snapshot.prisma (the schema of the latest migration) against
// prisma/schema.prisma with `prisma migrate diff`, for SQLite and for the derived PostgreSQL schemas,
// writes prisma/migrations/{sqlite,postgresql}/NNNN_<name>.sql (same NNNN) and updates the snapshot.
// With no migration and no snapshot yet it diffs from an empty database (that is how 0001_init was made).
// Refuses when nothing changed. Options for tests: --schema PATH --migrations DIR.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { checkMigrationFiles, diffSchemas, displayPath, providers, snapshotFileName } from "./check-migrations.mjs";
import { isMainModule, migrationsDir, sourceSchemaPath } from "./prisma-generate.mjs";

const namePattern = /^[a-z0-9_]+$/;

/** Creates the migration files; returns the paths written. Throws an Error with the reason to refuse. */
export async function newMigration(name, { schemaPath = sourceSchemaPath, dir = migrationsDir } = {}) {
  if (!namePattern.test(name)) throw new Error(`migration name "${name}" must match [a-z0-9_]+ (e.g. add_key_versions)`);
  const { files, problems } = checkMigrationFiles(dir);
  const missingFolders = files.length === 0 && problems.every((problem) => problem.endsWith("does not exist"));
  if (problems.length > 0 && !missingFolders) {
    throw new Error(`fix the migrations directory first:\n  - ${problems.join("\n  - ")}`);
  }
  const snapshotPath = path.join(dir, snapshotFileName);
  const hasSnapshot = existsSync(snapshotPath);
  if (!hasSnapshot && files.length > 0) throw new Error(`${displayPath(snapshotPath)} is missing although migrations exist; restore it from version control`);
  const schema = readFileSync(schemaPath, "utf8");
  const diff = await diffSchemas(hasSnapshot ? readFileSync(snapshotPath, "utf8") : undefined, schema);
  if (providers.every((provider) => diff[provider] === null)) {
    throw new Error(`no schema change since the latest migration (${displayPath(schemaPath)} gives the same SQL as ${displayPath(snapshotPath)})`);
  }
  const fileName = `${String(files.length + 1).padStart(4, "0")}_${name}.sql`;
  const written = [];
  for (const provider of providers) {
    const folder = path.join(dir, provider);
    mkdirSync(folder, { recursive: true });
    const target = path.join(folder, fileName);
    // A provider that sees no change still gets the file, so both lists stay the same.
    writeFileSync(target, diff[provider] ?? "-- This is an empty migration.\n");
    written.push(target);
  }
  copyFileSync(schemaPath, snapshotPath);
  written.push(snapshotPath);
  return written;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { schema: { type: "string" }, migrations: { type: "string" } },
  });
  if (positionals.length !== 1) throw new Error("usage: npm run migration:new -- <name>   (name: [a-z0-9_]+)");
  const written = await newMigration(positionals[0] ?? "", {
    schemaPath: values.schema === undefined ? sourceSchemaPath : path.resolve(values.schema),
    dir: values.migrations === undefined ? migrationsDir : path.resolve(values.migrations),
  });
  for (const file of written) console.log(`wrote ${displayPath(file)}`);
  console.log("Review the SQL (a rename shows up as drop + add: edit it before it is committed and applied anywhere).");
}

if (isMainModule(import.meta.url)) {
  main().catch((error) => {
    console.error(`new-migration: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

#!/usr/bin/env node
// Checks the committed migrations (run by `npm run lint` and CI):
//   - prisma/schema.prisma has no change that the migrations lack (compared with the snapshot the
//     latest migration was made from; a comment-only edit produces no SQL and passes),
//   - both providers have the same migration files,
//   - file names are NNNN_name.sql numbered 0001, 0002, … without gaps or duplicates.
// Usage: node scripts/check-migrations.mjs [--schema prisma/schema.prisma] [--migrations prisma/migrations]
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { derivePostgresqlSchema, isMainModule, migrationsDir, packageRoot, runPrismaOrThrow, sourceSchemaPath } from "./prisma-generate.mjs";

/** The providers, each with a folder of the same name under the migrations directory. */
export const providers = ["sqlite", "postgresql"];
/** NNNN_name.sql, name in [a-z0-9_]. */
export const migrationFilePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** The file in the migrations directory that holds the source schema of the latest migration. */
export const snapshotFileName = "schema.snapshot.prisma";

/** A path as people read it: relative to the package root when inside it. */
export function displayPath(file) {
  const relative = path.relative(packageRoot, file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** Lists one provider's migration folder: { files, problems } (files sorted, problems as sentences). */
export function listMigrationFiles(dir, provider) {
  const folder = path.join(dir, provider);
  if (!existsSync(folder)) return { files: [], problems: [`${displayPath(folder)} does not exist`] };
  const names = readdirSync(folder).filter((name) => !name.startsWith(".")).sort();
  const problems = [];
  const files = [];
  for (const name of names) {
    if (migrationFilePattern.test(name)) files.push(name);
    else problems.push(`${provider}/${name}: not a migration file name (expected NNNN_name.sql with name in [a-z0-9_])`);
  }
  const byNumber = new Map();
  for (const name of files) {
    const number = Number(name.slice(0, 4));
    byNumber.set(number, [...(byNumber.get(number) ?? []), name]);
  }
  for (const names of byNumber.values()) {
    if (names.length > 1) problems.push(`${provider}: ${names.join(" and ")} have the same number`);
  }
  const numbers = [...byNumber.keys()].sort((a, b) => a - b);
  const gapAt = numbers.findIndex((number, index) => number !== index + 1);
  if (gapAt !== -1) {
    const expected = String(gapAt + 1).padStart(4, "0");
    problems.push(`${provider}: numbering must run 0001, 0002, … without gaps (${expected}_… is missing)`);
  }
  return { files, problems };
}

/** Structural checks of the migrations directory (no CLI call): returns { files, problems }. */
export function checkMigrationFiles(dir) {
  const problems = [];
  const lists = providers.map((provider) => {
    const listed = listMigrationFiles(dir, provider);
    problems.push(...listed.problems);
    return listed.files;
  });
  const [sqliteFiles = [], postgresqlFiles = []] = lists;
  const onlySqlite = sqliteFiles.filter((name) => !postgresqlFiles.includes(name));
  const onlyPostgresql = postgresqlFiles.filter((name) => !sqliteFiles.includes(name));
  if (onlySqlite.length > 0) problems.push(`only in sqlite/: ${onlySqlite.join(", ")} (every migration needs both providers)`);
  if (onlyPostgresql.length > 0) problems.push(`only in postgresql/: ${onlyPostgresql.join(", ")} (every migration needs both providers)`);
  return { files: sqliteFiles, problems };
}

/**
 * Diffs two source (SQLite) schema texts with `prisma migrate diff`, for SQLite and for the derived
 * PostgreSQL schemas. `fromText` undefined means an empty database. Returns { sqlite, postgresql }:
 * the SQL script, or null when that provider sees no change.
 */
export async function diffSchemas(fromText, toText) {
  const temp = mkdtempSync(path.join(os.tmpdir(), "kpki-schema-diff-"));
  try {
    const write = (name, text) => {
      const file = path.join(temp, name);
      writeFileSync(file, text);
      return file;
    };
    const variants = {
      sqlite: (text) => text,
      postgresql: (text) => derivePostgresqlSchema(text),
    };
    const result = {};
    await Promise.all(
      providers.map(async (provider) => {
        const to = write(`to.${provider}.prisma`, variants[provider](toText));
        const from = fromText === undefined ? ["--from-empty"] : ["--from-schema-datamodel", write(`from.${provider}.prisma`, variants[provider](fromText))];
        // --exit-code: 0 = no difference, 2 = difference, 1 = error.
        const { code, stdout } = await runPrismaOrThrow(["migrate", "diff", ...from, "--to-schema-datamodel", to, "--script", "--exit-code"], [0, 2]);
        result[provider] = code === 2 ? (stdout.endsWith("\n") ? stdout : `${stdout}\n`) : null;
      }),
    );
    return result;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/**
 * Every check: returns { problems, notes, count }. `schemaPath` is the source schema, `dir` the
 * migrations directory (both injectable so the check itself can be tested on copies).
 */
export async function checkMigrations({ schemaPath = sourceSchemaPath, dir = migrationsDir } = {}) {
  const { files, problems } = checkMigrationFiles(dir);
  const notes = [];
  const snapshotPath = path.join(dir, snapshotFileName);
  if (!existsSync(snapshotPath)) {
    problems.push(`${snapshotFileName} is missing: run \`npm run migration:new -- <name>\``);
    return { problems, notes, count: files.length };
  }
  const normalize = (text) => text.replace(/\r\n/g, "\n");
  const snapshot = normalize(readFileSync(snapshotPath, "utf8"));
  const schema = normalize(readFileSync(schemaPath, "utf8"));
  if (snapshot !== schema) {
    const diff = await diffSchemas(snapshot, schema);
    const changed = providers.filter((provider) => diff[provider] !== null);
    if (changed.length > 0) {
      problems.push(
        `${displayPath(schemaPath)} changed since the latest migration (${changed.join(" and ")} SQL would change): ` +
          "run `npm run migration:new -- <name>` and commit the new files",
      );
    } else {
      notes.push(`${displayPath(schemaPath)} differs from ${snapshotFileName} in comments or layout only (no SQL change)`);
    }
  }
  return { problems, notes, count: files.length };
}

async function main() {
  const { values } = parseArgs({ options: { schema: { type: "string" }, migrations: { type: "string" } } });
  const result = await checkMigrations({
    schemaPath: values.schema === undefined ? sourceSchemaPath : path.resolve(values.schema),
    dir: values.migrations === undefined ? migrationsDir : path.resolve(values.migrations),
  });
  for (const note of result.notes) console.log(`note: ${note}`);
  if (result.problems.length > 0) {
    console.error(`check-migrations: ${result.problems.length} problem(s):`);
    for (const problem of result.problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  console.log(`check-migrations: OK (${result.count} migration(s) per provider, schema matches the latest migration)`);
}

if (isMainModule(import.meta.url)) {
  main().catch((error) => {
    console.error(`check-migrations: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

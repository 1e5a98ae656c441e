import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (src/**/*.test.ts); integration and end-to-end suites live in test/.
// Every suite runs against SQLite by default and against PostgreSQL when TEST_DATABASE_URL is set
// (each test file creates and drops its own database: test/helpers/test-database.ts).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});

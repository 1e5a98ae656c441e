// Process entry point: dispatches argv to the CLI with the host operations the composition root provides.
import { readFileSync } from "node:fs";
import { createLocalOperations } from "./app.js";
import { runCli } from "./transports/cli/program.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
process.exitCode = await runCli(process.argv, {
  local: createLocalOperations(process.env),
  io: { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
  env: process.env,
  version,
});

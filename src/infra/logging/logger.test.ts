import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger("info", stream) };
}

describe("logger", () => {
  it("writes JSON lines with level names and ISO times", () => {
    const { lines, logger } = capture();
    logger.child({ requestId: "r-1" }).info({ path: "/healthz" }, "request");
    const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(entry).toMatchObject({ level: "info", service: "kpki", requestId: "r-1", path: "/healthz", msg: "request" });
    expect(typeof entry.time).toBe("string");
  });

  it.each([
    [{ token: "kpki_secret" }],
    [{ privateKeyPem: "-----BEGIN PRIVATE KEY-----" }],
    [{ request: { authorization: "Bearer kpki_secret" } }],
    [{ headers: { authorization: "Bearer kpki_secret" } }],
    [{ body: { privateKey: "MIIE", secret: "s3", password: "pw" } }],
    [{ masterKey: "base64key" }],
  ])("redacts secrets wherever they appear: %o", (fields) => {
    const { lines, logger } = capture();
    logger.info(fields, "event");
    const line = lines[0] ?? "";
    expect(line).toContain("[redacted]");
    expect(line).not.toMatch(/kpki_secret|BEGIN PRIVATE KEY|MIIE|s3|"pw"|base64key/);
  });
});

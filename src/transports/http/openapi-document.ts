import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** `openapi/openapi.yaml` of this package, found from this module whether run from src/ or dist/. */
export function openApiPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "openapi", "openapi.yaml");
    try {
      readFileSync(candidate, { flag: "r" });
      return candidate;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) throw new Error("openapi/openapi.yaml not found above " + fileURLToPath(import.meta.url));
      dir = parent;
    }
  }
}

/** The committed OpenAPI contract, parsed once: the validator checks requests against it and /openapi.json serves it. */
export function loadOpenApiDocument(): Record<string, unknown> {
  return parse(readFileSync(openApiPath(), "utf8")) as Record<string, unknown>;
}

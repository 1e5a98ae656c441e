import { Router, type Request } from "express";
import type { NamedKeyAlgorithm, NamedKeyService } from "../../../core/kms/index.js";
import { base64, base64Field, invalidField, keyVersionJson, namedKeyJson, forceRequested, optionalBase64, usageReportJson } from "../kms-json.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the named-key routes. */
export interface NamedKeyRouteDependencies {
  readonly namedKeys: NamedKeyService;
}

/** The key a named-key ciphertext (`kpki:v1:<name>:<version>:<data>`) says it was made with. */
const CIPHERTEXT_KEY = /^kpki:v1:([^:]+):/;

/**
 * A ciphertext sent to `/v1/keys/{key}/…` must have been made with that key: access is decided on
 * the path, so a ciphertext of another key is refused rather than decrypted with it. A ciphertext
 * that is not kpki's at all is left to the core, which says so.
 */
function assertMadeWith(ciphertext: string, name: string): void {
  const madeWith = CIPHERTEXT_KEY.exec(ciphertext)?.[1];
  if (madeWith !== undefined && madeWith !== name) throw invalidField("ciphertext", `made with named key ${madeWith}, not ${name}`);
}

/**
 * Encryption as a service on named keys (`/v1/keys`): versions rotate, ciphertexts name the version
 * that made them, decryption works from the minimum decryption version up. Each version is a
 * managed AES key (KMIP Re-key links them).
 */
export function namedKeyRoutes(deps: NamedKeyRouteDependencies): Router {
  const router = Router();
  const key = (req: Request) => String(req.params.key);

  router.get("/v1/keys", async (_req, res) => {
    res.json({ items: (await deps.namedKeys.list()).map(namedKeyJson) });
  });

  router.post("/v1/keys", async (req, res) => {
    const body = req.body as { name: string; algorithm?: NamedKeyAlgorithm; rotatePeriodSeconds?: number };
    const created = await deps.namedKeys.create(requestContext(res), { name: body.name, algorithm: body.algorithm, rotatePeriodSeconds: body.rotatePeriodSeconds });
    res.status(201).location(`/v1/keys/${created.name}`).json(namedKeyJson(created));
  });

  router.get("/v1/keys/:key", async (req, res) => {
    const { key: named, versions } = await deps.namedKeys.get(key(req));
    res.json({ ...namedKeyJson(named), versions: versions.map(keyVersionJson) });
  });

  router.patch("/v1/keys/:key", async (req, res) => {
    const body = req.body as { minDecryptionVersion?: number; rotatePeriodSeconds?: number | null };
    res.json(namedKeyJson(await deps.namedKeys.update(requestContext(res), key(req), body, { force: forceRequested(req.query) })));
  });

  router.get("/v1/keys/:key/usage-report", async (req, res) => {
    const windowDays = (req.query as { windowDays?: string }).windowDays;
    res.json(usageReportJson(await deps.namedKeys.usageReport(key(req), windowDays === undefined ? undefined : Number(windowDays) * 86_400)));
  });

  router.post("/v1/keys/:key/rotate", async (req, res) => {
    res.json(namedKeyJson(await deps.namedKeys.rotate(requestContext(res), key(req))));
  });

  router.post("/v1/keys/:key/encrypt", async (req, res) => {
    const body = req.body as { plaintext: string; context?: string };
    const plaintext = base64Field(body.plaintext, "plaintext");
    const ciphertext = await deps.namedKeys.encrypt(requestContext(res), key(req), plaintext, optionalBase64(body.context, "context"));
    res.json({ ciphertext });
  });

  router.post("/v1/keys/:key/decrypt", async (req, res) => {
    const body = req.body as { ciphertext: string; context?: string };
    assertMadeWith(body.ciphertext, key(req));
    const plaintext = await deps.namedKeys.decrypt(requestContext(res), body.ciphertext, optionalBase64(body.context, "context"));
    const encoded = base64(plaintext);
    plaintext.fill(0);
    res.json({ plaintext: encoded });
  });

  router.post("/v1/keys/:key/rewrap", async (req, res) => {
    const body = req.body as { ciphertext: string; context?: string };
    assertMadeWith(body.ciphertext, key(req));
    res.json({ ciphertext: await deps.namedKeys.rewrap(requestContext(res), body.ciphertext, optionalBase64(body.context, "context")) });
  });

  router.post("/v1/keys/:key/datakey", async (req, res) => {
    const body = (req.body ?? {}) as { bits?: 128 | 256; wrappedOnly?: boolean; context?: string };
    const dataKey = await deps.namedKeys.generateDataKey(requestContext(res), key(req), { bits: body.bits, wrappedOnly: body.wrappedOnly, aadContext: optionalBase64(body.context, "context") });
    const plaintext = dataKey.plaintext === undefined ? undefined : base64(dataKey.plaintext);
    dataKey.plaintext?.fill(0);
    res.json({ ciphertext: dataKey.ciphertext, ...(plaintext === undefined ? {} : { plaintext }) });
  });

  return router;
}

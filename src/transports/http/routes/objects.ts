import { Router, type Request, type Response } from "express";
import type { AccessGuard } from "../../../core/access/index.js";
import type { KeyFormat, KmsAccess, KmsDispatcher, KmsOperation } from "../../../core/kms/index.js";
import type { Clock } from "../../../core/shared/clock.js";
import { DomainError, isDomainError } from "../../../core/shared/domain-error.js";
import { batchOutcomeJson, forceRequested, kmsResultJson, objectJson } from "../kms-json.js";
import {
  batchItemOperation,
  createKeyPairRequest,
  createRequest,
  decryptOperation,
  encryptOperation,
  locateQuery,
  macOperation,
  macVerifyOperation,
  registerRequest,
  revokeReason,
  signOperation,
  verifyOperation,
  type AttributeBody,
  type BatchItemBody,
  type CreateBody,
  type CreateKeyPairBody,
  type DecryptBody,
  type EncryptBody,
  type MacBody,
  type MacVerifyBody,
  type RegisterBody,
  type RevokeBody,
  type SignBody,
  type VerifyBody,
} from "../kms-operation-json.js";
import { requestContext, requestState } from "../request-state.js";

/** Dependencies of the managed-object routes. */
export interface ObjectRouteDependencies {
  readonly kms: KmsDispatcher;
  readonly access: AccessGuard;
  readonly clock: Clock;
}

/** The key service's access decisions for this request's caller; a refusal is KMIP's Permission Denied. */
function keyServiceAccess(access: AccessGuard, res: Response): KmsAccess {
  const state = requestState(res);
  const decisions = access.keyService({ principal: state.principal, requestId: state.requestId });
  return {
    needsKeyName: decisions.needsKeyName,
    check: async (operation, target) => {
      try {
        await decisions.check(operation, target);
      } catch (error) {
        if (isDomainError(error)) throw new DomainError(error.code, error.message, { reason: "Permission Denied" });
        throw error;
      }
    },
  };
}

/**
 * KMIP operations on managed objects (`/v1/objects`), RNG Retrieve and the KMIP batch. Each
 * endpoint decodes its JSON into one core operation and runs it through the dispatcher the KMIP
 * transport uses too, so both protocols mean the same thing by the same operation.
 */
export function objectRoutes(deps: ObjectRouteDependencies): Router {
  const router = Router();
  const uid = (req: Request) => String(req.params.uid);

  /** Runs one operation and answers with its JSON. */
  const run = async (res: Response, operation: KmsOperation, status = 200): Promise<void> => {
    const result = await deps.kms.execute(requestContext(res), operation, keyServiceAccess(deps.access, res));
    const created = "object" in result ? result.object : "privateKey" in result ? result.privateKey : undefined;
    if (status === 201 && created !== undefined) res.location(`/v1/objects/${created.uid}`);
    res.status(status).json(kmsResultJson(result, deps.clock.now()));
  };

  router.post("/v1/objects", async (req, res) => {
    await run(res, { operation: "Create", request: createRequest(req.body as CreateBody) }, 201);
  });

  router.post("/v1/objects/key-pairs", async (req, res) => {
    await run(res, { operation: "CreateKeyPair", request: createKeyPairRequest(req.body as CreateKeyPairBody) }, 201);
  });

  router.post("/v1/objects/register", async (req, res) => {
    await run(res, { operation: "Register", request: registerRequest(req.body as RegisterBody) }, 201);
  });

  router.get("/v1/objects", async (req, res) => {
    await run(res, { operation: "Locate", query: locateQuery(req.query) });
  });

  router.get("/v1/objects/:uid", async (req, res) => {
    res.json(objectJson(await deps.kms.find(uid(req), keyServiceAccess(deps.access, res)), deps.clock.now()));
  });

  router.delete("/v1/objects/:uid", async (req, res) => {
    await run(res, { operation: "Destroy", uid: uid(req), force: forceRequested(req.query) });
  });

  router.get("/v1/objects/:uid/value", async (req, res) => {
    const format = (req.query as { format?: KeyFormat }).format;
    await run(res, { operation: "Get", uid: uid(req), format });
  });

  router.get("/v1/objects/:uid/attributes", async (req, res) => {
    const names = (req.query as { name?: string | string[] }).name;
    await run(res, { operation: "GetAttributes", uid: uid(req), names: names === undefined ? undefined : [names].flat() });
  });

  router.post("/v1/objects/:uid/attributes", async (req, res) => {
    const body = req.body as AttributeBody;
    await run(res, { operation: "ChangeAttribute", uid: uid(req), change: { action: "add", name: body.name, value: body.value } });
  });

  router.put("/v1/objects/:uid/attributes/:attribute", async (req, res) => {
    const body = req.body as { value: string; current?: string };
    await run(res, { operation: "ChangeAttribute", uid: uid(req), change: { action: "modify", name: String(req.params.attribute), value: body.value, current: body.current } });
  });

  router.delete("/v1/objects/:uid/attributes/:attribute", async (req, res) => {
    const value = (req.query as { value?: string }).value;
    await run(res, { operation: "ChangeAttribute", uid: uid(req), change: { action: "delete", name: String(req.params.attribute), value } });
  });

  router.get("/v1/objects/:uid/attribute-list", async (req, res) => {
    await run(res, { operation: "GetAttributeList", uid: uid(req) });
  });

  router.post("/v1/objects/:uid/activate", async (req, res) => {
    await run(res, { operation: "Activate", uid: uid(req) });
  });

  router.post("/v1/objects/:uid/revoke", async (req, res) => {
    await run(res, { operation: "Revoke", uid: uid(req), reason: revokeReason(req.body as RevokeBody) });
  });

  router.post("/v1/objects/:uid/rekey", async (req, res) => {
    const body = (req.body ?? {}) as { offsetSeconds?: number };
    await run(res, { operation: "ReKey", uid: uid(req), offsetSeconds: body.offsetSeconds }, 201);
  });

  router.post("/v1/objects/:uid/rekey-key-pair", async (req, res) => {
    const body = (req.body ?? {}) as { offsetSeconds?: number };
    await run(res, { operation: "ReKeyKeyPair", uid: uid(req), offsetSeconds: body.offsetSeconds }, 201);
  });

  router.post("/v1/objects/:uid/encrypt", async (req, res) => {
    await run(res, encryptOperation(uid(req), req.body as EncryptBody));
  });

  router.post("/v1/objects/:uid/decrypt", async (req, res) => {
    await run(res, decryptOperation(uid(req), req.body as DecryptBody));
  });

  router.post("/v1/objects/:uid/sign", async (req, res) => {
    await run(res, signOperation(uid(req), req.body as SignBody));
  });

  router.post("/v1/objects/:uid/verify", async (req, res) => {
    await run(res, verifyOperation(uid(req), req.body as VerifyBody));
  });

  router.post("/v1/objects/:uid/mac", async (req, res) => {
    await run(res, macOperation(uid(req), req.body as MacBody));
  });

  router.post("/v1/objects/:uid/mac-verify", async (req, res) => {
    await run(res, macVerifyOperation(uid(req), req.body as MacVerifyBody));
  });

  router.post("/v1/rng", async (req, res) => {
    await run(res, { operation: "RNGRetrieve", length: (req.body as { lengthBytes: number }).lengthBytes });
  });

  router.post("/v1/batch", async (req, res) => {
    const body = req.body as { items: BatchItemBody[]; onError?: "continue" | "stop" };
    // Every item is decoded before any runs: a malformed item fails the whole request (KMIP:
    // a message that does not parse is refused as a whole), naming the item.
    const operations = body.items.map((item, index) => batchItemOperation(item, `items.${index}`));
    const outcomes = await deps.kms.batch(requestContext(res), operations, { onError: body.onError ?? "continue", access: keyServiceAccess(deps.access, res) });
    const now = deps.clock.now();
    res.json({ items: outcomes.map((outcome, index) => batchOutcomeJson(outcome, body.items[index]?.operation ?? outcome.status, now)) });
  });

  return router;
}

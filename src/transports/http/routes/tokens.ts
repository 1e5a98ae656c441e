import { Router } from "express";
import type { Role, TokenService } from "../../../core/access/index.js";
import type { TokenId } from "../../../core/shared/ids.js";
import { tokenJson } from "../presenters.js";
import { requestContext } from "../request-state.js";

/** API token administration. */
export function tokenRoutes(deps: { readonly tokens: TokenService }): Router {
  const router = Router();
  router.post("/v1/tokens", async (req, res) => {
    const body = req.body as { name: string; role: Role; scope?: unknown; ttlSeconds?: number };
    const created = await deps.tokens.create(requestContext(res), {
      name: body.name,
      role: body.role,
      ...(body.scope === undefined ? {} : { scope: body.scope }),
      ...(body.ttlSeconds === undefined ? {} : { ttlSeconds: body.ttlSeconds }),
    });
    res.status(201).json({ ...tokenJson(created.token), token: created.secret });
  });
  router.get("/v1/tokens", async (_req, res) => {
    res.json({ items: (await deps.tokens.list()).map(tokenJson) });
  });
  router.delete("/v1/tokens/:id", async (req, res) => {
    res.json(tokenJson(await deps.tokens.revoke(requestContext(res), String(req.params.id) as TokenId)));
  });
  return router;
}

import { Router } from "express";
import type { ProfileCatalog } from "../../../core/pki/index.js";
import { profileJson } from "../presenters.js";

/** The certificate profiles, public so clients can see what they may ask for. */
export function profileRoutes(deps: { readonly profiles: ProfileCatalog }): Router {
  const router = Router();
  router.get("/v1/profiles", (_req, res) => {
    res.json({ items: deps.profiles.list().map(profileJson) });
  });
  return router;
}

import { Router, type Request } from "express";
import type { ClusterEncryptionService, ConfigureEncryptionRequest, EncryptionRotationStep } from "../../../core/kubernetes/index.js";
import type { Clock } from "../../../core/shared/clock.js";
import { encryptionConfigYaml, encryptionJson } from "../encryption-json.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the encryption-at-rest routes. */
export interface ClusterEncryptionRouteDependencies {
  readonly clusterEncryption: ClusterEncryptionService;
  readonly clock: Clock;
}

/**
 * A cluster's encryption at rest (`/v1/clusters/{cluster}/encryption`): the setup, the rendered
 * EncryptionConfiguration (YAML; holds static keys, so it has a permission of its own) and the
 * rotation runbook.
 */
export function clusterEncryptionRoutes(deps: ClusterEncryptionRouteDependencies): Router {
  const router = Router();
  const cluster = (req: Request) => String(req.params.cluster);

  router.get("/v1/clusters/:cluster/encryption", async (req, res) => {
    res.json(encryptionJson(await deps.clusterEncryption.get(cluster(req))));
  });

  router.put("/v1/clusters/:cluster/encryption", async (req, res) => {
    res.json(encryptionJson(await deps.clusterEncryption.configure(requestContext(res), cluster(req), req.body as ConfigureEncryptionRequest)));
  });

  router.get("/v1/clusters/:cluster/encryption/config", async (req, res) => {
    const rendered = await deps.clusterEncryption.render(requestContext(res), cluster(req));
    res.type("application/yaml").send(encryptionConfigYaml(rendered, deps.clock.now()));
  });

  router.post("/v1/clusters/:cluster/encryption/rotation", async (req, res) => {
    res.json(encryptionJson(await deps.clusterEncryption.startRotation(requestContext(res), cluster(req))));
  });

  router.post("/v1/clusters/:cluster/encryption/rotation/next", async (req, res) => {
    const body = (req.body ?? {}) as { completedStep?: EncryptionRotationStep };
    res.json(encryptionJson(await deps.clusterEncryption.advance(requestContext(res), cluster(req), body.completedStep)));
  });

  return router;
}

import { Router, type Request } from "express";
import {
  serviceAccountKeyId,
  type AdvanceRequest,
  type KubernetesKeyAlgorithm,
  type ServiceAccountKeyService,
  type ServiceAccountKeyStatus,
  type ServiceAccountKeyVersion,
} from "../../../core/kubernetes/index.js";
import { x509 } from "../../../core/pki/index.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the service-account key routes. */
export interface ServiceAccountKeyRouteDependencies {
  readonly serviceAccountKeys: ServiceAccountKeyService;
}

const optionalDate = (name: string, value: Date | undefined) => (value === undefined ? {} : { [name]: value.toISOString() });

function versionJson(version: ServiceAccountKeyVersion) {
  return {
    version: version.version,
    state: version.state,
    algorithm: version.algorithm,
    keyId: serviceAccountKeyId(version.publicKeySpki),
    publicKeyPem: x509.pemEncode("PUBLIC KEY", version.publicKeySpki),
    createdAt: version.createdAt.toISOString(),
    ...optionalDate("signingFrom", version.signingFrom),
    ...optionalDate("signingUntil", version.signingUntil),
    ...optionalDate("retireAfter", version.retireAfter),
    ...optionalDate("retiredAt", version.retiredAt),
  };
}

/** A cluster's service-account keys: the versions and where the rotation stands. */
function statusJson(status: ServiceAccountKeyStatus) {
  return {
    cluster: status.cluster.name,
    step: status.step,
    nextStep: status.nextStep,
    ...optionalDate("retireAfter", status.previous?.retireAfter),
    signingVersion: status.signing.version,
    verificationVersions: status.verification.map((v) => v.version),
    overlapSeconds: status.cluster.serviceAccountKeyOverlapSeconds,
    ...(status.cluster.serviceAccountKeyRotationPeriodSeconds === null ? {} : { rotationPeriodSeconds: status.cluster.serviceAccountKeyRotationPeriodSeconds }),
    versions: status.versions.map(versionJson),
  };
}

/** Service-account key rotation (reference/kubernetes.md §5) and the sa.key / sa.pub files. */
export function serviceAccountKeyRoutes(deps: ServiceAccountKeyRouteDependencies): Router {
  const router = Router();
  const cluster = (req: Request) => String(req.params.cluster);

  // Public, as kube-apiserver publishes these keys too (JWKS at /openid/v1/jwks): the signing key,
  // or with ?all=true every key sa.pub lists (what `kpki kubeadm sign` checks an existing sa.key against).
  router.get("/v1/clusters/:cluster/service-account-key", async (req, res) => {
    // The validator may have coerced the query value to a boolean already.
    const flag: unknown = req.query.all;
    const all = flag === true || flag === "true";
    const pem = all ? await deps.serviceAccountKeys.verificationPublicKeysPem(cluster(req)) : x509.pemEncode("PUBLIC KEY", await deps.serviceAccountKeys.signingPublicKey(cluster(req)));
    res.type("application/x-pem-file").send(pem);
  });

  router.get("/v1/clusters/:cluster/service-account-keys", async (req, res) => {
    res.json(statusJson(await deps.serviceAccountKeys.status(cluster(req))));
  });

  router.post("/v1/clusters/:cluster/service-account-keys/rotation", async (req, res) => {
    const body = (req.body ?? {}) as { keyAlgorithm?: KubernetesKeyAlgorithm };
    const status = await deps.serviceAccountKeys.start(requestContext(res), cluster(req), body.keyAlgorithm === undefined ? {} : { keyAlgorithm: body.keyAlgorithm });
    res.status(201).json({ ...statusJson(status), taken: "publish" });
  });

  router.post("/v1/clusters/:cluster/service-account-keys/rotation/next", async (req, res) => {
    const body = (req.body ?? {}) as AdvanceRequest;
    const result = await deps.serviceAccountKeys.advance(requestContext(res), cluster(req), {
      ...(body.force === undefined ? {} : { force: body.force }),
      ...(body.step === undefined ? {} : { step: body.step }),
    });
    res.json({ ...statusJson(result.status), taken: result.step });
  });

  // sa.key leaves kpki here: the same permission as kubeadm signing (which also hands it out), audited.
  router.get("/v1/clusters/:cluster/service-account-keys/files", async (req, res) => {
    const files = await deps.serviceAccountKeys.exportFiles(requestContext(res), cluster(req));
    res.json({
      cluster: cluster(req),
      step: files.step,
      signingVersion: files.signingVersion,
      verificationVersions: files.verificationVersions,
      privateKeyPem: files.privateKeyPem,
      publicKeyPem: files.publicKeyPem,
    });
  });
  return router;
}

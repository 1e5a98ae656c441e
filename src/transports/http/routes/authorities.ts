import { Router, type Request } from "express";
import type { AuthorityImportService, CertificateAuthority, HierarchyService } from "../../../core/pki/index.js";
import { x509 } from "../../../core/pki/index.js";
import type { KeyAlgorithm } from "../../../core/crypto/algorithms.js";
import { DomainError } from "../../../core/shared/domain-error.js";
import { certificatesFromPem, derFromPem, generalNames, pkcs8FromPem } from "../pem-input.js";
import { authorityJson, certificatesPem } from "../presenters.js";
import { requestContext } from "../request-state.js";

/** Dependencies of the CA routes. */
export interface AuthorityRouteDependencies {
  readonly hierarchy: HierarchyService;
  readonly authorityImport: AuthorityImportService;
}

/** Request bodies as the OpenAPI validator has already checked them. */
interface CreateBody {
  name: string;
  type: "root" | "intermediate" | "external";
  parent?: string;
  subject: x509.SubjectFields;
  keyAlgorithm?: KeyAlgorithm;
  ttlSeconds?: number;
  pathLength?: number;
  subjectAltNames?: string[];
}
interface ImportBody {
  name: string;
  certificate: string;
  privateKey: string;
  parent?: string;
  chain?: string;
}
interface InstallBody {
  certificate: string;
  chain?: string;
}

/** The CA hierarchy: list, create, import, install, and the public certificates and chains. */
export function authorityRoutes(deps: AuthorityRouteDependencies): Router {
  const router = Router();
  const namesById = async () => new Map((await deps.hierarchy.list()).map((ca) => [ca.id as string, ca.name]));
  const present = async (ca: CertificateAuthority) => authorityJson(ca, await namesById());
  const nameOf = (req: Request) => String(req.params.name);

  router.get("/v1/authorities", async (_req, res) => {
    const all = await deps.hierarchy.list();
    const names = new Map(all.map((ca) => [ca.id as string, ca.name]));
    res.json({ items: all.map((ca) => authorityJson(ca, names)) });
  });

  router.post("/v1/authorities", async (req, res) => {
    const body = req.body as CreateBody;
    const subjectAltNames = generalNames(body.subjectAltNames, "subjectAltNames");
    const ca = await deps.hierarchy.create(requestContext(res), {
      name: body.name,
      type: body.type,
      ...(body.parent === undefined ? {} : { parent: body.parent }),
      subject: body.subject,
      keyAlgorithm: body.keyAlgorithm ?? "ECDSA-P256",
      ...(body.ttlSeconds === undefined ? {} : { ttlSeconds: body.ttlSeconds }),
      ...(body.pathLength === undefined ? {} : { pathLength: body.pathLength }),
      ...(subjectAltNames === undefined ? {} : { subjectAltNames }),
    });
    res.status(201).location(`/v1/authorities/${ca.name}`).json(await present(ca));
  });

  router.post("/v1/authorities/import", async (req, res) => {
    const body = req.body as ImportBody;
    const ca = await deps.authorityImport.import(requestContext(res), {
      name: body.name,
      certificateDer: derFromPem(body.certificate, ["CERTIFICATE"], "certificate"),
      privateKeyPkcs8: pkcs8FromPem(body.privateKey, "privateKey"),
      ...(body.parent === undefined ? {} : { parent: body.parent }),
      chainDer: certificatesFromPem(body.chain, "chain"),
    });
    res.status(201).location(`/v1/authorities/${ca.name}`).json(await present(ca));
  });

  router.get("/v1/authorities/:name", async (req, res) => {
    res.json(await present(await deps.hierarchy.get(nameOf(req))));
  });

  router.get("/v1/authorities/:name/certificate", async (req, res) => {
    const ca = await deps.hierarchy.get(nameOf(req));
    if (ca.certificateDer === undefined) throw new DomainError("wrong_state", `CA ${ca.name} has no certificate yet (pending installation)`);
    if (req.query.format === "der" || (req.query.format === undefined && req.accepts(["application/x-pem-file", "application/pkix-cert"]) === "application/pkix-cert")) {
      res.type("application/pkix-cert").send(Buffer.from(ca.certificateDer));
      return;
    }
    res.type("application/x-pem-file").send(certificatesPem([ca.certificateDer]));
  });

  router.put("/v1/authorities/:name/certificate", async (req, res) => {
    const body = req.body as InstallBody;
    const ca = await deps.authorityImport.install(requestContext(res), {
      name: nameOf(req),
      certificateDer: derFromPem(body.certificate, ["CERTIFICATE"], "certificate"),
      chainDer: certificatesFromPem(body.chain, "chain"),
    });
    res.json(await present(ca));
  });

  router.get("/v1/authorities/:name/chain", async (req, res) => {
    res.type("application/x-pem-file").send(certificatesPem(await deps.hierarchy.chain(nameOf(req))));
  });

  router.get("/v1/authorities/:name/csr", async (req, res) => {
    const ca = await deps.hierarchy.get(nameOf(req));
    if (ca.csrDer === undefined) throw new DomainError("not_found", `CA ${ca.name} has no CSR (only CAs created for an external CA do)`);
    res.type("application/x-pem-file").send(x509.pemEncode("CERTIFICATE REQUEST", ca.csrDer));
  });
  return router;
}

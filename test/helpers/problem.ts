import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Express } from "express";
import request, { type Response, type Test } from "supertest";
import { expect } from "vitest";
import { parse as parseYaml } from "yaml";
import type { TestRuntime } from "./runtime.js";

// Assertions for refusals: an RFC 9457 problem with kpki's `code` (and `field`), and nothing stored.

/** An RFC 9457 problem as kpki writes it. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly code: string;
  readonly field?: string;
  readonly requestId?: string;
  readonly errors?: readonly { readonly path?: string; readonly message?: string }[];
}

/** What a refusal is expected to look like. */
export interface ExpectedProblem {
  readonly status: number;
  readonly code: string;
  /** Text or pattern the `detail` must contain / match. */
  readonly detail?: string | RegExp;
  /** The exact `field`, or `null` for "no field". Not checked when absent. */
  readonly field?: string | null;
}

/**
 * Asserts `res` is an application/problem+json response with the RFC 9457 members, kpki's `code`
 * and `requestId` (equal to the X-Request-Id header), and returns the problem.
 */
export function expectProblem(res: Response, expected: ExpectedProblem): Problem {
  expect(res.headers["content-type"], `content type of ${res.status} ${res.text}`).toMatch(/^application\/problem\+json(;|$)/);
  // supertest parses only JSON types it knows; problem+json arrives as text.
  const problem = JSON.parse(res.text) as Problem;
  expect({ status: res.status, code: problem.code }, res.text).toEqual({ status: expected.status, code: expected.code });
  expect(problem.status).toBe(res.status);
  expect(problem.type).toBe(`urn:kpki:problem:${problem.code}`);
  expect(typeof problem.title).toBe("string");
  expect(problem.title.length).toBeGreaterThan(0);
  expect(typeof problem.detail).toBe("string");
  expect(problem.requestId).toBeDefined();
  expect(problem.requestId).toBe(res.headers["x-request-id"]);
  if (expected.detail !== undefined) {
    if (typeof expected.detail === "string") expect(problem.detail).toContain(expected.detail);
    else expect(problem.detail).toMatch(expected.detail);
  }
  if (expected.field === null) expect(problem.field).toBeUndefined();
  else if (expected.field !== undefined) expect(problem.field).toBe(expected.field);
  return problem;
}

/** Row counts of everything a request could store. */
export interface StoredCounts {
  readonly certificates: number;
  readonly authorities: number;
  readonly keyMaterials: number;
  readonly tokens: number;
  readonly auditEvents: number;
  readonly managedObjects: number;
  readonly namedKeys: number;
  readonly clusterEncryptions: number;
  readonly clusterEncryptionKeys: number;
}

/** Counts the stored rows straight from the database (not through the API under test). */
export async function storedCounts(t: TestRuntime): Promise<StoredCounts> {
  const db = t.runtime.storage.db;
  const [certificates, authorities, keyMaterials, tokens, auditEvents, managedObjects, namedKeys, clusterEncryptions, clusterEncryptionKeys] = await Promise.all([
    db.certificate.count(),
    db.certificateAuthority.count(),
    db.keyMaterial.count(),
    db.apiToken.count(),
    db.auditEvent.count(),
    db.managedObject.count(),
    db.namedKey.count(),
    db.clusterEncryption.count(),
    db.clusterEncryptionKey.count(),
  ]);
  return { certificates, authorities, keyMaterials, tokens, auditEvents, managedObjects, namedKeys, clusterEncryptions, clusterEncryptionKeys };
}

/** Runs `refused` and asserts it stored nothing at all (no certificate, CA, key, token, managed object, named key, encryption setup or key, or audit row). */
export async function expectNothingStored<T>(t: TestRuntime, refused: () => Promise<T>): Promise<T> {
  const before = await storedCounts(t);
  const result = await refused();
  expect(await storedCounts(t)).toEqual(before);
  return result;
}

// The operations of the contract, each with one well-formed request. A well-formed request gets
// past the OpenAPI validator, so what answers it is routing, authentication, authorization or the
// handler: the parts these tests are about.

/** HTTP methods an OpenAPI path item may hold. */
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The parts of an OpenAPI operation these tests read. */
interface OperationObject {
  readonly operationId?: string;
  readonly security?: readonly unknown[];
  readonly requestBody?: unknown;
  readonly responses?: Readonly<Record<string, unknown>>;
}

/** The parts of the OpenAPI document these tests read. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly security?: readonly unknown[];
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** One (method, path) of the contract. */
export interface DocumentedOperation {
  readonly method: HttpMethod;
  /** OpenAPI template, e.g. `/v1/authorities/{name}`. */
  readonly path: string;
  readonly operationId: string;
  /** `security: []`: callable without credentials. */
  readonly public: boolean;
  readonly hasBody: boolean;
  /** Documented response status codes, e.g. ["200", "404"]. */
  readonly statuses: readonly string[];
}

/** The committed contract, parsed from openapi/openapi.yaml. */
export function loadContract(): OpenApiDocument {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "openapi", "openapi.yaml");
  return parseYaml(readFileSync(file, "utf8")) as OpenApiDocument;
}

/** Every operation of the document, in document order. */
export function documentedOperations(document: OpenApiDocument): DocumentedOperation[] {
  const globalSecurity = document.security ?? [];
  return Object.entries(document.paths).flatMap(([template, item]) =>
    HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => {
      const operation = item[method] as OperationObject;
      if (operation.operationId === undefined) throw new Error(`${method.toUpperCase()} ${template} has no operationId`);
      return {
        method,
        path: template,
        operationId: operation.operationId,
        public: (operation.security ?? globalSecurity).length === 0,
        hasBody: operation.requestBody !== undefined,
        statuses: Object.keys(operation.responses ?? {}),
      };
    }),
  );
}

/** A PEM block of the given label around three zero bytes: well-formed PEM, meaningless DER. */
function placeholderPem(label: string): string {
  return `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
}

/**
 * A schema-valid body for each operation that takes one. Each names things that do not exist (a
 * parent CA, an issuing CA) or carries meaningless DER, so that the handler refuses it without
 * storing anything; only createToken succeeds.
 */
const SAMPLE_BODIES: Readonly<Record<string, object>> = {
  createAuthority: { name: "sample-ca", type: "intermediate", parent: "no-such-parent", subject: { commonName: "Sample CA" } },
  importAuthority: { name: "sample-import", certificate: placeholderPem("CERTIFICATE"), privateKey: placeholderPem("PRIVATE KEY") },
  installAuthorityCertificate: { certificate: placeholderPem("CERTIFICATE") },
  issueCertificate: { ca: "no-such-ca", profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:sample.example"] },
  createToken: { name: "sample token", role: "reader" },
  revokeCertificate: { reason: "keyCompromise" },
  revokeAuthority: { reason: "keyCompromise" },
  createCluster: { name: "sample-cluster", controlPlaneEndpoint: "cp.example.internal:6443", parent: "no-such-parent" },
  updateCluster: { certificateValiditySeconds: 7200 },
  putClusterNode: { role: "worker", addresses: ["10.0.0.9"] },
  signKubeadmCsrs: { node: "no-such-node", csrs: { kubelet: placeholderPem("CERTIFICATE REQUEST") } },
  signKubeletServing: { csr: placeholderPem("CERTIFICATE REQUEST") },
  startServiceAccountKeyRotation: { keyAlgorithm: "ECDSA-P256" },
  advanceServiceAccountKeyRotation: { step: "switch" },
  configureClusterEncryption: { mode: "static", provider: "aescbc" },
  advanceClusterEncryptionRotation: { completedStep: "added" },
  // The key service: a usage mask that cannot apply, a length no curve has, meaningless DER, or
  // (for everything that names an object or a named key) one that does not exist.
  createObject: { objectType: "SymmetricKey", algorithm: "AES", usage: ["Sign"] },
  createKeyPair: { algorithm: "EC", length: 521 },
  registerObject: { objectType: "PrivateKey", format: "pem", value: placeholderPem("PRIVATE KEY") },
  addAttribute: { name: "x-sample", value: "sample" },
  modifyAttribute: { value: "sample" },
  revokeObject: { reason: "Unspecified" },
  rekeyObject: { offsetSeconds: 60 },
  rekeyKeyPair: {},
  encryptData: { plaintext: "c2FtcGxl" },
  decryptData: { ciphertext: "c2FtcGxl", iv: "AAAAAAAAAAAAAAAA" },
  signData: { data: "c2FtcGxl" },
  verifySignature: { data: "c2FtcGxl", signature: "c2FtcGxl" },
  computeMac: { data: "c2FtcGxl" },
  verifyMac: { data: "c2FtcGxl", mac: "c2FtcGxl" },
  retrieveRandom: { lengthBytes: 16 },
  runBatch: { items: [{ operation: "Activate", uid: "00000000-0000-7000-8000-000000000000" }] },
  createNamedKey: { name: "sample-key", rotatePeriodSeconds: 60 },
  updateNamedKey: { minDecryptionVersion: 1 },
  encryptWithNamedKey: { plaintext: "c2FtcGxl" },
  decryptWithNamedKey: { ciphertext: "kpki:v1:no-such-key:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
  rewrapWithNamedKey: { ciphertext: "kpki:v1:no-such-key:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
  generateDataKey: { bits: 256 },
};

/** Values for path parameters: syntactically valid, naming nothing that exists. */
const PATH_PLACEHOLDERS: Readonly<Record<string, string>> = {
  name: "no-such-ca",
  id: "00000000-0000-4000-8000-000000000000",
  cluster: "no-such-cluster",
  node: "no-such-node",
  uid: "00000000-0000-7000-8000-000000000000",
  attribute: "x-no-such-attribute",
  key: "no-such-key",
  job: "no-such-job",
  // base64 of `30 00`, an empty SEQUENCE: a well-formed path, a malformed OCSPRequest.
  request: "MAA=",
};

/** Operations whose body is not JSON: its media type and sample bytes. */
const RAW_SAMPLE_BODIES: Readonly<Record<string, { readonly type: string; readonly body: Buffer }>> = {
  ocspPost: { type: "application/ocsp-request", body: Buffer.from([0x30, 0x00]) },
};

/** The concrete URL of an operation, its path parameters filled with placeholders. */
export function sampleUrl(operation: DocumentedOperation): string {
  return operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = PATH_PLACEHOLDERS[name];
    if (value === undefined) throw new Error(`no placeholder for path parameter {${name}} of ${operation.operationId}`);
    return value;
  });
}

/** A well-formed request for `operation` (headers such as Authorization are the caller's to add). */
export function sampleRequest(app: Express, operation: DocumentedOperation): Test {
  const agent = request(app);
  const url = sampleUrl(operation);
  const test: Test =
    operation.method === "get" ? agent.get(url)
    : operation.method === "post" ? agent.post(url)
    : operation.method === "put" ? agent.put(url)
    : operation.method === "delete" ? agent.delete(url)
    : operation.method === "patch" ? agent.patch(url)
    : operation.method === "head" ? agent.head(url)
    : operation.method === "options" ? agent.options(url)
    : agent.trace(url);
  if (!operation.hasBody) return test;
  const raw = RAW_SAMPLE_BODIES[operation.operationId];
  if (raw !== undefined) return test.type(raw.type).send(raw.body);
  const body = SAMPLE_BODIES[operation.operationId];
  if (body === undefined) throw new Error(`no sample body for ${operation.operationId}: add one to SAMPLE_BODIES`);
  return test.send(body);
}

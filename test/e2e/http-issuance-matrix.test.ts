import { createHash, createPublicKey } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENERIC_PROFILES, IssuanceService, ProfileCatalog, x509 } from "../../src/core/pki/index.js";
import type { Clock } from "../../src/core/shared/clock.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import {
  certificatePublicKey,
  makeCsr,
  openssl,
  opensslVerify,
  pemToDer,
  privateKeyPublicKey,
  x509Text,
  type OpensslKeyAlgorithm,
} from "../helpers/openssl.js";
import { expectNothingStored, expectProblem, storedCounts } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

// Issuance over HTTP for every profile × key algorithm × mode (CSR made by openssl, or key
// generated here), each certificate checked by openssl; then idempotency and the inventory.

/** A certificate as the inventory shows it. */
interface CertificateJson {
  readonly id: string;
  readonly ca: string;
  readonly serialNumber: string;
  readonly profile: string;
  readonly subject: string;
  readonly commonName?: string;
  readonly subjectAltNames: string[];
  readonly keyAlgorithm: string;
  readonly status: "active" | "revoked" | "expired";
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
  readonly requestedBy: string;
  readonly serverGeneratedKey: boolean;
  readonly createdAt: string;
  readonly revokedAt?: string;
  readonly certificatePem: string;
}
/** The answer to POST /v1/certificates. */
interface IssuedJson extends CertificateJson {
  readonly chainPem: string;
  readonly privateKeyPem?: string;
}
interface PageJson {
  readonly items: CertificateJson[];
  readonly nextCursor?: string;
}

type ProfileName = "server" | "client" | "peer";
type Mode = "csr" | "keygen";
type Purpose = "sslserver" | "sslclient";

/** What openssl must find in a certificate of each profile. */
const PROFILE_EXPECTATIONS: Record<ProfileName, { extendedKeyUsage: string; purposes: readonly Purpose[]; sans: (cn: string) => string[] }> = {
  server: { extendedKeyUsage: "TLS Web Server Authentication", purposes: ["sslserver"], sans: (cn) => [`DNS:${cn}`, "IP:10.1.2.3"] },
  client: { extendedKeyUsage: "TLS Web Client Authentication", purposes: ["sslclient"], sans: (cn) => [`email:${cn.split(".")[0] ?? "x"}@matrix.example`, `URI:spiffe://matrix.example/client/${cn}`] },
  peer: { extendedKeyUsage: "TLS Web Server Authentication, TLS Web Client Authentication", purposes: ["sslserver", "sslclient"], sans: (cn) => [`DNS:${cn}`, "IP:2001:db8::5", `URI:spiffe://matrix.example/peer/${cn}`] },
};

/** Node's description of each key type: asymmetricKeyType and the size detail that identifies it. */
const KEY_TYPES: Record<OpensslKeyAlgorithm, string> = {
  "ECDSA-P256": "ec prime256v1",
  "ECDSA-P384": "ec secp384r1",
  "RSA-2048": "rsa 2048",
  "RSA-3072": "rsa 3072",
  "RSA-4096": "rsa 4096",
  Ed25519: "ed25519",
};

/** "ec prime256v1", "rsa 2048", "ed25519" for a public key PEM. */
function keyType(publicKeyPem: string): string {
  const key = createPublicKey(publicKeyPem);
  const details = key.asymmetricKeyDetails ?? {};
  return [key.asymmetricKeyType, details.namedCurve ?? details.modulusLength].filter((part) => part !== undefined).join(" ");
}

interface MatrixCase {
  readonly profile: ProfileName;
  readonly algorithm: OpensslKeyAlgorithm;
  readonly mode: Mode;
}

const CASES: MatrixCase[] = [
  ...(["server", "client", "peer"] as const).flatMap((profile) =>
    (["ECDSA-P256", "ECDSA-P384", "RSA-2048", "Ed25519"] as const).flatMap((algorithm) => (["csr", "keygen"] as const).map((mode) => ({ profile, algorithm, mode }))),
  ),
  // Large RSA keys are slow to generate: once each, server-side.
  { profile: "server", algorithm: "RSA-3072", mode: "keygen" },
  { profile: "server", algorithm: "RSA-4096", mode: "keygen" },
];

const MATRIX_CA = "matrix-ca";

let t: TestRuntime;
let rootPem: string;
/** The matrix CA's SubjectKeyIdentifier as openssl prints it. */
let matrixCaSki: string | undefined;
beforeAll(async () => {
  t = await startTestRuntime();
  const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: MATRIX_CA, type: "intermediate", parent: "kpki-root", subject: { commonName: "Matrix CA", organization: ["kpki tests"] } });
  expect(created.status, created.text).toBe(201);
  matrixCaSki = opensslExtensions((created.body as { certificatePem: string }).certificatePem, "subjectKeyIdentifier")["Subject Key Identifier"]?.value;
  rootPem = (await request(t.app).get("/v1/authorities/kpki-root/certificate")).text;
});
afterAll(async () => {
  await t?.close();
});

/** Extensions as openssl prints them: name → { critical, value }. */
function opensslExtensions(certificatePem: string, names: string): Record<string, { critical: boolean; value: string }> {
  const text = x509Text(certificatePem, ["-ext", names]);
  const result: Record<string, { critical: boolean; value: string }> = {};
  let current: string | undefined;
  for (const line of text.split("\n")) {
    const header = /^X509v3 (.+?):( critical)?\s*$/.exec(line);
    if (header?.[1] !== undefined) {
      current = header[1];
      result[current] = { critical: header[2] !== undefined, value: "" };
    } else if (current !== undefined && line.trim() !== "") {
      const entry = result[current];
      if (entry !== undefined) result[current] = { ...entry, value: entry.value === "" ? line.trim() : `${entry.value}\n${line.trim()}` };
    }
  }
  return result;
}

/** How openssl 3.0 prints a SAN given in the API's text form. */
function opensslSan(san: string): string {
  if (san.startsWith("IP:")) {
    const ip = san.slice(3);
    if (!ip.includes(":")) return `IP Address:${ip}`;
    // openssl prints IPv6 as eight uncompressed, upper-case groups.
    const [head = "", tail = ""] = ip.split("::");
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === "" ? [] : tail.split(":");
    const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
    return `IP Address:${groups.map((g) => g.replace(/^0+(?=.)/, "").toUpperCase()).join(":")}`;
  }
  return san;
}

async function issue(body: object, headers: Record<string, string> = {}): Promise<request.Response> {
  return request(t.app).post("/v1/certificates").set(ADMIN).set(headers).send(body);
}

async function inventoryEntry(id: string): Promise<CertificateJson> {
  const res = await request(t.app).get(`/v1/certificates/${id}`).set(ADMIN);
  expect(res.status, res.text).toBe(200);
  return res.body as CertificateJson;
}

const issuedSerials = new Set<string>();

describe("issuance matrix", () => {
  it.each(CASES)("$profile × $algorithm × $mode", async ({ profile, algorithm, mode }) => {
    const expectation = PROFILE_EXPECTATIONS[profile];
    const cn = `${profile}-${algorithm.toLowerCase()}-${mode}.matrix.example`;
    const sans = expectation.sans(cn);
    const csr = mode === "csr" ? makeCsr({ algorithm, subject: `/O=kpki matrix/CN=${cn}`, extensions: [`subjectAltName=${sans.join(",")}`] }) : undefined;
    const body =
      csr !== undefined
        ? { ca: MATRIX_CA, profile, csr: csr.csrPem }
        : { ca: MATRIX_CA, profile, keyAlgorithm: algorithm, subject: { commonName: cn, organization: ["kpki matrix"] }, subjectAltNames: sans };
    const res = await issue(body);
    expect(res.status, res.text).toBe(201);
    expect(res.headers["location"]).toBe(`/v1/certificates/${(res.body as IssuedJson).id}`);
    const issued = res.body as IssuedJson;
    const pem = issued.certificatePem;

    // The API's description of it
    expect(issued).toMatchObject({ ca: MATRIX_CA, profile, keyAlgorithm: algorithm, status: "active", commonName: cn, subject: `CN=${cn},O=kpki matrix`, subjectAltNames: sans, serverGeneratedKey: mode === "keygen" });
    expect(issued.requestedBy).toMatch(/^token:/);
    expect(issued.fingerprintSha256).toBe(createHash("sha256").update(pemToDer(pem)).digest("hex"));

    // Chain: openssl verifies it for the profile's purposes and refuses the others.
    for (const purpose of ["sslserver", "sslclient"] as const) {
      const verified = opensslVerify({ trustedPem: rootPem, untrustedPem: issued.chainPem, purpose, leafPem: pem });
      if (expectation.purposes.includes(purpose)) {
        expect(verified.ok, `${purpose}: ${verified.output}`).toBe(true);
      } else {
        expect(verified.ok, `${purpose}: ${verified.output}`).toBe(false);
        // X509_V_ERR_INVALID_PURPOSE on the leaf itself (depth 0), not on a CA of the chain.
        expect(verified.output).toContain("error 26 at 0 depth lookup: unsuitable certificate purpose");
      }
    }
    // Without a purpose, any EKU chains.
    expect(opensslVerify({ trustedPem: rootPem, untrustedPem: issued.chainPem, leafPem: pem }).ok).toBe(true);

    // Subject, SANs, key usage, EKU, basic constraints, as openssl reads them
    expect(x509Text(pem, ["-subject", "-nameopt", "RFC2253"])).toBe(`subject=${issued.subject}\n`);
    const extensions = opensslExtensions(pem, "keyUsage,extendedKeyUsage,subjectAltName,basicConstraints,subjectKeyIdentifier,authorityKeyIdentifier");
    expect(extensions["Basic Constraints"]).toEqual({ critical: true, value: "CA:FALSE" });
    expect(extensions["Key Usage"]).toEqual({ critical: true, value: algorithm.startsWith("RSA") ? "Digital Signature, Key Encipherment" : "Digital Signature" });
    expect(extensions["Extended Key Usage"]).toEqual({ critical: false, value: expectation.extendedKeyUsage });
    expect(extensions["Subject Alternative Name"]).toEqual({ critical: false, value: sans.map(opensslSan).join(", ") });

    // Key identifiers: SKI present, AKI = the issuing CA's SKI
    expect(matrixCaSki).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){19}$/);
    expect(extensions["Subject Key Identifier"]?.value).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2})+$/);
    expect(extensions["Subject Key Identifier"]?.value).not.toBe(matrixCaSki);
    expect(extensions["Authority Key Identifier"]?.value).toBe(matrixCaSki);

    // Serial: positive, at least 64 bits, unique, and what the API says
    const serialHex = x509Text(pem, ["-serial"]).trim().replace(/^serial=/, "");
    expect(serialHex).toMatch(/^[0-9A-F]+$/); // no sign: positive
    expect(BigInt(`0x${serialHex}`)).toBeGreaterThanOrEqual(2n ** 63n);
    expect(serialHex.toLowerCase()).toBe(issued.serialNumber);
    expect(issuedSerials.has(serialHex)).toBe(false);
    issuedSerials.add(serialHex);

    // The key: the requested type, and the one the requester holds
    const publicKeyPem = certificatePublicKey(pem);
    expect(keyType(publicKeyPem)).toBe(KEY_TYPES[algorithm]);
    if (csr !== undefined) {
      expect(issued.privateKeyPem).toBeUndefined();
      expect(publicKeyPem).toBe(privateKeyPublicKey(csr.keyPem));
    } else {
      expect(issued.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(publicKeyPem).toBe(privateKeyPublicKey(issued.privateKeyPem ?? ""));
    }

    // The inventory entry is the same certificate, without chain or key
    const entry = await inventoryEntry(issued.id);
    const { chainPem: _chain, privateKeyPem: _key, ...withoutExtras } = issued;
    expect(entry).toEqual(withoutExtras);
    expect(entry.serverGeneratedKey).toBe(mode === "keygen");
    expect(JSON.stringify(entry)).not.toContain("PRIVATE KEY");
  });
});

describe("idempotency", () => {
  it("replays a CSR request with the same key and body: 200, Idempotent-Replayed, same certificate, nothing new stored", async () => {
    const csr = makeCsr({ subject: "/CN=idem-csr.example", extensions: ["subjectAltName=DNS:idem-csr.example"] });
    const body = { ca: MATRIX_CA, profile: "server", csr: csr.csrPem, ttlSeconds: 86_400 };
    const first = await issue(body, { "Idempotency-Key": "idem-csr-0001" });
    expect(first.status, first.text).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const replay = await expectNothingStored(t, () => issue(body, { "Idempotency-Key": "idem-csr-0001" }));
    expect(replay.status, replay.text).toBe(200);
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    const a = first.body as IssuedJson;
    const b = replay.body as IssuedJson;
    expect(b.id).toBe(a.id);
    expect(b.certificatePem).toBe(a.certificatePem);
    expect(b.chainPem).toBe(a.chainPem);
    expect(replay.headers["location"]).toBe(`/v1/certificates/${a.id}`);
  });

  it("a different key with the same body issues another certificate", async () => {
    const csr = makeCsr({ subject: "/CN=idem-two.example", extensions: ["subjectAltName=DNS:idem-two.example"] });
    const body = { ca: MATRIX_CA, profile: "server", csr: csr.csrPem };
    const first = await issue(body, { "Idempotency-Key": "idem-two-0001" });
    const second = await issue(body, { "Idempotency-Key": "idem-two-0002" });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect((second.body as IssuedJson).id).not.toBe((first.body as IssuedJson).id);
  });

  it("keys belong to the caller: another token's request with the same key is issued anew", async () => {
    const token = await request(t.app).post("/v1/tokens").set(ADMIN).send({ name: "idem-issuer", role: "issuer" });
    expect(token.status).toBe(201);
    const csr = makeCsr({ subject: "/CN=idem-owner.example", extensions: ["subjectAltName=DNS:idem-owner.example"] });
    const body = { ca: MATRIX_CA, profile: "server", csr: csr.csrPem };
    const mine = await issue(body, { "Idempotency-Key": "idem-owner-01" });
    const theirs = await request(t.app)
      .post("/v1/certificates")
      .set({ Authorization: `Bearer ${(token.body as { token: string }).token}`, "Idempotency-Key": "idem-owner-01" })
      .send(body);
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect((theirs.body as IssuedJson).id).not.toBe((mine.body as IssuedJson).id);
  });

  it("refuses to replay a server-generated key (409: the key was returned once and not stored)", async () => {
    const body = { ca: MATRIX_CA, profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:idem-keygen.example"] };
    const first = await issue(body, { "Idempotency-Key": "idem-keygen-01" });
    expect(first.status, first.text).toBe(201);
    expect((first.body as IssuedJson).privateKeyPem).toBeDefined();
    const replay = await expectNothingStored(t, () => issue(body, { "Idempotency-Key": "idem-keygen-01" }));
    const problem = expectProblem(replay, { status: 409, code: "conflict", field: "idempotencyKey", detail: "not stored" });
    expect(problem.detail).toContain((first.body as IssuedJson).id);
    expect(replay.text).not.toContain("PRIVATE KEY");
  });

  // Regression test: issuance-service.ts hashRequest() hashes JSON.stringify(request.subject), which depends on the order of the object's keys. JSON objects are unordered (RFC 8259 §4), so a retry whose client serialises the same subject in another order is refused as "a different request".
  it("replays a request whose subject has the same fields in another order", async () => {
    const csr = makeCsr({ subject: "/CN=idem-order.example", extensions: ["subjectAltName=DNS:idem-order.example"] });
    const first = await issue({ ca: MATRIX_CA, profile: "server", csr: csr.csrPem, subject: { commonName: "idem-order.example", organization: ["kpki"] } }, { "Idempotency-Key": "idem-order-01" });
    expect(first.status, first.text).toBe(201);
    const retry = await issue({ ca: MATRIX_CA, profile: "server", csr: csr.csrPem, subject: { organization: ["kpki"], commonName: "idem-order.example" } }, { "Idempotency-Key": "idem-order-01" });
    expect(retry.status, retry.text).toBe(200);
    expect((retry.body as IssuedJson).id).toBe((first.body as IssuedJson).id);
  });
});

describe("the inventory", () => {
  const INVENTORY_CA = "inventory-ca";
  /** Issued certificates by label, in issuance order. */
  const issued = new Map<string, IssuedJson>();
  let expiredId: string;
  let setupFinishedAt: Date;

  const plan: { label: string; profile: ProfileName; cn: string; ttlSeconds?: number }[] = [
    { label: "server-a-1d", profile: "server", cn: "inv-a", ttlSeconds: 86_400 },
    { label: "server-b-10d", profile: "server", cn: "inv-b", ttlSeconds: 10 * 86_400 },
    { label: "client-a-30d", profile: "client", cn: "inv-a", ttlSeconds: 30 * 86_400 },
    { label: "client-c", profile: "client", cn: "inv-c" },
    { label: "peer-d-2d", profile: "peer", cn: "inv-d", ttlSeconds: 2 * 86_400 },
    { label: "peer-a", profile: "peer", cn: "inv-a" },
    { label: "server-e", profile: "server", cn: "inv-e" },
  ];

  /** A clock some minutes in the past, for a certificate that has expired by now. */
  const pastClock: Clock = { now: () => new Date(Date.now() - 200_000) };

  beforeAll(async () => {
    const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name: INVENTORY_CA, type: "intermediate", parent: "kpki-root", subject: { commonName: "Inventory CA" } });
    expect(created.status, created.text).toBe(201);
    // An expired certificate: issued through the real service, real database and real CA key,
    // only with a clock 200 s in the past and a 60 s lifetime.
    const pastIssuance = new IssuanceService({
      uow: t.runtime.uow,
      crypto: t.runtime.crypto,
      clock: pastClock,
      random: new NodeRandomSource(),
      profiles: new ProfileCatalog(GENERIC_PROFILES),
      ephemeralKeys: { generate: () => Promise.reject(new Error("this test issues from CSRs only")) },
    });
    const expiredCsr = makeCsr({ subject: "/CN=inv-old", extensions: ["subjectAltName=DNS:inv-old.example"] });
    const expired = await pastIssuance.issue(
      { principal: { id: "test:inventory", displayName: "inventory test" }, requestId: "inventory-expired" },
      { ca: INVENTORY_CA, profile: "server", csrDer: x509.pemDecodeOne(expiredCsr.csrPem, ["CERTIFICATE REQUEST"], "csr"), ttlSeconds: 60 },
    );
    expiredId = expired.certificate.id;
    for (const { label, profile, cn, ttlSeconds } of plan) {
      const sans = profile === "client" ? [] : [`DNS:${cn}.inventory.example`];
      const res = await issue({ ca: INVENTORY_CA, profile, keyAlgorithm: "ECDSA-P256", subject: { commonName: cn }, subjectAltNames: sans, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
      expect(res.status, res.text).toBe(201);
      issued.set(label, res.body as IssuedJson);
    }
    setupFinishedAt = new Date();
  });

  async function list(query: Record<string, string>): Promise<PageJson> {
    const res = await request(t.app).get("/v1/certificates").query(query).set(ADMIN);
    expect(res.status, res.text).toBe(200);
    return res.body as PageJson;
  }
  const idsOf = (page: PageJson) => page.items.map((c) => c.id);
  const idOf = (label: string) => issued.get(label)?.id ?? `missing ${label}`;
  const sorted = (ids: string[]) => [...ids].sort();

  it("filters by CA: exactly the CA's certificates, oldest first", async () => {
    const page = await list({ ca: INVENTORY_CA });
    expect(page.nextCursor).toBeUndefined();
    expect(idsOf(page)).toEqual([expiredId, ...plan.map((p) => idOf(p.label))]);
    expect(page.items.every((c) => c.ca === INVENTORY_CA)).toBe(true);
  });

  it("filters by profile", async () => {
    expect(sorted(idsOf(await list({ ca: INVENTORY_CA, profile: "client" })))).toEqual(sorted([idOf("client-a-30d"), idOf("client-c")]));
    const allPeers = await list({ profile: "peer", limit: "500" });
    expect(allPeers.items.length).toBeGreaterThan(2); // the matrix issued peers too
    expect(allPeers.items.every((c) => c.profile === "peer")).toBe(true);
    expect(idsOf(allPeers)).toEqual(expect.arrayContaining([idOf("peer-d-2d"), idOf("peer-a")]));
  });

  it("filters by common name, across CAs", async () => {
    expect(sorted(idsOf(await list({ commonName: "inv-a" })))).toEqual(sorted([idOf("server-a-1d"), idOf("client-a-30d"), idOf("peer-a")]));
    expect(idsOf(await list({ commonName: "inv-nobody" }))).toEqual([]);
  });

  it("combines filters", async () => {
    expect(idsOf(await list({ ca: INVENTORY_CA, profile: "server", commonName: "inv-a" }))).toEqual([idOf("server-a-1d")]);
  });

  it("filters by status: the expired certificate is `expired`, the rest `active`, none revoked", async () => {
    const expired = await list({ ca: INVENTORY_CA, status: "expired" });
    expect(idsOf(expired)).toEqual([expiredId]);
    expect(expired.items[0]?.status).toBe("expired");
    expect(Date.parse(expired.items[0]?.notAfter ?? "")).toBeLessThan(Date.now());
    const active = await list({ ca: INVENTORY_CA, status: "active" });
    // Active listings come soonest expiry first (the plan issues them in another order).
    const byExpiry = plan.map((p) => issued.get(p.label)).sort((a, b) => Date.parse(a?.notAfter ?? "") - Date.parse(b?.notAfter ?? "") || (a?.id ?? "").localeCompare(b?.id ?? ""));
    expect(idsOf(active)).toEqual(byExpiry.map((c) => c?.id));
    expect(active.items.every((c) => c.status === "active")).toBe(true);
    expect(idsOf(await list({ ca: INVENTORY_CA, status: "revoked" }))).toEqual([]);
    expect((await inventoryEntry(expiredId)).status).toBe("expired");
  });

  it("filters by expiringBefore (notAfter strictly before the instant)", async () => {
    const inThreeDays = new Date(setupFinishedAt.getTime() + 3 * 86_400_000).toISOString();
    expect(sorted(idsOf(await list({ ca: INVENTORY_CA, expiringBefore: inThreeDays })))).toEqual(sorted([expiredId, idOf("server-a-1d"), idOf("peer-d-2d")]));
    // The boundary: a certificate expiring exactly at the instant is not "before" it.
    const exactly = issued.get("server-b-10d")?.notAfter ?? "";
    expect(idsOf(await list({ ca: INVENTORY_CA, expiringBefore: exactly }))).not.toContain(idOf("server-b-10d"));
    expect(idsOf(await list({ ca: INVENTORY_CA, expiringBefore: new Date(Date.parse(exactly) + 1).toISOString() }))).toContain(idOf("server-b-10d"));
  });

  it("paginates with limit and nextCursor without duplicates or gaps", async () => {
    const all = idsOf(await list({ ca: INVENTORY_CA }));
    expect(all).toHaveLength(8);
    for (const limit of [1, 3, 7]) {
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await list({ ca: INVENTORY_CA, limit: String(limit), ...(cursor === undefined ? {} : { cursor }) });
        pageSizes.push(page.items.length);
        seen.push(...idsOf(page));
        cursor = page.nextCursor;
        if (cursor === undefined) break;
        expect(cursor).toBe(page.items.at(-1)?.id);
      }
      expect(seen, `limit ${limit}`).toEqual(all);
      expect(new Set(seen).size).toBe(seen.length);
      expect(pageSizes.slice(0, -1).every((size) => size === limit)).toBe(true);
    }
    // A page that ends exactly at the last item has no nextCursor.
    const exact = await list({ ca: INVENTORY_CA, limit: "8" });
    expect(idsOf(exact)).toEqual(all);
    expect(exact.nextCursor).toBeUndefined();
  });

  it("paginates the whole inventory the same way", async () => {
    const everything = await list({ limit: "500" });
    expect(everything.nextCursor).toBeUndefined();
    const all = idsOf(everything);
    expect(all.length).toBeGreaterThanOrEqual(7 + 8 + CASES.length);
    expect(all).toEqual(sorted(all)); // keyset order by id
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ limit: "5", ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...idsOf(page));
      cursor = page.nextCursor;
    } while (cursor !== undefined && seen.length <= all.length);
    expect(seen).toEqual(all);
  });

  it("GET /v1/certificates/{id} gives the entry as JSON, and as PEM with Accept: application/x-pem-file", async () => {
    const one = issued.get("client-c");
    if (one === undefined) throw new Error("setup failed");
    const json = await request(t.app).get(`/v1/certificates/${one.id}`).set(ADMIN);
    expect(json.status).toBe(200);
    expect(json.headers["content-type"]).toMatch(/^application\/json/);
    const { chainPem: _chain, privateKeyPem: _key, ...expected } = one;
    expect(json.body).toEqual(expected);
    const listed = (await list({ ca: INVENTORY_CA, commonName: "inv-c" })).items;
    expect(listed).toEqual([expected]);

    const pem = await request(t.app).get(`/v1/certificates/${one.id}`).set(ADMIN).set("Accept", "application/x-pem-file");
    expect(pem.status).toBe(200);
    expect(pem.headers["content-type"]).toMatch(/^application\/x-pem-file/);
    expect(pem.text).toBe(one.certificatePem);
    expect(openssl(["x509", "-noout", "-subject", "-nameopt", "RFC2253"], pem.text)).toBe("subject=CN=inv-c\n");
  });

  it("an unknown certificate id is 404", async () => {
    const before = await storedCounts(t);
    expectProblem(await request(t.app).get("/v1/certificates/01234567-89ab-7def-8123-456789abcdef").set(ADMIN), { status: 404, code: "not_found", detail: "does not exist" });
    expect(await storedCounts(t)).toEqual(before);
  });
});

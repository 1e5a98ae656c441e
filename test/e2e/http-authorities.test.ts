import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXTERNAL_CA_EXTENSIONS,
  generateKey,
  makeCsr,
  makeOpensslRoot,
  openssl,
  opensslRun,
  opensslVerify,
  pemToDer,
  signWithOpenssl,
  splitPem,
  traditionalKeyPem,
  x509Text,
  type OpensslCa,
} from "../helpers/openssl.js";
import { expectNothingStored, expectProblem } from "../helpers/problem.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

// The CA hierarchy over HTTP, checked with openssl: generated roots and intermediates, certificate
// downloads, the external-CA flow (CSR out, signed certificate in) and imported CAs.

/** A CA as the API shows it. */
interface AuthorityJson {
  readonly id: string;
  readonly name: string;
  readonly parent?: string;
  readonly origin: "generated" | "external" | "imported";
  readonly status: "pending" | "active" | "disabled";
  readonly internal: boolean;
  readonly keyAlgorithm: string;
  readonly hasKey?: boolean;
  readonly subject: string;
  readonly serialNumber?: string;
  readonly pathLength?: number;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly createdAt: string;
  readonly certificatePem?: string;
  readonly csrPem?: string;
}

/** The parts of an issued certificate these tests read. */
interface IssuedJson {
  readonly id: string;
  readonly ca: string;
  readonly certificatePem: string;
  readonly chainPem: string;
}

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
});
afterAll(async () => {
  await t?.close();
});

async function createAuthority(body: object): Promise<AuthorityJson> {
  const res = await request(t.app).post("/v1/authorities").set(ADMIN).send(body);
  expect(res.status, res.text).toBe(201);
  return res.body as AuthorityJson;
}

async function getAuthority(name: string): Promise<AuthorityJson> {
  const res = await request(t.app).get(`/v1/authorities/${name}`);
  expect(res.status, res.text).toBe(200);
  return res.body as AuthorityJson;
}

async function caCertificate(name: string): Promise<string> {
  const res = await request(t.app).get(`/v1/authorities/${name}/certificate`);
  expect(res.status, res.text).toBe(200);
  return res.text;
}

async function chain(name: string): Promise<string> {
  const res = await request(t.app).get(`/v1/authorities/${name}/chain`);
  expect(res.status, res.text).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/x-pem-file/);
  return res.text;
}

/** Issues a server certificate for `dns` from `ca` with a key generated here. */
async function issueServer(ca: string, dns: string): Promise<IssuedJson> {
  const res = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca, profile: "server", keyAlgorithm: "ECDSA-P256", subject: { commonName: dns }, subjectAltNames: [`DNS:${dns}`] });
  expect(res.status, res.text).toBe(201);
  return res.body as IssuedJson;
}

/** DER bytes of a PEM certificate, for comparing certificates regardless of line wrapping. */
const derOf = (pem: string) => pemToDer(pem).toString("hex");

describe("a generated hierarchy", () => {
  let root: AuthorityJson;
  let intermediate: AuthorityJson;
  beforeAll(async () => {
    root = await createAuthority({ name: "chain-root", type: "root", keyAlgorithm: "ECDSA-P384", pathLength: 1, subject: { commonName: "Chain Root", organization: ["kpki tests"] } });
    intermediate = await createAuthority({ name: "chain-int", type: "intermediate", parent: "chain-root", keyAlgorithm: "RSA-2048", subject: { commonName: "Chain Intermediate" } });
  });

  it("describes root and intermediate as created", () => {
    expect(root).toMatchObject({ name: "chain-root", origin: "generated", status: "active", internal: false, keyAlgorithm: "ECDSA-P384", hasKey: true, pathLength: 1, subject: "CN=Chain Root,O=kpki tests" });
    expect(root.parent).toBeUndefined();
    expect(intermediate).toMatchObject({ name: "chain-int", parent: "chain-root", origin: "generated", status: "active", keyAlgorithm: "RSA-2048", pathLength: 0 });
    expect(root.csrPem).toBeUndefined();
  });

  it("makes CA certificates openssl reads as such: self-signed root, constrained intermediate", () => {
    const rootPem = root.certificatePem ?? "";
    const intermediatePem = intermediate.certificatePem ?? "";
    expect(x509Text(rootPem, ["-subject", "-issuer", "-nameopt", "RFC2253"])).toBe("subject=CN=Chain Root,O=kpki tests\nissuer=CN=Chain Root,O=kpki tests\n");
    expect(x509Text(rootPem, ["-ext", "basicConstraints,keyUsage"])).toBe(
      "X509v3 Key Usage: critical\n    Digital Signature, Certificate Sign, CRL Sign\nX509v3 Basic Constraints: critical\n    CA:TRUE, pathlen:1\n",
    );
    expect(x509Text(intermediatePem, ["-issuer", "-nameopt", "RFC2253"])).toBe("issuer=CN=Chain Root,O=kpki tests\n");
    expect(x509Text(intermediatePem, ["-ext", "basicConstraints"])).toBe("X509v3 Basic Constraints: critical\n    CA:TRUE, pathlen:0\n");
    expect(opensslVerify({ trustedPem: rootPem, leafPem: intermediatePem }).ok).toBe(true);
    expect(opensslVerify({ trustedPem: rootPem, leafPem: rootPem }).ok).toBe(true);
  });

  it("serves /chain as the intermediate then the root, and a leaf verifies with it", async () => {
    const chainPem = await chain("chain-int");
    const blocks = splitPem(chainPem);
    expect(blocks).toHaveLength(2);
    expect(blocks.map(derOf)).toEqual([derOf(intermediate.certificatePem ?? ""), derOf(root.certificatePem ?? "")]);
    expect(splitPem(await chain("chain-root")).map(derOf)).toEqual([derOf(root.certificatePem ?? "")]);

    const csr = makeCsr({ subject: "/CN=leaf.chain.example", extensions: ["subjectAltName=DNS:leaf.chain.example"] });
    const res = await request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "chain-int", profile: "server", csr: csr.csrPem });
    expect(res.status, res.text).toBe(201);
    const leaf = res.body as IssuedJson;
    expect(leaf.chainPem).toBe(chainPem);
    const rootPem = await caCertificate("chain-root");
    const verified = opensslVerify({ trustedPem: rootPem, untrustedPem: chainPem, purpose: "sslserver", leafPem: leaf.certificatePem });
    expect(verified.output).toContain(": OK");
    expect(verified.ok).toBe(true);
    // The intermediate is needed: the leaf does not verify against the root alone.
    expect(opensslVerify({ trustedPem: rootPem, leafPem: leaf.certificatePem }).ok).toBe(false);
  });

  it("lists both CAs, oldest first, after the bootstrap CAs", async () => {
    const res = await request(t.app).get("/v1/authorities");
    expect(res.status).toBe(200);
    const names = (res.body as { items: AuthorityJson[] }).items.map((ca) => ca.name);
    expect(names.slice(0, 2)).toEqual(["kpki-root", "kpki-internal"]);
    expect(names.indexOf("chain-root")).toBeLessThan(names.indexOf("chain-int"));
  });
});

describe("CA certificate downloads", () => {
  it("serves PEM by default and DER with Accept: application/pkix-cert; both are the same certificate", async () => {
    const pem = await request(t.app).get("/v1/authorities/kpki-root/certificate");
    expect(pem.status).toBe(200);
    expect(pem.headers["content-type"]).toMatch(/^application\/x-pem-file/);
    expect(splitPem(pem.text)).toHaveLength(1);
    expect(derOf(pem.text)).toBe(derOf((await getAuthority("kpki-root")).certificatePem ?? ""));

    const der = await request(t.app).get("/v1/authorities/kpki-root/certificate").set("Accept", "application/pkix-cert").responseType("blob");
    expect(der.status).toBe(200);
    expect(der.headers["content-type"]).toMatch(/^application\/pkix-cert/);
    const bytes = der.body as Buffer;
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes[0]).toBe(0x30); // a DER SEQUENCE, not text
    // openssl parses the DER and it is the certificate the PEM holds.
    const fromDer = openssl(["x509", "-inform", "DER", "-outform", "PEM"], bytes);
    expect(derOf(fromDer)).toBe(derOf(pem.text));
    expect(openssl(["x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253"], bytes)).toBe("subject=CN=kpki root CA,O=kpki\n");
  });

  it("prefers PEM when the client accepts anything", async () => {
    const res = await request(t.app).get("/v1/authorities/kpki-internal/certificate").set("Accept", "*/*");
    expect(res.headers["content-type"]).toMatch(/^application\/x-pem-file/);
    expect(res.text).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });
});

describe("a CA signed by an external CA", () => {
  let externalRoot: OpensslCa;
  let pending: AuthorityJson;
  beforeAll(async () => {
    externalRoot = makeOpensslRoot({ subject: "/O=Elsewhere/CN=External Root" });
    pending = await createAuthority({ name: "ext-ca", type: "external", subject: { commonName: "Externally Signed CA" } });
  });

  it("starts pending, with a CSR for the CA's key that asks for a CA certificate", async () => {
    expect(pending).toMatchObject({ name: "ext-ca", origin: "external", status: "pending", hasKey: true });
    expect(pending.certificatePem).toBeUndefined();
    const csrPem = pending.csrPem ?? "";
    expect(csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    // The same CSR is available later, and its self-signature verifies.
    const csr = await request(t.app).get("/v1/authorities/ext-ca/csr").set(ADMIN);
    expect(csr.status).toBe(200);
    expect(csr.text).toBe(csrPem);
    const verified = opensslRun(["req", "-verify", "-noout"], csrPem);
    expect(verified.status, verified.stderr).toBe(0);
    const text = openssl(["req", "-noout", "-text"], csrPem);
    expect(text).toContain("Subject: CN = Externally Signed CA");
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
  });

  it("cannot issue, serve a certificate or a chain while pending (409 wrong_state)", async () => {
    const issue = await expectNothingStored(t, () =>
      request(t.app).post("/v1/certificates").set(ADMIN).send({ ca: "ext-ca", profile: "server", keyAlgorithm: "ECDSA-P256", subjectAltNames: ["DNS:early.example"] }),
    );
    expectProblem(issue, { status: 409, code: "wrong_state", field: "ca", detail: "pending" });
    expectProblem(await request(t.app).get("/v1/authorities/ext-ca/certificate"), { status: 409, code: "wrong_state", detail: "pending" });
    expectProblem(await request(t.app).get("/v1/authorities/ext-ca/chain"), { status: 409, code: "wrong_state", detail: "pending" });
  });

  it("refuses a certificate for a different key, and stays pending", async () => {
    const stranger = signWithOpenssl(externalRoot, makeCsr({ subject: "/CN=Externally Signed CA" }).csrPem, EXTERNAL_CA_EXTENSIONS);
    const res = await expectNothingStored(t, () => request(t.app).put("/v1/authorities/ext-ca/certificate").set(ADMIN).send({ certificate: stranger, chain: externalRoot.certificatePem }));
    expectProblem(res, { status: 400, code: "invalid_input", field: "certificate", detail: "public key is not the key of CA ext-ca" });
    expect((await getAuthority("ext-ca")).status).toBe("pending");
  });

  it("refuses a chain that did not issue the certificate, and stays pending", async () => {
    const signed = signWithOpenssl(externalRoot, pending.csrPem ?? "", EXTERNAL_CA_EXTENSIONS);
    const otherRoot = makeOpensslRoot({ subject: "/CN=Unrelated Root" });
    const res = await expectNothingStored(t, () => request(t.app).put("/v1/authorities/ext-ca/certificate").set(ADMIN).send({ certificate: signed, chain: otherRoot.certificatePem }));
    expectProblem(res, { status: 400, code: "invalid_input", field: "chain", detail: "did not issue" });
    expect((await getAuthority("ext-ca")).status).toBe("pending");
  });

  it("takes the externally signed certificate with its chain, becomes active and issues leaves that verify against the external root", async () => {
    const signed = signWithOpenssl(externalRoot, pending.csrPem ?? "", EXTERNAL_CA_EXTENSIONS);
    const installed = await request(t.app).put("/v1/authorities/ext-ca/certificate").set(ADMIN).send({ certificate: signed, chain: externalRoot.certificatePem });
    expect(installed.status, installed.text).toBe(200);
    const ca = installed.body as AuthorityJson;
    expect(ca).toMatchObject({ name: "ext-ca", origin: "external", status: "active", hasKey: true, subject: "CN=Externally Signed CA" });
    expect(ca.csrPem).toBeUndefined(); // only shown while pending
    expect(derOf(ca.certificatePem ?? "")).toBe(derOf(signed));
    expect(ca.serialNumber).toBe(x509Text(signed, ["-serial"]).trim().replace(/^serial=/, "").toLowerCase());
    expect(Date.parse(ca.notAfter ?? "")).toBe(Date.parse(x509Text(signed, ["-enddate"]).trim().replace(/^notAfter=/, "")));

    const chainPem = await chain("ext-ca");
    expect(splitPem(chainPem).map(derOf)).toEqual([derOf(signed), derOf(externalRoot.certificatePem)]);

    const leaf = await issueServer("ext-ca", "leaf.external.example");
    expect(leaf.chainPem).toBe(chainPem);
    const verified = opensslVerify({ trustedPem: externalRoot.certificatePem, untrustedPem: leaf.chainPem, purpose: "sslserver", leafPem: leaf.certificatePem });
    expect(verified.output).toContain(": OK");
    expect(verified.ok).toBe(true);
    // kpki's own root does not vouch for it.
    expect(opensslVerify({ trustedPem: await caCertificate("kpki-root"), untrustedPem: leaf.chainPem, leafPem: leaf.certificatePem }).ok).toBe(false);
  });

  it("refuses a second installation (409 wrong_state)", async () => {
    const again = signWithOpenssl(externalRoot, pending.csrPem ?? "", EXTERNAL_CA_EXTENSIONS);
    const res = await expectNothingStored(t, () => request(t.app).put("/v1/authorities/ext-ca/certificate").set(ADMIN).send({ certificate: again, chain: externalRoot.certificatePem }));
    expectProblem(res, { status: 409, code: "wrong_state", detail: "is active" });
  });

  it("accepts a two-level external chain, nearest first, and serves it after its own certificate", async () => {
    const externalIntermediate: OpensslCa = (() => {
      const keyPem = generateKey("ECDSA-P384");
      const csrPem = makeCsr({ subject: "/O=Elsewhere/CN=External Issuing CA", keyPem }).csrPem;
      return { keyPem, certificatePem: signWithOpenssl(externalRoot, csrPem, ["basicConstraints=critical,CA:TRUE,pathlen:1", ...EXTERNAL_CA_EXTENSIONS.slice(1)]) };
    })();
    const deep = await createAuthority({ name: "ext-deep", type: "external", keyAlgorithm: "ECDSA-P384", subject: { commonName: "Deep External CA" } });
    const signed = signWithOpenssl(externalIntermediate, deep.csrPem ?? "", EXTERNAL_CA_EXTENSIONS);
    const externalChain = externalIntermediate.certificatePem + externalRoot.certificatePem;
    const installed = await request(t.app).put("/v1/authorities/ext-deep/certificate").set(ADMIN).send({ certificate: signed, chain: externalChain });
    expect(installed.status, installed.text).toBe(200);
    const chainPem = await chain("ext-deep");
    expect(splitPem(chainPem).map(derOf)).toEqual([signed, externalIntermediate.certificatePem, externalRoot.certificatePem].map(derOf));
    const leaf = await issueServer("ext-deep", "deep.external.example");
    expect(opensslVerify({ trustedPem: externalRoot.certificatePem, untrustedPem: leaf.chainPem, purpose: "sslserver", leafPem: leaf.certificatePem }).ok).toBe(true);
  });
});

describe("imported CAs", () => {
  const imported: { name: string; keyPem: string; ca: OpensslCa }[] = [];

  it.each([
    ["RSA-2048 key as PKCS#1 RSA PRIVATE KEY", "imported-rsa", "rsa", "RSA-2048", /^-----BEGIN RSA PRIVATE KEY-----\n/],
    ["P-256 key as SEC1 EC PRIVATE KEY", "imported-ec", "ec", "ECDSA-P256", /^-----BEGIN EC PRIVATE KEY-----\n/],
  ] as const)("imports an openssl CA with its %s, and issues leaves that verify", async (_label, name, kind, algorithm, keyLabel) => {
    const keyPem = traditionalKeyPem(generateKey(algorithm), kind);
    expect(keyPem).toMatch(keyLabel);
    const ca = makeOpensslRoot({ subject: `/O=Imported/CN=${name}`, keyPem });
    const res = await request(t.app).post("/v1/authorities/import").set(ADMIN).send({ name, certificate: ca.certificatePem, privateKey: keyPem });
    expect(res.status, res.text).toBe(201);
    const authority = res.body as AuthorityJson;
    expect(authority).toMatchObject({ name, origin: "imported", status: "active", hasKey: true, keyAlgorithm: algorithm, subject: `CN=${name},O=Imported` });
    expect(authority.parent).toBeUndefined();
    expect(derOf(authority.certificatePem ?? "")).toBe(derOf(ca.certificatePem));
    imported.push({ name, keyPem, ca });

    const leaf = await issueServer(name, `leaf.${name}.example`);
    expect(splitPem(leaf.chainPem).map(derOf)).toEqual([derOf(ca.certificatePem)]);
    const verified = opensslVerify({ trustedPem: ca.certificatePem, untrustedPem: leaf.chainPem, purpose: "sslserver", leafPem: leaf.certificatePem });
    expect(verified.output).toContain(": OK");
    expect(verified.ok).toBe(true);
    expect(x509Text(leaf.certificatePem, ["-issuer", "-nameopt", "RFC2253"])).toBe(`issuer=CN=${name},O=Imported\n`);
  });

  it("never shows the imported private keys in any GET response", async () => {
    expect(imported).toHaveLength(2);
    const responses: string[] = [];
    responses.push((await request(t.app).get("/v1/authorities")).text);
    for (const { name } of imported) {
      for (const path of [`/v1/authorities/${name}`, `/v1/authorities/${name}/certificate`, `/v1/authorities/${name}/chain`, `/v1/authorities/${name}/csr`]) {
        const res = await request(t.app).get(path).set(ADMIN);
        responses.push(res.text);
      }
    }
    const inventory = await request(t.app).get("/v1/certificates?limit=500").set(ADMIN);
    expect(inventory.status).toBe(200);
    responses.push(inventory.text);
    const everything = responses.join("\n");
    expect(everything).not.toMatch(/PRIVATE KEY/);
    for (const { keyPem } of imported) {
      const pkcs8 = openssl(["pkey"], keyPem); // the form kpki converts imports to
      for (const form of [keyPem, pkcs8]) {
        const body = form.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));
        for (const line of body) expect(everything).not.toContain(line);
        expect(everything).not.toContain(pemToDer(form).toString("base64").slice(0, 40));
      }
    }
  });

  it("stores the imported keys sealed, not as the PKCS#8 that was sent", async () => {
    const rows = await t.runtime.storage.db.keyMaterial.findMany();
    for (const { keyPem } of imported) {
      const pkcs8 = pemToDer(openssl(["pkey"], keyPem));
      // Sealing encrypts: no 24-byte stretch of the key's body (past the algorithm header) is stored as is.
      const windows: Buffer[] = [];
      for (let offset = 32; offset + 24 <= pkcs8.length; offset += 16) windows.push(pkcs8.subarray(offset, offset + 24));
      expect(windows.length).toBeGreaterThan(3);
      for (const row of rows) {
        const sealed = Buffer.from(row.sealedRef ?? new Uint8Array());
        expect(windows.filter((window) => sealed.includes(window))).toEqual([]);
      }
    }
  });
});

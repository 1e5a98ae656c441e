// KMIP operations PyKMIP 0.10 cannot send, and forms it does not use, against a real key service
// (in process, no TLS): Add Attribute (1.x and 2.0), Set Attribute, Delete Attribute by Current
// Attribute, MAC Verify, RNG Retrieve, Re-key with an offset, key format types on Get and Register,
// Ed25519 at 2.0. Results are checked with node:crypto on the key fetched over KMIP.
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, verify } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../src/core/access/index.js";
import type { KmipProcessor } from "../../src/transports/kmip/kmip-processor.js";
import { byteString, dateTime, enumeration, integer, interval, structure, textString, type TtlvItem } from "../../src/transports/kmip/ttlv/item.js";
import { ENUM, field, fields, OP, parseResponse, REASON, requestMessage, STATUS, TAG, type Response } from "../helpers/kmip.js";
import { kmipProcessorOf } from "../helpers/kmip-server.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const admin: Principal = { id: "cert:kmip-ops", kind: "certificate", role: "admin", displayName: "kmip-ops" };
let t: TestRuntime;
let processor: KmipProcessor;

beforeAll(async () => {
  t = await startTestRuntime();
  processor = kmipProcessorOf(t);
});

afterAll(async () => {
  await t?.close();
});

type V = [number, number];
const send = async (version: V, operation: number, ...payload: (TtlvItem | undefined)[]): Promise<Response> => parseResponse(await processor.handle(admin, requestMessage(version, [{ operation, payload }]), "ops"));
const uidItem = (uid: string) => textString(TAG.UniqueIdentifier, uid);
const nameItem = (value: string, tag: number = TAG.Name) => structure(tag, [textString(TAG.NameValue, value), enumeration(TAG.NameType, 1)]);
const v1Attribute = (name: string, value: TtlvItem, index?: number) => structure(TAG.Attribute, [textString(TAG.AttributeName, name), index === undefined ? undefined : integer(TAG.AttributeIndex, index), { ...value, tag: TAG.AttributeValue }]);
const ok = (response: Response) => {
  expect(response.items[0], JSON.stringify(response.items[0], (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))).toMatchObject({ status: STATUS.Success });
  return response.items[0]!.payload!;
};

/** Creates an object over REST (the same core) and returns its uid. */
async function restObject(body: Record<string, unknown>, path = "/v1/objects"): Promise<string> {
  const response = await request(t.app).post(path).set(ADMIN).send({ extractable: true, ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return (response.body as { uid?: string; privateKey?: { uid: string } }).uid ?? (response.body as { privateKey: { uid: string } }).privateKey.uid;
}

async function names(uid: string): Promise<string[]> {
  return ((await request(t.app).get(`/v1/objects/${uid}`).set(ADMIN)).body as { names: string[] }).names;
}

describe("attribute operations", () => {
  it("KMIP 1.2: Add Attribute (Name, custom x-), Modify by Attribute Index, Delete answers the deleted value", async () => {
    const uid = await restObject({ objectType: "SymmetricKey", algorithm: "AES", names: ["first"] });
    const added = ok(await send([1, 2], OP.AddAttribute, uidItem(uid), v1Attribute("Name", nameItem("second"))));
    const echoed = field<TtlvItem[]>(added, TAG.Attribute)!;
    expect(field(echoed, TAG.AttributeIndex)).toBe(1);
    ok(await send([1, 2], OP.AddAttribute, uidItem(uid), v1Attribute("x-owner", textString(0, "team-a"))));
    expect(await names(uid)).toEqual(["first", "second"]);
    // Attribute Index counts the instances in the order Get Attributes reports them.
    const reported = async () =>
      fields<TtlvItem[]>(ok(await send([1, 2], OP.GetAttributes, uidItem(uid), textString(TAG.AttributeName, "Name"))), TAG.Attribute).map((attribute) => field<string>(field<TtlvItem[]>(attribute, TAG.AttributeValue), TAG.NameValue));
    const before = await reported();
    ok(await send([1, 2], OP.ModifyAttribute, uidItem(uid), v1Attribute("Name", nameItem("SECOND"), before.indexOf("second"))));
    expect((await names(uid)).sort()).toEqual(["SECOND", "first"]);
    const first = (await reported())[0];
    const deleted = ok(await send([1, 2], OP.DeleteAttribute, uidItem(uid), textString(TAG.AttributeName, "Name"), integer(TAG.AttributeIndex, 0)));
    expect(field<TtlvItem[]>(field<TtlvItem[]>(field<TtlvItem[]>(deleted, TAG.Attribute), TAG.AttributeValue), TAG.NameValue)).toBe(first);
    expect(await names(uid)).toEqual(["SECOND", "first"].filter((name) => name !== first));
    const custom = ok(await send([1, 2], OP.GetAttributes, uidItem(uid), textString(TAG.AttributeName, "x-owner")));
    expect(field(field<TtlvItem[]>(custom, TAG.Attribute), TAG.AttributeValue)).toBe("team-a");
    expect((await send([1, 2], OP.DeleteAttribute, uidItem(uid), textString(TAG.AttributeName, "Name"), integer(TAG.AttributeIndex, 5))).items[0]).toMatchObject({ reason: REASON.ItemNotFound });
    expect((await send([1, 2], OP.AddAttribute, uidItem(uid), v1Attribute("State", enumeration(0, 2)))).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.PermissionDenied });
  });

  it("KMIP 2.0: Add (New Attribute), Modify (Current → New), Delete (Current Attribute), Set Attribute", async () => {
    const uid = await restObject({ objectType: "SymmetricKey", algorithm: "AES", names: ["one"] });
    ok(await send([2, 0], OP.AddAttribute, uidItem(uid), structure(TAG.NewAttribute, [nameItem("two")])));
    ok(await send([2, 0], OP.ModifyAttribute, uidItem(uid), structure(TAG.CurrentAttribute, [nameItem("two")]), structure(TAG.NewAttribute, [nameItem("three")])));
    expect(await names(uid)).toEqual(["one", "three"]);
    ok(await send([2, 0], OP.DeleteAttribute, uidItem(uid), structure(TAG.CurrentAttribute, [nameItem("one")])));
    expect(await names(uid)).toEqual(["three"]);
    const activation = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
    ok(await send([2, 0], OP.SetAttribute, uidItem(uid), structure(TAG.NewAttribute, [dateTime(TAG.ActivationDate, activation)])));
    const attributes = field<TtlvItem[]>(ok(await send([2, 0], OP.GetAttributes, uidItem(uid), enumeration(TAG.AttributeReference, TAG.ActivationDate))), TAG.Attributes);
    expect(field(attributes, TAG.ActivationDate)).toBe(BigInt(activation.getTime() / 1000));
    expect((await send([2, 0], OP.SetAttribute, uidItem(uid), structure(TAG.NewAttribute, [nameItem("x")]))).items[0]).toMatchObject({ reason: REASON.MultiValuedAttribute });
    expect((await send([2, 0], OP.SetAttribute, uidItem(uid), structure(TAG.NewAttribute, [integer(TAG.CryptographicLength, 128)]))).items[0]).toMatchObject({ reason: REASON.ReadOnlyAttribute });
    const list = fields<number>(ok(await send([2, 0], OP.GetAttributeList, uidItem(uid))), TAG.AttributeReference);
    expect(list).toEqual(expect.arrayContaining([TAG.UniqueIdentifier, TAG.State, TAG.Name, TAG.ActivationDate, TAG.Extractable]));
  });
});

describe("cryptographic operations PyKMIP does not send", () => {
  it("MAC Verify: valid for the right MAC, invalid for a wrong one; RNG Retrieve gives the asked length", async () => {
    const uid = await restObject({ objectType: "SymmetricKey", algorithm: "HMAC-SHA384", activate: true });
    const key = Buffer.from(((await request(t.app).get(`/v1/objects/${uid}/value`).set(ADMIN)).body as { value: string }).value, "base64");
    const data = randomBytes(77);
    const mac = createHmac("sha384", key).update(data).digest();
    expect(field(ok(await send([1, 2], OP.Mac, uidItem(uid), byteString(TAG.Data, data))), TAG.MacData)).toEqual(new Uint8Array(mac));
    expect(field(ok(await send([1, 2], OP.MacVerify, uidItem(uid), byteString(TAG.Data, data), byteString(TAG.MacData, mac))), TAG.ValidityIndicator)).toBe(ENUM.ValidityIndicator.Valid);
    mac[0]! ^= 1;
    expect(field(ok(await send([2, 0], OP.MacVerify, uidItem(uid), byteString(TAG.Data, data), byteString(TAG.MacData, mac))), TAG.ValidityIndicator)).toBe(ENUM.ValidityIndicator.Invalid);
    expect(field<Uint8Array>(ok(await send([1, 2], OP.RngRetrieve, integer(TAG.DataLength, 100))), TAG.Data)).toHaveLength(100);
    expect((await send([1, 2], OP.RngRetrieve, integer(TAG.DataLength, 100_000))).items[0]).toMatchObject({ reason: REASON.InvalidField });
  });

  it("KMIP 2.0 Ed25519: Create Key Pair, Sign, Signature Verify (checked by node:crypto)", async () => {
    const created = ok(await send([2, 0], OP.CreateKeyPair, structure(TAG.CommonAttributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Ed25519), dateTime(TAG.ActivationDate, new Date(0))])));
    const privateUid = field<string>(created, TAG.PrivateKeyUniqueIdentifier)!;
    const publicUid = field<string>(created, TAG.PublicKeyUniqueIdentifier)!;
    const data = Buffer.from("ed25519 over kmip");
    const signature = field<Uint8Array>(ok(await send([2, 0], OP.Sign, uidItem(privateUid), byteString(TAG.Data, data))), TAG.SignatureData)!;
    const publicKey = field<TtlvItem[]>(ok(await send([2, 0], OP.Get, uidItem(publicUid))), TAG.PublicKey)!;
    const spki = field<Uint8Array>(field<TtlvItem[]>(field<TtlvItem[]>(publicKey, TAG.KeyBlock), TAG.KeyValue), TAG.KeyMaterial)!;
    expect(verify(null, data, createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }), signature)).toBe(true);
    expect(field(ok(await send([2, 0], OP.SignatureVerify, uidItem(publicUid), byteString(TAG.Data, data), byteString(TAG.SignatureData, signature))), TAG.ValidityIndicator)).toBe(ENUM.ValidityIndicator.Valid);
    // In 1.x Ed25519 has no Cryptographic Algorithm value: a 1.2 Get leaves the algorithm out.
    const v12 = field<TtlvItem[]>(field<TtlvItem[]>(ok(await send([1, 2], OP.Get, uidItem(publicUid))), TAG.PublicKey), TAG.KeyBlock);
    expect(field(v12, TAG.CryptographicAlgorithm)).toBeUndefined();
  });

  it("Re-key with an Offset: the new key activates that many seconds later; Re-key Key Pair by the private key", async () => {
    const uid = await restObject({ objectType: "SymmetricKey", algorithm: "AES", activate: true });
    const rekeyed = field<string>(ok(await send([1, 2], OP.Rekey, uidItem(uid), interval(TAG.Offset, 3600))), TAG.UniqueIdentifier)!;
    const object = (await request(t.app).get(`/v1/objects/${rekeyed}`).set(ADMIN)).body as { state: string; activationDate: string; links: { type: string; uid: string }[] };
    expect(object.state).toBe("Pre-Active");
    expect(new Date(object.activationDate).getTime() - Date.now()).toBeGreaterThan(3_500_000);
    expect(object.links).toContainEqual({ type: "ReplacedObjectLink", uid });
    const privateUid = await restObject({ algorithm: "EC", activate: true }, "/v1/objects/key-pairs");
    const pair = ok(await send([1, 1], OP.RekeyKeyPair, textString(TAG.PrivateKeyUniqueIdentifier, privateUid)));
    expect(field(pair, TAG.PrivateKeyUniqueIdentifier)).not.toBe(privateUid);
    expect(field(pair, TAG.PublicKeyUniqueIdentifier)).toEqual(expect.any(String));
    expect((await send([1, 0], OP.RekeyKeyPair, textString(TAG.PrivateKeyUniqueIdentifier, privateUid))).items[0]).toMatchObject({ reason: REASON.OperationNotSupported });
  });
});

describe("key format types", () => {
  const material = (payload: readonly TtlvItem[], tag: number) => {
    const block = field<TtlvItem[]>(field<TtlvItem[]>(payload, tag), TAG.KeyBlock)!;
    return { format: field<number>(block, TAG.KeyFormatType), material: field<Uint8Array | TtlvItem[]>(field<TtlvItem[]>(block, TAG.KeyValue), TAG.KeyMaterial) };
  };

  it("Get: PKCS#1 and PKCS#8 RSA private keys, PKCS#1 and X.509 public keys, ECPrivateKey, Transparent Symmetric Key", async () => {
    const rsa = await request(t.app).post("/v1/objects/key-pairs").set(ADMIN).send({ algorithm: "RSA", extractable: true });
    const { privateKey, publicKey } = rsa.body as { privateKey: { uid: string }; publicKey: { uid: string } };
    const pkcs8 = material(ok(await send([1, 2], OP.Get, uidItem(privateKey.uid))), TAG.PrivateKey);
    const pkcs1 = material(ok(await send([1, 2], OP.Get, uidItem(privateKey.uid), enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.Pkcs1))), TAG.PrivateKey);
    expect(pkcs8.format).toBe(ENUM.KeyFormatType.Pkcs8);
    const fromPkcs8 = createPrivateKey({ key: Buffer.from(pkcs8.material as Uint8Array), format: "der", type: "pkcs8" });
    const fromPkcs1 = createPrivateKey({ key: Buffer.from(pkcs1.material as Uint8Array), format: "der", type: "pkcs1" });
    expect(fromPkcs1.export({ format: "jwk" })).toEqual(fromPkcs8.export({ format: "jwk" }));
    const x509 = material(ok(await send([1, 2], OP.Get, uidItem(publicKey.uid))), TAG.PublicKey);
    const rsaPublic = material(ok(await send([1, 2], OP.Get, uidItem(publicKey.uid), enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.Pkcs1))), TAG.PublicKey);
    expect(createPublicKey({ key: Buffer.from(rsaPublic.material as Uint8Array), format: "der", type: "pkcs1" }).export({ format: "jwk" })).toEqual(createPublicKey({ key: Buffer.from(x509.material as Uint8Array), format: "der", type: "spki" }).export({ format: "jwk" }));
    const ec = await restObject({ algorithm: "EC", length: 384 }, "/v1/objects/key-pairs");
    const sec1 = material(ok(await send([1, 2], OP.Get, uidItem(ec), enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.EcPrivateKey))), TAG.PrivateKey);
    expect(createPrivateKey({ key: Buffer.from(sec1.material as Uint8Array), format: "der", type: "sec1" }).asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect((await send([1, 2], OP.Get, uidItem(ec), enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.Pkcs1))).items[0]).toMatchObject({ reason: REASON.KeyFormatTypeNotSupported });
    const aes = await restObject({ objectType: "SymmetricKey", algorithm: "AES", length: 128 });
    const transparent = material(ok(await send([1, 2], OP.Get, uidItem(aes), enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.TransparentSymmetricKey))), TAG.SymmetricKey);
    expect(field<Uint8Array>(transparent.material as TtlvItem[], TAG.Key)).toHaveLength(16);
  });

  it("Register: Transparent Symmetric Key and an ECPrivateKey; a key whose Key Block says another algorithm is refused", async () => {
    const raw = randomBytes(32);
    const symmetric = field<string>(
      ok(
        await send([1, 4], OP.Register, enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), structure(TAG.TemplateAttribute, []), structure(TAG.SymmetricKey, [structure(TAG.KeyBlock, [enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.TransparentSymmetricKey), structure(TAG.KeyValue, [structure(TAG.KeyMaterial, [byteString(TAG.Key, raw)])]), enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), integer(TAG.CryptographicLength, 256)])])),
      ),
      TAG.UniqueIdentifier,
    )!;
    expect(Buffer.from(((await request(t.app).get(`/v1/objects/${symmetric}/value`).set(ADMIN)).body as { value: string }).value, "base64").equals(raw)).toBe(true);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const sec1 = privateKey.export({ format: "der", type: "sec1" });
    const block = (algorithm: number) =>
      structure(TAG.PrivateKey, [structure(TAG.KeyBlock, [enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.EcPrivateKey), structure(TAG.KeyValue, [byteString(TAG.KeyMaterial, sec1)]), enumeration(TAG.CryptographicAlgorithm, algorithm), integer(TAG.CryptographicLength, 256)])]);
    const registered = field<string>(ok(await send([2, 0], OP.Register, enumeration(TAG.ObjectType, ENUM.ObjectType.PrivateKey), structure(TAG.Attributes, []), block(ENUM.CryptographicAlgorithm.Ecdsa))), TAG.UniqueIdentifier)!;
    expect(((await request(t.app).get(`/v1/objects/${registered}`).set(ADMIN)).body as { algorithm: string; curve: string })).toMatchObject({ algorithm: "EC", curve: "P-256" });
    expect((await send([2, 0], OP.Register, enumeration(TAG.ObjectType, ENUM.ObjectType.PrivateKey), structure(TAG.Attributes, []), block(ENUM.CryptographicAlgorithm.Rsa))).items[0]).toMatchObject({ reason: REASON.InvalidField });
    const wrapped = await send([1, 4], OP.Register, enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), structure(TAG.TemplateAttribute, []), structure(TAG.SymmetricKey, [structure(TAG.KeyBlock, [enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.Raw), byteString(TAG.KeyValue, raw), enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes)])]));
    expect(wrapped.items[0]).toMatchObject({ reason: REASON.FeatureNotSupported });
  });
});

// The KMIP message layer against a real key service (SQLite, or PostgreSQL under
// TEST_DATABASE_URL), in process and without TLS: versions, batches and their continuation
// options, ID placeholders, result reasons per version, access decisions, limits. The TLS server,
// PyKMIP and wire-level abuse are in kmip-interop.test.ts and kmip-wire.test.ts.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../src/core/access/index.js";
import type { KmipProcessor } from "../../src/transports/kmip/kmip-processor.js";
import { boolean, byteString, dateTime, enumeration, integer, structure, textString, type TtlvItem } from "../../src/transports/kmip/ttlv/item.js";
import { ENUM, field, fields, OP, parseResponse, REASON, requestMessage, STATUS, TAG, type RequestItem, type Response } from "../helpers/kmip.js";
import { kmipProcessorOf } from "../helpers/kmip-server.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const principal = (role: Principal["role"], cn = `kmip-${role ?? "none"}`): Principal => ({ id: `cert:${cn}`, kind: "certificate", role, displayName: cn });
const admin = principal("admin");

let t: TestRuntime;
let processor: KmipProcessor;

beforeAll(async () => {
  t = await startTestRuntime();
  processor = kmipProcessorOf(t);
});

afterAll(async () => {
  await t?.close();
});

async function send(version: [number, number], items: readonly RequestItem[], header: Parameters<typeof requestMessage>[2] = {}, who: Principal = admin): Promise<Response> {
  return parseResponse(await processor.handle(who, requestMessage(version, items, header), "test"));
}

/** 1.x Template-Attribute or 2.0 Attributes with the given attributes. */
function attributes(version: [number, number], list: readonly [string, TtlvItem][]): TtlvItem {
  if (version[0] >= 2) return structure(TAG.Attributes, list.map(([, value]) => value));
  return structure(
    TAG.TemplateAttribute,
    list.map(([name, value]) => structure(TAG.Attribute, [textString(TAG.AttributeName, name), { ...value, tag: TAG.AttributeValue }])),
  );
}

const aes = (version: [number, number], extra: readonly [string, TtlvItem][] = []): RequestItem => ({
  operation: OP.Create,
  payload: [
    enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey),
    attributes(version, [
      ["Cryptographic Algorithm", enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes)],
      ["Cryptographic Length", integer(TAG.CryptographicLength, 256)],
      ["Cryptographic Usage Mask", integer(TAG.CryptographicUsageMask, 0x4 | 0x8)],
      ...extra,
    ]),
  ],
});
const uidItem = (uid: string) => textString(TAG.UniqueIdentifier, uid);
const op = (operation: number, ...payload: (TtlvItem | undefined)[]): RequestItem => ({ operation, payload });

async function createdUid(version: [number, number], extra: readonly [string, TtlvItem][] = []): Promise<string> {
  const response = await send(version, [aes(version, extra)]);
  expect(response.items[0]).toMatchObject({ status: STATUS.Success });
  return field<string>(response.items[0]!.payload, TAG.UniqueIdentifier)!;
}

describe("KMIP messages", () => {
  it("answers in the request's protocol version with a time stamp, echoing the operation", async () => {
    for (const version of [[1, 0], [1, 2], [1, 4], [2, 0]] as [number, number][]) {
      const before = BigInt(Math.floor(Date.now() / 1000));
      const response = await send(version, [op(OP.Query, enumeration(TAG.QueryFunction, ENUM.QueryFunction.QueryObjects))]);
      expect(response.version).toEqual(version);
      expect(response.timeStamp >= before).toBe(true);
      expect(response.items[0]).toMatchObject({ operation: OP.Query, status: STATUS.Success });
    }
  });

  it("Discover Versions lists 2.0 and 1.4 to 1.0, or those of the client's list it speaks", async () => {
    const all = await send([1, 1], [op(OP.DiscoverVersions)]);
    const versions = (all.items[0]!.payload ?? []).map((item) => [field<number>(item.value as TtlvItem[], TAG.ProtocolVersionMajor), field<number>(item.value as TtlvItem[], TAG.ProtocolVersionMinor)]);
    expect(versions).toEqual([[2, 0], [1, 4], [1, 3], [1, 2], [1, 1], [1, 0]]);
    const pv = (major: number, minor: number) => structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, major), integer(TAG.ProtocolVersionMinor, minor)]);
    const some = await send([1, 2], [op(OP.DiscoverVersions, pv(3, 0), pv(1, 2), pv(1, 1))]);
    expect(some.items[0]!.payload).toHaveLength(2);
    expect((await send([1, 0], [op(OP.DiscoverVersions)])).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.OperationNotSupported });
  });

  it("Query reports the operations of the request's version, the object types and the server", async () => {
    const query = (version: [number, number]) => send(version, [op(OP.Query, ...[1, 2, 3].map((f) => enumeration(TAG.QueryFunction, f)))]);
    const v12 = (await query([1, 2])).items[0]!.payload;
    const v20 = (await query([2, 0])).items[0]!.payload;
    expect(fields<number>(v12, TAG.Operation)).toEqual(expect.arrayContaining([OP.Create, OP.Get, OP.Encrypt, OP.Query, OP.DiscoverVersions, OP.RekeyKeyPair, OP.MacVerify, OP.RngRetrieve]));
    expect(fields<number>(v12, TAG.Operation)).not.toContain(OP.SetAttribute);
    expect(fields<number>(v20, TAG.Operation)).toContain(OP.SetAttribute);
    expect(fields<number>(v12, TAG.ObjectType).sort()).toEqual([2, 3, 4, 7, 8]);
    expect(field(v12, TAG.VendorIdentification)).toBe("kpki");
  });

  it("runs a batch in order with the ID Placeholder and echoes every Unique Batch Item ID", async () => {
    const iv = Buffer.alloc(16, 7);
    const response = await send([1, 2], [
      { ...aes([1, 2]), id: Buffer.from("create") },
      { ...op(OP.Activate), id: Buffer.from("activate") },
      {
        ...op(OP.Encrypt, structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Cbc), enumeration(TAG.PaddingMethod, ENUM.PaddingMethod.Pkcs5)]), byteString(TAG.Data, Buffer.from("batch")), byteString(TAG.IvCounterNonce, iv)),
        id: Buffer.from("encrypt"),
      },
    ]);
    expect(response.batchCount).toBe(3);
    expect(response.items.map((item) => [Buffer.from(item.id!).toString(), item.status])).toEqual([
      ["create", STATUS.Success],
      ["activate", STATUS.Success],
      ["encrypt", STATUS.Success],
    ]);
    const uid = field<string>(response.items[0]!.payload, TAG.UniqueIdentifier);
    expect(field(response.items[1]!.payload, TAG.UniqueIdentifier)).toBe(uid);
    expect(field(response.items[2]!.payload, TAG.UniqueIdentifier)).toBe(uid);
    expect(field<Uint8Array>(response.items[2]!.payload, TAG.Data)).toHaveLength(16);
  });

  it("Batch Error Continuation: Stop (the default) leaves later items out, Continue runs them", async () => {
    const items = [op(OP.Get, uidItem("no-such-object")), aes([1, 2])];
    const stopped = await send([1, 2], items);
    expect(stopped.batchCount).toBe(1);
    expect(stopped.items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.ItemNotFound });
    const continued = await send([1, 2], items, { continuation: ENUM.BatchErrorContinuationOption.Continue });
    expect(continued.items.map((item) => item.status)).toEqual([STATUS.OperationFailed, STATUS.Success]);
  });

  it("Batch Error Continuation Undo: reads are undone, a batch that would change objects is refused whole", async () => {
    const uid = await createdUid([1, 2]);
    const undone = await send([1, 2], [op(OP.GetAttributes, uidItem(uid)), op(OP.Get, uidItem("missing")), op(OP.GetAttributeList, uidItem(uid))], { continuation: ENUM.BatchErrorContinuationOption.Undo });
    expect(undone.items.map((item) => item.status)).toEqual([STATUS.OperationUndone, STATUS.OperationFailed, STATUS.OperationUndone]);
    const before = await request(t.app).get(`/v1/objects?limit=500`).set(ADMIN);
    const refused = await send([1, 2], [aes([1, 2]), op(OP.Get, uidItem(uid))], { continuation: ENUM.BatchErrorContinuationOption.Undo });
    expect(refused.items.map((item) => [item.status, item.reason])).toEqual([
      [STATUS.OperationFailed, REASON.FeatureNotSupported],
      [STATUS.OperationFailed, REASON.FeatureNotSupported],
    ]);
    const after = await request(t.app).get(`/v1/objects?limit=500`).set(ADMIN);
    expect(after.body.items).toHaveLength((before.body as { items: unknown[] }).items.length);
  });

  it.each([
    ["an operation kpki does not serve (Certify)", [1, 2], OP.Certify],
    ["Encrypt in KMIP 1.1 (it exists from 1.2)", [1, 1], OP.Encrypt],
    ["Set Attribute in KMIP 1.4 (it exists from 2.0)", [1, 4], OP.SetAttribute],
    ["an unassigned operation code", [2, 0], 0x99],
  ] as const)("answers Operation Not Supported for %s", async (_name, version, operation) => {
    const response = await send([...version], [op(operation, uidItem("x"))]);
    expect(response.items[0]).toMatchObject({ operation, status: STATUS.OperationFailed, reason: REASON.OperationNotSupported });
  });

  it("refuses a message whose Batch Count is not its number of items, or with an unknown version", async () => {
    const mismatch = await send([1, 2], [aes([1, 2])], { batchCount: 2 });
    expect(mismatch.version).toEqual([1, 2]);
    expect(mismatch.items).toEqual([expect.objectContaining({ status: STATUS.OperationFailed, reason: REASON.InvalidMessage, message: expect.stringMatching(/Batch Count is 2/) })]);
    expect((await send([3, 0], [aes([2, 0])])).items[0]).toMatchObject({ reason: REASON.UnsupportedProtocolVersion });
    expect((await send([1, 7], [aes([1, 2])])).items[0]).toMatchObject({ reason: REASON.InvalidMessage });
  });

  it("refuses more than 64 batch items in one message (a per-message limit), and takes 64", async () => {
    const rng = (id: number): RequestItem => ({ operation: OP.RngRetrieve, payload: [integer(TAG.DataLength, 1)], id: Uint8Array.of(id) });
    const many = await send([1, 2], Array.from({ length: 65 }, (_, i) => rng(i)));
    expect(many.items).toEqual([expect.objectContaining({ status: STATUS.OperationFailed, reason: REASON.InvalidField, message: expect.stringMatching(/at most 64 batch items/) })]);
    expect((await send([2, 0], Array.from({ length: 65 }, (_, i) => rng(i)))).items[0]).toMatchObject({ reason: REASON.ServerLimitExceeded });
    const allowed = await send([1, 2], Array.from({ length: 64 }, (_, i) => rng(i)));
    expect(allowed.items.map((item) => item.status)).toEqual(Array.from({ length: 64 }, () => STATUS.Success));
    expect(allowed.items.map((item) => item.id![0])).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  it("answers Response Too Large when the response exceeds Maximum Response Size", async () => {
    const response = await send([1, 2], [op(OP.RngRetrieve, integer(TAG.DataLength, 512))], { maximumResponseSize: 256 });
    expect(response.items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.ResponseTooLarge });
    expect((await send([1, 2], [op(OP.RngRetrieve, integer(TAG.DataLength, 512))], { maximumResponseSize: 4096 })).items[0]).toMatchObject({ status: STATUS.Success });
  });
});

describe("KMIP result reasons per protocol version (lifecycle refusals)", () => {
  it.each([
    [[1, 2], REASON.PermissionDenied, REASON.PermissionDenied, REASON.KeyValueNotPresent],
    [[1, 4], REASON.PermissionDenied, REASON.PermissionDenied, REASON.KeyValueNotPresent],
    [[2, 0], REASON.WrongKeyLifecycleState, REASON.WrongKeyLifecycleState, REASON.ObjectDestroyed],
  ] as const)("KMIP %j: encrypt with a Pre-Active key, destroy an Active key, get a destroyed key", async (version, preActive, destroyActive, afterDestroy) => {
    const v: [number, number] = [...version];
    const uid = await createdUid(v);
    const data = byteString(TAG.Data, Buffer.from("x"));
    const cbc = structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Cbc)]);
    expect((await send(v, [op(OP.Encrypt, uidItem(uid), cbc, data)])).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: preActive });
    expect((await send(v, [op(OP.Activate, uidItem(uid))])).items[0]).toMatchObject({ status: STATUS.Success });
    expect((await send(v, [op(OP.Destroy, uidItem(uid))])).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: destroyActive });
    const revoke = structure(TAG.RevocationReason, [enumeration(TAG.RevocationReasonCode, ENUM.RevocationReasonCode.CessationOfOperation)]);
    expect((await send(v, [op(OP.Revoke, uidItem(uid), revoke)])).items[0]).toMatchObject({ status: STATUS.Success });
    expect((await send(v, [op(OP.Destroy, uidItem(uid))])).items[0]).toMatchObject({ status: STATUS.Success });
    expect((await send(v, [op(OP.Get, uidItem(uid))])).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: afterDestroy });
    // The same object through REST: Destroyed, metadata kept.
    const rest = await request(t.app).get(`/v1/objects/${uid}`).set(ADMIN);
    expect(rest.body).toMatchObject({ uid, state: "Destroyed" });
  });
});

describe("KMIP access decisions (the REST roles)", () => {
  it("a reader may Locate and read attributes but not Get a value or Create", async () => {
    const uid = await createdUid([1, 2], [["Name", structure(TAG.Name, [textString(TAG.NameValue, "kmip-reader-test"), enumeration(TAG.NameType, 1)])]]);
    const reader = principal("reader");
    expect((await send([1, 2], [op(OP.GetAttributes, uidItem(uid))], {}, reader)).items[0]).toMatchObject({ status: STATUS.Success });
    expect((await send([1, 2], [op(OP.Get, uidItem(uid))], {}, reader)).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.PermissionDenied });
    expect((await send([1, 2], [aes([1, 2])], {}, reader)).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.PermissionDenied });
  });

  it("an operator may use keys but not export them", async () => {
    const uid = await createdUid([2, 0]);
    const operator = principal("operator");
    expect((await send([2, 0], [op(OP.Activate, uidItem(uid))], {}, operator)).items[0]).toMatchObject({ status: STATUS.Success });
    expect((await send([2, 0], [op(OP.Get, uidItem(uid))], {}, operator)).items[0]).toMatchObject({ reason: REASON.PermissionDenied });
  });

  it("a certificate without a role gets Permission Denied for everything, Query and Discover Versions included", async () => {
    const nobody = principal(undefined);
    for (const item of [op(OP.Query, enumeration(TAG.QueryFunction, 1)), op(OP.DiscoverVersions), aes([1, 2]), op(OP.RngRetrieve, integer(TAG.DataLength, 8))]) {
      expect((await send([1, 2], [item], {}, nobody)).items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.PermissionDenied });
    }
  });
});

describe("KMIP payload forms: 1.x Template-Attribute and 2.0 Attributes", () => {
  it.each([[[1, 2]], [[2, 0]]] as const)("KMIP %j: Create with attributes, Get Attributes, Locate by name, Get the value", async (version) => {
    const v: [number, number] = [...version];
    const name = `kmip-forms-${v.join("")}`;
    const activation = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const uid = await createdUid(v, [
      ["Name", structure(TAG.Name, [textString(TAG.NameValue, name), enumeration(TAG.NameType, 1)])],
      ["Activation Date", dateTime(TAG.ActivationDate, activation)],
    ]);
    const attrs = await send(v, [op(OP.GetAttributes, uidItem(uid))]);
    const payload = attrs.items[0]!.payload!;
    if (v[0] >= 2) {
      const inner = field<TtlvItem[]>(payload, TAG.Attributes)!;
      expect(field(inner, TAG.State)).toBe(ENUM.State.Active);
      expect(field(inner, TAG.CryptographicLength)).toBe(256);
      expect(field(inner, TAG.ActivationDate)).toBe(BigInt(activation.getTime() / 1000));
      expect(field<boolean>(inner, TAG.Extractable)).toBe(true);
    } else {
      const byName = Object.fromEntries(fields<TtlvItem[]>(payload, TAG.Attribute).map((attribute) => [field<string>(attribute, TAG.AttributeName), field(attribute, TAG.AttributeValue)]));
      expect(byName).toMatchObject({ State: ENUM.State.Active, "Cryptographic Length": 256, "Cryptographic Algorithm": ENUM.CryptographicAlgorithm.Aes });
      // Sensitive and Extractable exist from 1.4 on: a 1.2 client is not sent them.
      expect(byName).not.toHaveProperty("Extractable");
    }
    const nameCriterion: [string, TtlvItem] = ["Name", structure(TAG.Name, [textString(TAG.NameValue, name), enumeration(TAG.NameType, 1)])];
    const locate = await send(v, [op(OP.Locate, ...(v[0] >= 2 ? [attributes(v, [nameCriterion])] : [structure(TAG.Attribute, [textString(TAG.AttributeName, "Name"), { ...nameCriterion[1], tag: TAG.AttributeValue }])]))]);
    expect(fields(locate.items[0]!.payload, TAG.UniqueIdentifier)).toEqual([uid]);
    const got = await send(v, [op(OP.Get, uidItem(uid))]);
    const symmetricKey = field<TtlvItem[]>(got.items[0]!.payload, TAG.SymmetricKey)!;
    const keyBlock = field<TtlvItem[]>(symmetricKey, TAG.KeyBlock)!;
    expect(field(keyBlock, TAG.KeyFormatType)).toBe(ENUM.KeyFormatType.Raw);
    expect(field<Uint8Array>(field<TtlvItem[]>(keyBlock, TAG.KeyValue), TAG.KeyMaterial)).toHaveLength(32);
    const rest = await request(t.app).get(`/v1/objects/${uid}/value`).set(ADMIN);
    expect(Buffer.from(rest.body.value as string, "base64").equals(Buffer.from(field<Uint8Array>(field<TtlvItem[]>(keyBlock, TAG.KeyValue), TAG.KeyMaterial)!))).toBe(true);
  });

  it("refuses what it would otherwise ignore: an unexpected field, a wrong type for a tag, an unsupported attribute", async () => {
    const uid = await createdUid([1, 2]);
    const unexpected = await send([1, 2], [op(OP.Get, uidItem(uid), boolean(TAG.Sensitive, true))]);
    expect(unexpected.items[0]).toMatchObject({ reason: REASON.InvalidField, message: expect.stringMatching(/unexpected Sensitive/) });
    const wrongType = await send([1, 2], [op(OP.Get, integer(TAG.UniqueIdentifier, 5))]);
    expect(wrongType.items[0]).toMatchObject({ reason: REASON.InvalidField, message: expect.stringMatching(/must be a TextString/) });
    const policy = await send([1, 2], [aes([1, 2], [["Object Group", textString(TAG.ObjectGroup, "g")]])]);
    expect(policy.items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.InvalidField });
    const wrapping = await send([1, 2], [op(OP.Get, uidItem(uid), structure(TAG.KeyWrappingSpecification, [enumeration(TAG.WrappingMethod, 1)]))]);
    expect(wrapping.items[0]).toMatchObject({ reason: REASON.FeatureNotSupported });
  });

  it.each([
    ["a Cryptographic Length beyond 4096 bits", () => ({ operation: OP.Create, payload: [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), structure(TAG.Attributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.HmacSha256), integer(TAG.CryptographicLength, 2 ** 31 - 1)])] }), /Cryptographic Length: 8–4096/],
    ["an Activation Date in the year 30000", () => ({ operation: OP.Create, payload: [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), structure(TAG.Attributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), { tag: TAG.ActivationDate, type: 0x09, value: 900_000_000_000n }])] }), /outside the years 0001–9999/],
    ["a Name of 300 characters", () => ({ operation: OP.Create, payload: [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), structure(TAG.Attributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), structure(TAG.Name, [textString(TAG.NameValue, "n".repeat(300)), enumeration(TAG.NameType, 1)])])] }), /Name: 1–255/],
    // Found by the fuzzer on PostgreSQL, whose text cannot hold NUL: refused at the edge for both databases.
    ["a Unique Identifier with a NUL character", () => ({ operation: OP.Get, payload: [uidItem("a\u0000b")] }), /must not contain NUL/],
    ["a Name with a NUL character", () => ({ operation: OP.Create, payload: [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), structure(TAG.Attributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), structure(TAG.Name, [textString(TAG.NameValue, "nul\u0000name"), enumeration(TAG.NameType, 1)])])] }), /must not contain NUL/],
    ["a Re-key Offset of a century", () => ({ operation: OP.Rekey, payload: [uidItem("any"), { tag: TAG.Offset, type: 0x0a, value: 3_153_600_000 }] }), /at most 315360000 seconds/],
  ] as [string, () => RequestItem, RegExp][])("refuses, as REST's schema does, %s (Invalid Field, nothing stored)", async (_name, item, message) => {
    const before = ((await request(t.app).get(`/v1/objects?limit=500`).set(ADMIN)).body as { items: unknown[] }).items.length;
    const response = await send([2, 0], [item()]);
    expect(response.items[0]).toMatchObject({ status: STATUS.OperationFailed, reason: REASON.InvalidField, message: expect.stringMatching(message) });
    expect(((await request(t.app).get(`/v1/objects?limit=500`).set(ADMIN)).body as { items: unknown[] }).items.length).toBe(before);
  });
});

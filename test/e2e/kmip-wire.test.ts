// Wire-level abuse of the KMIP listener of a real `kpki serve`: each malformed input gets an error
// response (or, for a stream that cannot be framed, a clean close), never a crash; the connection
// stays usable whenever the message could be framed, and the server keeps serving everyone else.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTtlv } from "../../src/transports/kmip/ttlv/codec.js";
import { enumeration, integer, structure, textString, type TtlvItem } from "../../src/transports/kmip/ttlv/item.js";
import { ENUM, field, KmipTestClient, OP, parseResponse, REASON, requestMessage, STATUS, TAG, type Response } from "../helpers/kmip.js";
import { startKmipKpki, type ClientCredentials, type KmipKpki } from "../helpers/kmip-server.js";
import { stopAllKpki } from "../helpers/process.js";

const MAX_MESSAGE_BYTES = 65536;
let kpki: KmipKpki;
let admin: ClientCredentials;
/** A connection opened before the abuse, used every second during it (idle timeout is 3 s) and after it. */
let bystander: KmipTestClient;
let bystanderPings: Promise<void> = Promise.resolve();
let bystanderTimer: NodeJS.Timeout | undefined;
const bystanderFailures: string[] = [];

const connect = () => KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: admin.certPem, key: admin.keyPem });
const rng = (version: [number, number] = [1, 2]) => requestMessage(version, [{ operation: OP.RngRetrieve, payload: [integer(TAG.DataLength, 16)] }]);

async function assertServes(client: KmipTestClient): Promise<void> {
  const response = await client.send(rng());
  expect(response.items[0]).toMatchObject({ status: STATUS.Success });
  expect(field<Uint8Array>(response.items[0]!.payload, TAG.Data)).toHaveLength(16);
}

beforeAll(async () => {
  kpki = await startKmipKpki({ KPKI_MAX_BODY_BYTES: String(MAX_MESSAGE_BYTES), KPKI_KMIP_IDLE_TIMEOUT_SECONDS: "3" });
  admin = await kpki.issueClient("wire-admin", ["admin"]);
  bystander = await connect();
  bystanderTimer = setInterval(() => {
    bystanderPings = bystanderPings.then(() => assertServes(bystander).catch((error: unknown) => void bystanderFailures.push(String(error))));
  }, 1000);
}, 180_000);

afterAll(async () => {
  clearInterval(bystanderTimer);
  bystander?.close();
  await kpki?.stop();
  await stopAllKpki();
});

/** A valid Get request of 120 bytes (PyKMIP's), to corrupt byte by byte. */
const GET = requestMessage([1, 2], [{ operation: OP.Get, payload: [textString(TAG.UniqueIdentifier, "1")] }]);

/** Wraps raw payload bytes as a framed Request Message (the outer lengths right, the inside as given). */
function framedWithPayload(payloadBytes: Buffer, version: [number, number] = [1, 2], operation: number = OP.Get): Buffer {
  const header = encodeTtlv(structure(TAG.RequestHeader, [structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, version[0]), integer(TAG.ProtocolVersionMinor, version[1])]), integer(TAG.BatchCount, 1)]));
  const operationItem = encodeTtlv(enumeration(TAG.Operation, operation));
  const payloadHeader = Buffer.alloc(8);
  payloadHeader.writeUIntBE(TAG.RequestPayload, 0, 3);
  payloadHeader[3] = 0x01;
  payloadHeader.writeUInt32BE(payloadBytes.length, 4);
  const batchBody = Buffer.concat([operationItem, payloadHeader, payloadBytes]);
  const batchHeader = Buffer.alloc(8);
  batchHeader.writeUIntBE(TAG.BatchItem, 0, 3);
  batchHeader[3] = 0x01;
  batchHeader.writeUInt32BE(batchBody.length, 4);
  const body = Buffer.concat([header, batchHeader, batchBody]);
  const messageHeader = Buffer.alloc(8);
  messageHeader.writeUIntBE(TAG.RequestMessage, 0, 3);
  messageHeader[3] = 0x01;
  messageHeader.writeUInt32BE(body.length, 4);
  return Buffer.concat([messageHeader, body]);
}

const failed = (response: Response, reason: number) => expect(response.items[0]).toMatchObject({ status: STATUS.OperationFailed, reason });

describe("KMIP wire-level bad inputs: an error response, and the connection stays usable", () => {
  const cases: [string, () => Buffer, number, [number, number]?][] = [
    [
      "a declared length beyond the data (inner item longer than its structure)",
      () => {
        const bytes = Buffer.from(GET);
        bytes.writeUInt32BE(0x18, 0x58 + 4); // the Request Payload says 24 bytes, it holds 16
        return bytes;
      },
      REASON.InvalidMessage,
      [1, 2],
    ],
    [
      "non-zero padding",
      () => {
        const bytes = Buffer.from(GET);
        bytes[bytes.length - 1] = 0x01; // a padding byte of the Unique Identifier
        return bytes;
      },
      REASON.InvalidMessage,
      [1, 2],
    ],
    ["the wrong type for a tag (Unique Identifier as an Integer)", () => requestMessage([1, 2], [{ operation: OP.Get, payload: [integer(TAG.UniqueIdentifier, 1)] }]), REASON.InvalidField],
    ["an unknown tag (1.x: Invalid Message)", () => requestMessage([1, 2], [{ operation: OP.Get, payload: [textString(0x42fff0, "?")] }]), REASON.InvalidMessage],
    ["an unknown tag (2.0: Unknown Tag)", () => requestMessage([2, 0], [{ operation: OP.Get, payload: [textString(0x42fff0, "?")] }]), REASON.UnknownTag, [2, 0]],
    ["an unknown operation", () => requestMessage([1, 4], [{ operation: 0x7777, payload: [] }]), REASON.OperationNotSupported, [1, 4]],
    ["a batch count that does not match the items", () => requestMessage([1, 2], [{ operation: OP.Get, payload: [textString(TAG.UniqueIdentifier, "1")] }], { batchCount: 3 }), REASON.InvalidMessage],
    [
      "structures nested 40 deep",
      () => {
        let nested: TtlvItem = textString(TAG.NameValue, "deep");
        for (let i = 0; i < 40; i++) nested = structure(TAG.Attribute, [nested]);
        return requestMessage([1, 2], [{ operation: OP.Locate, payload: [nested] }]);
      },
      REASON.InvalidMessage,
    ],
    [
      "a structure length that is not a multiple of 8",
      () => {
        const bytes = Buffer.from(GET);
        bytes.writeUInt32BE(0x0c, 0x58 + 4);
        return bytes;
      },
      REASON.InvalidMessage,
    ],
    ["a boolean that is neither 0 nor 1", () => framedWithPayload(Buffer.from("420094 07 00000001 3100000000000000 420120 06 00000008 0000000000000002".replace(/\s/g, ""), "hex")), REASON.InvalidMessage],
    ["text that is not UTF-8", () => framedWithPayload(Buffer.from("420094 07 00000002 ff fe 000000000000".replace(/\s/g, ""), "hex")), REASON.InvalidMessage],
    ["an unknown item type", () => framedWithPayload(Buffer.from("420094 0d 00000004 0000000100000000".replace(/\s/g, ""), "hex")), REASON.InvalidMessage],
    // No version to answer in: KMIP 1.0, the oldest.
    ["a request header without a protocol version", () => encodeTtlv(structure(TAG.RequestMessage, [structure(TAG.RequestHeader, [integer(TAG.BatchCount, 1)]), structure(TAG.BatchItem, [enumeration(TAG.Operation, OP.Query), structure(TAG.RequestPayload, [])])])), REASON.InvalidMessage, [1, 0]],
    ["a batch item without a payload", () => encodeTtlv(structure(TAG.RequestMessage, [structure(TAG.RequestHeader, [structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, 1), integer(TAG.ProtocolVersionMinor, 2)]), integer(TAG.BatchCount, 1)]), structure(TAG.BatchItem, [enumeration(TAG.Operation, OP.Query)])])), REASON.InvalidMessage],
  ];

  it.each(cases)("%s", async (_name, make, reason, version = [1, 2]) => {
    const client = await connect();
    try {
      const response = await client.send(make());
      expect(response.version).toEqual(version);
      failed(response, reason);
      await assertServes(client);
    } finally {
      client.close();
    }
  });

  it("answers pipelined messages in order, a bad one among them", async () => {
    const client = await connect();
    try {
      const bad = Buffer.from(GET);
      bad[bad.length - 1] = 0x01;
      client.write(Buffer.concat([rng(), bad, rng([2, 0])]));
      const responses = [parseResponse(await client.next()), parseResponse(await client.next()), parseResponse(await client.next())];
      expect(responses.map((r) => [r.version, r.items[0]!.status])).toEqual([
        [[1, 2], STATUS.Success],
        [[1, 2], STATUS.OperationFailed],
        [[2, 0], STATUS.Success],
      ]);
    } finally {
      client.close();
    }
  });

  it("a message split into one-byte writes is framed all the same", async () => {
    const client = await connect();
    try {
      const bytes = rng();
      for (const byte of bytes) {
        client.write(Uint8Array.of(byte));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(parseResponse(await client.next()).items[0]).toMatchObject({ status: STATUS.Success });
    } finally {
      client.close();
    }
  });
});

describe("KMIP streams that cannot be framed: an answer when possible, then a clean close", () => {
  it("an oversized message gets Invalid Message and the connection is closed", async () => {
    const client = await connect();
    try {
      const header = Buffer.from(rng().subarray(0, 64));
      header.writeUInt32BE(MAX_MESSAGE_BYTES * 4, 4);
      client.write(header);
      const response = parseResponse(await client.next());
      expect(response.version).toEqual([1, 2]);
      failed(response, REASON.InvalidMessage);
      expect(response.items[0]!.message).toMatch(/longer than the limit of 65536 bytes/);
      await client.closed();
    } finally {
      client.close();
    }
  });

  it("a stream that is not KMIP (an HTTP request) is closed without an answer", async () => {
    const client = await connect();
    try {
      client.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      await client.closed();
      await expect(client.next()).rejects.toThrow(/closed/);
    } finally {
      client.close();
    }
  });

  it("a truncated header followed by the end of the stream is a clean close", async () => {
    const client = await connect();
    try {
      client.write(Buffer.from(GET.subarray(0, 5)));
      client.socket.end();
      await client.closed();
    } finally {
      client.close();
    }
  });

  it("a truncated message left hanging is closed by the idle timeout (3 s here)", async () => {
    const client = await connect();
    try {
      client.write(Buffer.from(GET.subarray(0, 50)));
      const started = Date.now();
      await client.closed(15_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    } finally {
      client.close();
    }
  });
});

describe("KMIP slow senders", () => {
  it("a message dribbled a byte every 0.5 s (never idle) must still complete within the timeout", async () => {
    const client = await connect();
    const bytes = rng();
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < bytes.length && !client.socket.destroyed) client.write(bytes.subarray(sent, ++sent));
    }, 500);
    try {
      const started = Date.now();
      await client.closed(15_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
      expect(sent).toBeLessThan(bytes.length);
    } finally {
      clearInterval(timer);
      client.close();
    }
  });
});

describe("the KMIP server after all that", () => {
  it("still serves the connection opened before, new connections, and many at once", async () => {
    clearInterval(bystanderTimer);
    await bystanderPings;
    await assertServes(bystander);
    expect(bystanderFailures).toEqual([]);
    expect(kpki.server.hasExited()).toBe(false);
    const clients = await Promise.all(Array.from({ length: 40 }, () => connect()));
    try {
      const responses = await Promise.all(
        clients.map(async (client, index) => {
          const created = await client.send(
            requestMessage([2, 0], [
              {
                operation: OP.Create,
                payload: [
                  enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey),
                  structure(TAG.Attributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), integer(TAG.CryptographicLength, 128), integer(TAG.CryptographicUsageMask, 0x0c)]),
                ],
                id: Buffer.from(`c${index}`),
              },
            ]),
          );
          return field<string>(created.items[0]!.payload, TAG.UniqueIdentifier);
        }),
      );
      expect(new Set(responses).size).toBe(40);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it("uses the request's Unique Batch Item IDs, never a previous connection's state", async () => {
    const client = await connect();
    try {
      const response = await client.send(requestMessage([1, 2], [{ operation: OP.Activate, payload: [] }]));
      // No Unique Identifier and no earlier item: there is no ID Placeholder to use.
      failed(response, REASON.MissingData);
      const id = Buffer.from("only-item");
      const echoed = await client.send(requestMessage([1, 2], [{ operation: OP.RngRetrieve, payload: [integer(TAG.DataLength, 4)], id }]));
      expect(Buffer.from(echoed.items[0]!.id!).equals(id)).toBe(true);
    } finally {
      client.close();
    }
  });
});

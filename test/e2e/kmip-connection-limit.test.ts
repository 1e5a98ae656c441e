// KPKI_KMIP_MAX_CONNECTIONS (issue 7): with the limit reached, one more connection is closed by the
// listener before TLS completes (the client sees its handshake fail, nothing hangs), the open
// connections keep being served, and closing one frees a slot for the next client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { integer } from "../../src/transports/kmip/ttlv/item.js";
import { field, KmipTestClient, OP, requestMessage, STATUS, TAG } from "../helpers/kmip.js";
import { startKmipKpki, type ClientCredentials, type KmipKpki } from "../helpers/kmip-server.js";
import { stopAllKpki } from "../helpers/process.js";

const MAX_CONNECTIONS = 3;
let kpki: KmipKpki;
let admin: ClientCredentials;
const open: KmipTestClient[] = [];

const connect = () => KmipTestClient.connect({ port: kpki.kmipPort, ca: kpki.caPem, cert: admin.certPem, key: admin.keyPem });
const rng = requestMessage([1, 2], [{ operation: OP.RngRetrieve, payload: [integer(TAG.DataLength, 16)] }]);

async function expectServed(client: KmipTestClient): Promise<void> {
  const response = await client.send(rng);
  expect(response.items[0]).toMatchObject({ status: STATUS.Success });
  expect(field<Uint8Array>(response.items[0]?.payload, TAG.Data)).toHaveLength(16);
}

/** Connecting is refused: the listener closes the socket, the TLS handshake fails with a socket error. */
async function expectRefused(): Promise<void> {
  const outcome = await connect().then(
    (client) => {
      client.close();
      return "connected";
    },
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  expect(outcome).toMatch(/ECONNRESET|socket disconnected|socket hang up|EPIPE/);
}

beforeAll(async () => {
  kpki = await startKmipKpki({ KPKI_KMIP_MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
  admin = await kpki.issueClient("limit-admin", ["admin"]);
}, 180_000);

afterAll(async () => {
  for (const client of open) client.close();
  await kpki?.stop();
  await stopAllKpki();
});

describe("KMIP connection limit", () => {
  it(`accepts ${MAX_CONNECTIONS} connections, refuses one more cleanly, keeps serving the others`, async () => {
    for (let i = 0; i < MAX_CONNECTIONS; i++) open.push(await connect());
    for (const client of open) await expectServed(client);
    await expectRefused();
    for (const client of open) await expectServed(client);
  });

  it("a closed connection frees its slot", async () => {
    const leaving = open.shift();
    leaving?.close();
    // The listener counts the socket gone once its close event has run: try until then.
    let replacement: KmipTestClient | undefined;
    for (let attempt = 0; replacement === undefined && attempt < 40; attempt++) {
      replacement = await connect().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return undefined;
      });
    }
    expect(replacement, "a new connection once one closed").toBeDefined();
    if (replacement !== undefined) open.push(replacement);
    for (const client of open) await expectServed(client);
    // Full again.
    await expectRefused();
  });
});

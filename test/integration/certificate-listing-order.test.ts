// PrismaCertificateRepository.list against a real database (SQLite; PostgreSQL under
// TEST_DATABASE_URL): active listings come soonest expiry first, (notAfter, id), and their id
// cursor continues across certificates that share a notAfter; every other listing stays in
// issuance (id) order. The certificates are issued in an order their expiry does not follow, so a
// listing in id order fails here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CertificateQuery, IssuedCertificate } from "../../src/core/pki/index.js";
import { newId, type CaId, type CertificateId } from "../../src/core/shared/ids.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

const NOW = new Date("2027-01-01T00:00:00.000Z");
const DAY_MS = 86_400_000;
const random = new NodeRandomSource();

let t: TestRuntime;
/** Every certificate in the database: the oracle. */
const stored: IssuedCertificate[] = [];

/**
 * 30 certificates one millisecond apart. notAfter takes five values (so each is shared by several
 * certificates, across page boundaries), two of them in the past, in an order unrelated to
 * issuance; every fifth is revoked; profiles alternate.
 */
function certificates(caId: CaId): IssuedCertificate[] {
  const expiryDays = [9, 2, -3, 5, 2, -1, 9, 5];
  return Array.from({ length: 30 }, (_, i) => {
    const createdAt = new Date(Date.parse("2026-06-01T00:00:00Z") + i);
    return {
      id: newId<CertificateId>(createdAt, random),
      caId,
      serialHex: (0x1000 + i).toString(16),
      profile: i % 2 === 0 ? "server" : "client",
      subject: `CN=order-${i}`,
      commonName: `order-${i}`,
      subjectAltNames: [],
      keyAlgorithm: "ECDSA-P256",
      status: i % 5 === 3 ? "revoked" : "active",
      notBefore: createdAt,
      notAfter: new Date(NOW.getTime() + (expiryDays[i % expiryDays.length] ?? 0) * DAY_MS),
      der: new Uint8Array([0x30, 0x00]),
      fingerprintSha256: `fingerprint-${i}`,
      requestedBy: "test:listing-order",
      serverGeneratedKey: false,
      createdAt,
      ...(i % 5 === 3 ? { revokedAt: NOW, revocationReason: 0 } : {}),
    };
  });
}

/** Every page of a listing with `limit`, checking each cursor is the page's last id. */
async function listAll(query: Omit<CertificateQuery, "now" | "limit" | "after">, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let after: CertificateId | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await t.runtime.uow.read((r) => r.certificates.list({ ...query, now: NOW, limit, ...(after === undefined ? {} : { after }) }));
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((c) => c.id));
    if (page.nextCursor === undefined) return ids;
    expect(page.nextCursor).toBe(page.items.at(-1)?.id);
    after = page.nextCursor as CertificateId;
  }
  throw new Error("listing did not end");
}

const byIssuance = (a: IssuedCertificate, b: IssuedCertificate) => a.id.localeCompare(b.id);
const byExpiry = (a: IssuedCertificate, b: IssuedCertificate) => a.notAfter.getTime() - b.notAfter.getTime() || byIssuance(a, b);
const isActive = (c: IssuedCertificate) => c.status === "active" && c.notAfter > NOW;
const idsIn = (order: (a: IssuedCertificate, b: IssuedCertificate) => number, keep: (c: IssuedCertificate) => boolean) => stored.filter(keep).sort(order).map((c) => c.id);

beforeAll(async () => {
  t = await startTestRuntime();
  const [ca] = await t.runtime.uow.read((r) => r.authorities.list());
  if (ca === undefined) throw new Error("the test runtime has no CA");
  // The runtime issued its own TLS certificate already: the oracle has it too.
  stored.push(...(await t.runtime.uow.read((r) => r.certificates.list({ now: NOW, limit: 500 }))).items);
  const added = certificates(ca.id);
  await t.runtime.uow.run((r) => r.certificates.create(added));
  stored.push(...added);
});

afterAll(async () => {
  await t.close();
});

const LIMITS = [1, 2, 3, 4, 7, 50];

describe("active listings: soonest expiry first", () => {
  it("the data would tell the orders apart", () => {
    expect(idsIn(byExpiry, isActive)).not.toEqual(idsIn(byIssuance, isActive));
  });

  const cases: { name: string; query: Omit<CertificateQuery, "now" | "limit" | "after">; keep: (c: IssuedCertificate) => boolean }[] = [
    { name: "status=active", query: { status: "active" }, keep: isActive },
    { name: "+ profile", query: { status: "active", profile: "server" }, keep: (c) => isActive(c) && c.profile === "server" },
    {
      name: "+ expiringBefore",
      query: { status: "active", expiringBefore: new Date(NOW.getTime() + 6 * DAY_MS) },
      keep: (c) => isActive(c) && c.notAfter.getTime() < NOW.getTime() + 6 * DAY_MS,
    },
  ];
  it.each(cases)("$name: every page in (notAfter, id) order, each certificate once", async ({ query, keep }) => {
    const expected = idsIn(byExpiry, keep);
    expect(expected.length).toBeGreaterThan(3);
    for (const limit of LIMITS) expect(await listAll(query, limit), `limit ${limit}`).toEqual(expected);
  });

  it("refuses a cursor that names no certificate", async () => {
    const absent = newId<CertificateId>(NOW, random);
    await expect(t.runtime.uow.read((r) => r.certificates.list({ status: "active", now: NOW, limit: 5, after: absent }))).rejects.toMatchObject({ code: "invalid_input" });
  });
});

describe("every other listing: issuance order", () => {
  const cases: { name: string; query: Omit<CertificateQuery, "now" | "limit" | "after">; keep: (c: IssuedCertificate) => boolean }[] = [
    { name: "no filter", query: {}, keep: () => true },
    { name: "status=revoked", query: { status: "revoked" }, keep: (c) => c.status === "revoked" },
    { name: "status=expired", query: { status: "expired" }, keep: (c) => c.status === "active" && c.notAfter <= NOW },
    { name: "expiringBefore", query: { expiringBefore: new Date(NOW.getTime() + 6 * DAY_MS) }, keep: (c) => c.notAfter.getTime() < NOW.getTime() + 6 * DAY_MS },
    { name: "profile", query: { profile: "client" }, keep: (c) => c.profile === "client" },
  ];
  it.each(cases)("$name: every page in id order, each certificate once", async ({ query, keep }) => {
    const expected = idsIn(byIssuance, keep);
    expect(expected.length).toBeGreaterThan(3);
    expect(idsIn(byExpiry, keep)).not.toEqual(expected);
    for (const limit of [1, 3, 50]) expect(await listAll(query, limit), `limit ${limit}`).toEqual(expected);
  });
});

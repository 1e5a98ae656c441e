// Group commit of issuance on a real database (SQLite, or PostgreSQL under TEST_DATABASE_URL):
// concurrent issuances share one transaction and are audited in chain order; an item that spoils
// the group (CA disabled meanwhile, idempotency key used twice) fails alone, the others are stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import request from "supertest";
import { IssuanceService, type IssueResult } from "../../src/core/pki/index.js";
import type { RequestContext } from "../../src/core/shared/request-context.js";
import type { UnitOfWork } from "../../src/core/shared/unit-of-work.js";
import { EphemeralKeyPool } from "../../src/infra/crypto/ephemeral-key-pool.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { verifyAuditChain } from "../../src/infra/prisma/audit-verifier.js";
import type { Repositories } from "../../src/infra/prisma/prisma-unit-of-work.js";
import { makeCsr, pemToDer } from "../helpers/openssl.js";
import { ADMIN, startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

let t: TestRuntime;
let transactions = 0;
let issuance: IssuanceService;
const csrs: Uint8Array[] = [];
const context: RequestContext = { principal: { id: "token:group-commit-test", displayName: "group commit test" }, requestId: "group-commit" };

/** The runtime's unit of work, counting transactions. */
function countingUow(inner: UnitOfWork<Repositories>): UnitOfWork<Repositories> {
  return {
    run: (work, options) => {
      transactions += 1;
      return inner.run(work, options);
    },
    read: (work) => inner.read(work),
  };
}

const issueCsr = (ca: string, csr: Uint8Array, idempotencyKey?: string): Promise<IssueResult> =>
  issuance.issue(context, { ca, profile: "client", csrDer: csr, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });

async function auditTargets(afterSeq: number): Promise<string[]> {
  const rows = await t.runtime.storage.db.auditEvent.findMany({ where: { seq: { gt: afterSeq }, action: "certificate.issue" }, orderBy: { seq: "asc" } });
  return rows.map((row) => row.target);
}

async function headSeq(): Promise<number> {
  return (await t.runtime.storage.db.auditEvent.findFirst({ orderBy: { seq: "desc" } }))?.seq ?? 0;
}

beforeAll(async () => {
  t = await startTestRuntime();
  for (const name of ["group-a", "group-b"]) {
    const created = await request(t.app).post("/v1/authorities").set(ADMIN).send({ name, type: "intermediate", parent: "kpki-root", subject: { commonName: name } });
    expect(created.status).toBe(201);
  }
  for (let i = 0; i < 8; i++) csrs.push(pemToDer(makeCsr({ subject: `/CN=group-${i}` }).csrPem));
  // A long delay: a group forms only from callers already preparing, so the grouping is deterministic.
  issuance = new IssuanceService({
    uow: countingUow(t.runtime.uow),
    crypto: t.runtime.crypto,
    clock: t.runtime.clock,
    random: new NodeRandomSource(),
    profiles: t.runtime.services.profiles,
    ephemeralKeys: new EphemeralKeyPool(),
    groupCommit: { maxItems: 64, maxDelayMillis: 10_000 },
  });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe("group commit of concurrent issuances", () => {
  it("stores 8 concurrent issuances in one transaction, audited in the order they were submitted, chain intact", async () => {
    const before = await headSeq();
    transactions = 0;
    const submitted: string[] = [];
    const results = await Promise.all(csrs.map((csr) => issueCsr("group-a", csr).then((result) => (submitted.push(result.certificate.id), result))));
    expect(transactions).toBe(1);
    expect(new Set(results.map((r) => r.certificate.serialHex)).size).toBe(8);
    const targets = await auditTargets(before);
    expect(targets).toHaveLength(8);
    expect(new Set(targets)).toEqual(new Set(results.map((r) => `certificate:${r.certificate.id}`)));
    // Consecutive entries of one transaction, then the chain verifies end to end.
    const seqs = (await t.runtime.storage.db.auditEvent.findMany({ where: { seq: { gt: before } }, orderBy: { seq: "asc" } })).map((row) => row.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => before + 1 + i));
    const verification = await verifyAuditChain(t.runtime.storage.db);
    expect(verification.problems).toEqual([]);
    // Every field reads back as issued (the group insert is one raw multi-row statement).
    for (const { certificate } of results) {
      const stored = await t.runtime.uow.read((r) => r.certificates.findById(certificate.id));
      expect({ ...stored, der: Buffer.from(stored?.der ?? []) }).toEqual({ ...certificate, der: Buffer.from(certificate.der) });
    }
  });

  it("a CA disabled meanwhile fails its own item only; the others of the group are stored", async () => {
    // Warm the issuer cache for group-b, then disable it behind the cache's back (as a revocation on another replica would).
    await issueCsr("group-b", csrs[0] as Uint8Array);
    await t.runtime.storage.db.certificateAuthority.update({ where: { name: "group-b" }, data: { status: "disabled" } });
    const before = await headSeq();
    transactions = 0;
    const outcomes = await Promise.allSettled([issueCsr("group-a", csrs[1] as Uint8Array), issueCsr("group-b", csrs[2] as Uint8Array), issueCsr("group-a", csrs[3] as Uint8Array)]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]).toMatchObject({ reason: { code: "wrong_state" } });
    // The group of 3 was refused whole, then each item ran on its own.
    expect(transactions).toBe(4);
    const stored = outcomes.flatMap((o) => (o.status === "fulfilled" ? [`certificate:${o.value.certificate.id}`] : []));
    // Each stored once and audited once (in the order the retries committed: submission order, not call order).
    const targets = await auditTargets(before);
    expect(targets).toHaveLength(2);
    expect(new Set(targets)).toEqual(new Set(stored));
    const b = await t.runtime.storage.db.certificateAuthority.findUnique({ where: { name: "group-b" } });
    expect(await t.runtime.storage.db.certificate.count({ where: { caId: b?.id ?? "", createdAt: { gt: new Date(Date.now() - 60_000) } } })).toBe(1);
    expect((await verifyAuditChain(t.runtime.storage.db)).problems).toEqual([]);
  });

  it("two retries with one idempotency key in one group yield one certificate; the rest of the group is stored", async () => {
    const key = `group-commit-${Date.now()}`;
    const outcomes = await Promise.all([issueCsr("group-a", csrs[4] as Uint8Array, key), issueCsr("group-a", csrs[5] as Uint8Array), issueCsr("group-a", csrs[4] as Uint8Array, key)]);
    const [first, other, retry] = outcomes;
    expect(retry.certificate.id).toBe(first.certificate.id);
    expect([first.replayed, retry.replayed].sort()).toEqual([false, true]);
    expect(other.certificate.id).not.toBe(first.certificate.id);
    expect(await t.runtime.storage.db.certificate.count({ where: { idempotencyKey: key } })).toBe(1);
    expect((await verifyAuditChain(t.runtime.storage.db)).problems).toEqual([]);
  });

  it("an append larger than one INSERT takes (1,200 entries, chunked) keeps every entry, in order, chain intact", async () => {
    const before = await headSeq();
    const at = t.runtime.clock.now();
    await t.runtime.uow.run(async (r) => {
      for (let i = 0; i < 1200; i++) await r.audit.record({ actor: "test", action: "test.bulk", target: `bulk:${i}`, result: "success", details: { i } }, at);
    });
    const rows = await t.runtime.storage.db.auditEvent.findMany({ where: { seq: { gt: before } }, orderBy: { seq: "asc" } });
    expect(rows.map((row) => row.target)).toEqual(Array.from({ length: 1200 }, (_, i) => `bulk:${i}`));
    expect((await verifyAuditChain(t.runtime.storage.db)).problems).toEqual([]);
  });
});

// Service-account key rotation over time, against a real database (SQLite; PostgreSQL under
// TEST_DATABASE_URL): the overlap decides when the old key may be retired, the scheduled jobs retire
// exactly what is due and publish for clusters with a rotation period (never switching), and an
// existing cluster's single key becomes version 1 when migration 0006 runs.
import { createPublicKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM } from "../../src/core/access/index.js";
import { retireServiceAccountKeysJob, startServiceAccountKeyRotationsJob } from "../../src/core/jobs/index.js";
import { ServiceAccountKeyService } from "../../src/core/kubernetes/index.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";
import { TestClock } from "../helpers/test-clock.js";

const DAY = 86_400_000;
const system = { principal: SYSTEM };

let t: TestRuntime;
let clock: TestClock;
let keys: ServiceAccountKeyService;

beforeAll(async () => {
  t = await startTestRuntime();
  clock = new TestClock(new Date());
  keys = new ServiceAccountKeyService({ uow: t.runtime.uow, clusters: t.runtime.services.clusters, crypto: t.runtime.crypto, clock });
});
afterAll(async () => {
  await t?.close();
});

let count = 0;
async function newCluster(extra: { serviceAccountKeyOverlapSeconds?: number; serviceAccountKeyRotationPeriodSeconds?: number } = {}): Promise<string> {
  const name = `rot-${++count}`;
  await t.runtime.services.clusters.create(system, { name, controlPlaneEndpoint: `k8s.${name}.internal:6443`, keyAlgorithm: "ECDSA-P256", ...extra });
  return name;
}
const states = async (cluster: string) => (await keys.status(cluster)).versions.map((v) => `${v.version}:${v.state}`);

describe("the overlap", () => {
  it("retire is refused until overlap seconds after the switch, then allowed without force", async () => {
    const cluster = await newCluster({ serviceAccountKeyOverlapSeconds: 2 * 86_400 });
    const switchedAt = new Date(Date.now() + DAY);
    clock.time = switchedAt;
    await keys.start(system, cluster);
    await keys.advance(system, cluster, { step: "switch" });
    clock.time = new Date(switchedAt.getTime() + 2 * DAY - 1000);
    await expect(keys.advance(system, cluster)).rejects.toMatchObject({ code: "wrong_state", message: expect.stringContaining(`verifies until ${new Date(switchedAt.getTime() + 2 * DAY).toISOString()}`) });
    expect(await states(cluster)).toEqual(["1:verifying", "2:signing"]);
    clock.time = new Date(switchedAt.getTime() + 2 * DAY);
    expect((await keys.advance(system, cluster)).step).toBe("retire");
    expect(await states(cluster)).toEqual(["1:retired", "2:signing"]);
    const retired = (await keys.status(cluster)).versions[0];
    expect(retired?.retiredAt).toEqual(clock.time);
  });
});

describe("retire-service-account-keys (scheduled)", () => {
  it("retires exactly the keys whose overlap has passed, and never switches", async () => {
    const base = Date.now() + 10 * DAY;
    const due = await newCluster({ serviceAccountKeyOverlapSeconds: 86_400 });
    const notYet = await newCluster({ serviceAccountKeyOverlapSeconds: 3 * 86_400 });
    const publishedOnly = await newCluster({ serviceAccountKeyOverlapSeconds: 86_400 });
    clock.time = new Date(base);
    for (const cluster of [due, notYet, publishedOnly]) await keys.start(system, cluster);
    for (const cluster of [due, notYet]) await keys.advance(system, cluster, { step: "switch" });
    const job = retireServiceAccountKeysJob(keys);
    expect(job.name).toBe("retire-service-account-keys");

    const early = await job.run(system, new Date(base + DAY - 1000));
    expect(early.changed).toBe(0);
    const summary = await job.run(system, new Date(base + 2 * DAY));
    expect(summary.message).toContain(due);
    expect(summary.message).not.toContain(notYet);
    expect(await states(due)).toEqual(["1:retired", "2:signing"]);
    expect(await states(notYet)).toEqual(["1:verifying", "2:signing"]);
    expect(await states(publishedOnly)).toEqual(["1:signing", "2:published"]); // publish → switch stays the operator's
    expect((await job.run(system, new Date(base + 2 * DAY))).message).not.toContain(due); // nothing left to do for it

    const events = await t.runtime.storage.db.auditEvent.findMany({ where: { action: "cluster.service-account-key.retire", actor: SYSTEM.id } });
    expect(events.some((e) => (JSON.parse(e.details) as { name?: string; forced?: boolean }).name === due && !(JSON.parse(e.details) as { forced: boolean }).forced)).toBe(true);
  });
});

describe("start-service-account-key-rotations (scheduled)", () => {
  it("publishes for a cluster whose signing key has signed for its rotation period, once, and never switches", async () => {
    const periodic = await newCluster({ serviceAccountKeyRotationPeriodSeconds: 30 * 86_400 });
    const manual = await newCluster();
    const since = (await keys.status(periodic)).signing.signingFrom ?? new Date(0);
    const job = startServiceAccountKeyRotationsJob(keys);
    expect((await job.run(system, new Date(since.getTime() + 30 * DAY - 1000))).message).not.toContain(periodic);
    clock.time = new Date(since.getTime() + 30 * DAY);
    expect((await job.run(system, clock.time)).message).toContain(periodic);
    expect(await states(periodic)).toEqual(["1:signing", "2:published"]);
    expect(await states(manual)).toEqual(["1:signing"]);
    // In progress now: a later run does not publish again, nor switch.
    expect((await job.run(system, new Date(since.getTime() + 60 * DAY))).message).not.toContain(periodic);
    expect(await states(periodic)).toEqual(["1:signing", "2:published"]);
  });
});

describe("an existing cluster when migration 0006 runs", () => {
  it("gets its one service-account key as version 1, signing, and sa.key is that key", async () => {
    const cluster = await newCluster();
    const before = await t.runtime.services.serviceAccountKeys.exportFiles(system, cluster);
    const spki = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "der" }).toString("hex");

    // Take the database back to before 0006 (what an existing installation has), then reopen it.
    const db = t.runtime.storage.db;
    await db.$executeRawUnsafe(`DROP TABLE "service_account_keys"`);
    await db.$executeRawUnsafe(`ALTER TABLE "clusters" DROP COLUMN "serviceAccountKeyOverlapSeconds"`);
    await db.$executeRawUnsafe(`ALTER TABLE "clusters" DROP COLUMN "serviceAccountKeyRotationPeriodSeconds"`);
    // Later migrations go too (the migrator applies in order only): 0007 added two tables, 0008 a
    // column of one of them, 0009 replaced an index of certificates.
    await db.$executeRawUnsafe(`DROP TABLE "cluster_encryption_keys"`);
    await db.$executeRawUnsafe(`DROP TABLE "cluster_encryption"`);
    await db.$executeRawUnsafe(`DROP INDEX "certificates_status_notAfter_id_idx"`);
    await db.$executeRawUnsafe(`CREATE INDEX "certificates_status_notAfter_idx" ON "certificates"("status", "notAfter")`);
    const removed = await db.$executeRawUnsafe(`DELETE FROM "kpki_schema_migrations" WHERE "name" >= '0006_'`);
    expect(removed).toBe(4);
    await t.close({ keepData: true });
    t = await startTestRuntime({ reuse: { database: t.database, dataDir: t.dataDir } });

    const status = await t.runtime.services.serviceAccountKeys.status(cluster);
    expect(status.cluster.serviceAccountKeyOverlapSeconds).toBe(7 * 86_400);
    expect(status.cluster.serviceAccountKeyRotationPeriodSeconds).toBeNull();
    expect(status.versions.map((v) => [v.version, v.state, v.algorithm])).toEqual([[1, "signing", "ECDSA-P256"]]);
    expect(status.signing.signingFrom).toEqual(status.cluster.createdAt);
    const after = await t.runtime.services.serviceAccountKeys.exportFiles(system, cluster);
    expect(after.privateKeyPem).toBe(before.privateKeyPem);
    expect(spki(after.publicKeyPem)).toBe(spki(before.privateKeyPem));
    // And it rotates like any other.
    await t.runtime.services.serviceAccountKeys.start(system, cluster);
    expect((await t.runtime.services.serviceAccountKeys.status(cluster)).verification.map((v) => v.version)).toEqual([1, 2]);
  });
});

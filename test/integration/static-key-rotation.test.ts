// Static encryption keys rotated per policy, over time, against a real database (SQLite; PostgreSQL
// under TEST_DATABASE_URL): a cluster's key rotation period, the `start-static-key-rotations` job
// that takes only the runbook's first step when the key in use is that old, and the period's
// validation and bookkeeping (set, changed, turned off, dropped for a KMS provider).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM } from "../../src/core/access/index.js";
import { startStaticKeyRotationsJob } from "../../src/core/jobs/index.js";
import { ClusterEncryptionService } from "../../src/core/kubernetes/index.js";
import { DomainError } from "../../src/core/shared/domain-error.js";
import { NodeRandomSource } from "../../src/infra/crypto/node-random.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";
import { TestClock } from "../helpers/test-clock.js";

const DAY_SECONDS = 86_400;
const system = { principal: SYSTEM };

let t: TestRuntime;
let clock: TestClock;
let encryption: ClusterEncryptionService;

beforeAll(async () => {
  t = await startTestRuntime();
  clock = new TestClock(new Date());
  const { uow, crypto, services } = t.runtime;
  encryption = new ClusterEncryptionService({ uow, crypto, clock, random: new NodeRandomSource(), clusters: services.clusters });
});
afterAll(async () => {
  await t?.close();
});

let count = 0;
async function newCluster(): Promise<string> {
  const name = `static-${++count}`;
  await t.runtime.services.clusters.create(system, { name, controlPlaneEndpoint: `k8s.${name}.internal:6443`, keyAlgorithm: "ECDSA-P256" });
  return name;
}

/** Walks the whole runbook of the rotation in progress, confirming each step. */
async function completeRotation(cluster: string): Promise<void> {
  for (const step of ["added", "promoted", "rewrite", "removed"] as const) await encryption.advance(system, cluster, step);
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

describe("start-static-key-rotations (scheduled)", () => {
  it("adds a new key (step added only) once the key in use is as old as the period, once; the period restarts with the new key", async () => {
    const periodic = await newCluster();
    const manual = await newCluster();
    const start = clock.now();
    const set = await encryption.configure(system, periodic, { mode: "static", provider: "aescbc", existingData: "none", keyRotationPeriodSeconds: 30 * DAY_SECONDS });
    await encryption.configure(system, manual, { mode: "static", provider: "aescbc", existingData: "none" });
    expect(set.setup.keyRotationPeriodSeconds).toBe(30 * DAY_SECONDS);
    expect(set.keyRotationDueAt?.getTime()).toBe(start.getTime() + 30 * DAY_SECONDS * 1000);

    const job = startStaticKeyRotationsJob(encryption);
    expect(await job.run(system, new Date(start.getTime() + 30 * DAY_SECONDS * 1000 - 1000))).toEqual({ changed: 0, message: "no cluster due" });

    clock.time = new Date(start.getTime() + 30 * DAY_SECONDS * 1000);
    const run = await job.run(system, clock.now());
    expect(run.changed).toBe(1);
    expect(run.message).toContain(periodic);
    const rotating = await encryption.get(periodic);
    expect(rotating.setup.rotation).toMatchObject({ kind: "key", step: "added", from: { type: "aescbc", key: "key-1" }, to: { type: "aescbc", key: "key-2" } });
    expect(rotating.keyRotationDueAt).toBeUndefined();
    expect((await encryption.get(manual)).setup.rotation).toBeUndefined();

    // In progress: later runs neither start another rotation nor take a step for the operator.
    clock.advanceSeconds(10 * DAY_SECONDS);
    expect((await job.run(system, clock.now())).changed).toBe(0);
    expect((await encryption.get(periodic)).setup.rotation?.step).toBe("added");

    // Once the operator has finished, the new key's age counts from its creation.
    await completeRotation(periodic);
    const steady = await encryption.get(periodic);
    const key2 = steady.keys.find((key) => key.name === "key-2");
    expect(steady.setup.provider).toEqual({ type: "aescbc", key: "key-2" });
    const nextDue = (key2?.createdAt.getTime() ?? 0) + 30 * DAY_SECONDS * 1000;
    expect(steady.keyRotationDueAt?.getTime()).toBe(nextDue);
    expect((await job.run(system, clock.now())).changed).toBe(0);
    expect((await job.run(system, new Date(nextDue))).message).toContain(periodic);
  });

  it("is recorded in the audit trail with the period, and the job's start as a rotation start by the system", async () => {
    const cluster = await newCluster();
    await encryption.configure(system, cluster, { mode: "static", provider: "secretbox", existingData: "none" });
    await encryption.configure(system, cluster, { mode: "static", provider: "secretbox", keyRotationPeriodSeconds: 7 * DAY_SECONDS });
    clock.advanceSeconds(7 * DAY_SECONDS);
    expect((await startStaticKeyRotationsJob(encryption).run(system, clock.now())).message).toContain(cluster);
    const { items } = await t.runtime.services.auditTrail.list({ target: `cluster:${(await t.runtime.services.clusters.get(cluster)).id}` });
    const actions = items.map((entry) => [entry.action, entry.details?.["keyRotationPeriodSeconds"]]);
    expect(actions).toContainEqual(["cluster.encryption.update", String(7 * DAY_SECONDS)]);
    expect(items.filter((entry) => entry.action === "cluster.encryption.rotation.start").map((entry) => entry.actor)).toEqual([SYSTEM.id]);
  });
});

describe("the key rotation period", () => {
  it("changes alone without touching the file, turns off with null, and survives a provider change", async () => {
    const cluster = await newCluster();
    const first = await encryption.configure(system, cluster, { mode: "static", provider: "aescbc", existingData: "none" });
    expect(first.setup.keyRotationPeriodSeconds).toBeUndefined();
    const withPeriod = await encryption.configure(system, cluster, { mode: "static", provider: "aescbc", keyRotationPeriodSeconds: 90 * DAY_SECONDS });
    expect(withPeriod.setup.keyRotationPeriodSeconds).toBe(90 * DAY_SECONDS);
    expect(withPeriod.entries).toEqual(first.entries);
    expect(withPeriod.setup.rotation).toBeUndefined();
    // Absent keeps it; a provider change starts a rotation and keeps it.
    const moved = await encryption.configure(system, cluster, { mode: "static", provider: "secretbox" });
    expect(moved.setup.rotation?.kind).toBe("provider");
    expect(moved.setup.keyRotationPeriodSeconds).toBe(90 * DAY_SECONDS);
    await completeRotation(cluster);
    const off = await encryption.configure(system, cluster, { mode: "static", provider: "secretbox", keyRotationPeriodSeconds: null });
    expect(off.setup.keyRotationPeriodSeconds).toBeUndefined();
    expect(off.keyRotationDueAt).toBeUndefined();
  });

  it("is refused out of bounds and for a KMS provider; a move to KMS drops it", async () => {
    const cluster = await newCluster();
    for (const period of [3600, 86_399, 3651 * DAY_SECONDS, DAY_SECONDS + 0.5]) {
      const error = await refusal(encryption.configure(system, cluster, { mode: "static", provider: "aescbc", existingData: "none", keyRotationPeriodSeconds: period }));
      expect([error.code, error.detail.field]).toEqual(["invalid_input", "keyRotationPeriodSeconds"]);
    }
    await t.runtime.services.namedKeys.create(system, { name: `kek-${cluster}` });
    const kms = await refusal(encryption.configure(system, cluster, { mode: "kms", keyName: `kek-${cluster}`, existingData: "none", keyRotationPeriodSeconds: 30 * DAY_SECONDS }));
    expect(kms.message).toContain("rotation period of named key");
    await encryption.configure(system, cluster, { mode: "static", provider: "aescbc", existingData: "none", keyRotationPeriodSeconds: 30 * DAY_SECONDS });
    const moved = await encryption.configure(system, cluster, { mode: "kms", keyName: `kek-${cluster}` });
    expect(moved.setup.keyRotationPeriodSeconds).toBeUndefined();
    // Nothing is due for it any more, however old its last static key gets.
    clock.advanceSeconds(400 * DAY_SECONDS);
    await completeRotation(cluster);
    expect((await startStaticKeyRotationsJob(encryption).run(system, clock.now())).message).not.toContain(cluster);
  });
});

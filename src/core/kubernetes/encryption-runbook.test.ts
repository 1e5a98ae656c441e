import { describe, expect, it } from "vitest";
import { DomainError } from "../shared/domain-error.js";
import { fileEntries, type ClusterEncryption, type ProviderEntry, type RotationStep } from "./encryption-at-rest.js";
import { advanceRotation, beginRotation, nextAction, rewriteCommands } from "./encryption-runbook.js";

const T0 = new Date("2026-11-27T10:00:00Z");
const key1: ProviderEntry = { type: "aescbc", key: "key-1" };
const key2: ProviderEntry = { type: "aescbc", key: "key-2" };
const kms: ProviderEntry = { type: "kms", name: "kpki-etcd", endpoint: "unix:///run/kms.sock", keyName: "etcd", timeoutSeconds: 3 };
const steady: ClusterEncryption = { clusterId: "c1", resources: ["secrets"], provider: key1, nextKeyNumber: 2, version: 1, createdAt: T0, updatedAt: T0 };

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

const label = (entry: ProviderEntry) => (entry.type === "identity" ? "identity" : entry.type === "kms" ? `kms:${entry.name}` : `${entry.type}:${entry.key}`);

describe("the rotation state machine (reference §3.5)", () => {
  it("walks added → promoted → rewrite → removed → steady, with the file's providers of each step", () => {
    let setup = beginRotation(steady, "key", key2, T0, "prod");
    const seen: [string, string[]][] = [];
    for (;;) {
      seen.push([setup.rotation?.step ?? "steady", fileEntries(setup).map(label)]);
      if (setup.rotation === undefined) break;
      setup = advanceRotation(setup, T0, "prod").setup;
    }
    expect(seen).toEqual([
      ["added", ["aescbc:key-1", "aescbc:key-2"]],
      ["promoted", ["aescbc:key-2", "aescbc:key-1"]],
      ["rewrite", ["aescbc:key-2", "aescbc:key-1"]],
      ["removed", ["aescbc:key-2"]],
      ["steady", ["aescbc:key-2"]],
    ]);
    expect(setup.provider).toEqual(key2);
  });

  it("reports the entry that leaves the file when moving to removed, and only then", () => {
    const steps: (RotationStep | "steady")[] = [];
    const removed: (string | undefined)[] = [];
    let setup = beginRotation(steady, "provider", kms, T0, "prod");
    while (setup.rotation !== undefined) {
      const advanced = advanceRotation(setup, T0, "prod");
      removed.push(advanced.removed === undefined ? undefined : label(advanced.removed));
      setup = advanced.setup;
      steps.push(setup.rotation?.step ?? "steady");
    }
    expect(steps).toEqual(["promoted", "rewrite", "removed", "steady"]);
    expect(removed).toEqual([undefined, undefined, "aescbc:key-1", undefined]);
  });

  it("refuses a second start (conflict), advancing with none (wrong_state) and a stale confirmation (conflict)", () => {
    const started = beginRotation(steady, "key", key2, T0, "prod");
    expect(refusal(() => beginRotation(started, "key", key2, T0, "prod")).code).toBe("conflict");
    expect(refusal(() => advanceRotation(steady, T0, "prod")).code).toBe("wrong_state");
    const stale = refusal(() => advanceRotation(started, T0, "prod", "promoted"));
    expect([stale.code, stale.detail.field]).toEqual(["conflict", "completedStep"]);
    expect(advanceRotation(started, T0, "prod", "added").setup.rotation?.step).toBe("promoted");
  });

  it("first-time enablement starts with identity first: nothing is encrypted until every server can read the key", () => {
    const enabling = beginRotation({ ...steady, provider: { type: "identity" } }, "enable", key1, T0, "prod");
    expect(fileEntries(enabling).map(label)).toEqual(["identity", "aescbc:key-1"]);
    expect(nextAction(enabling, "prod").summary).toMatch(/nothing is encrypted yet/);
    const promoted = advanceRotation(enabling, T0, "prod").setup;
    expect(fileEntries(promoted).map(label)).toEqual(["aescbc:key-1", "identity"]);
  });
});

describe("rewriteCommands", () => {
  it.each([
    ["secrets", "kubectl get secrets --all-namespaces -o json | kubectl replace -f -"],
    ["deployments.apps", "kubectl get deployments.apps --all-namespaces -o json | kubectl replace -f -"],
    ["*.", "kubectl api-resources --api-group='' --verbs=list,update -o name | xargs -I{} sh -c 'kubectl get {} --all-namespaces -o json | kubectl replace -f -'"],
    ["*.apps", "kubectl api-resources --api-group=apps --verbs=list,update -o name | xargs -I{} sh -c 'kubectl get {} --all-namespaces -o json | kubectl replace -f -'"],
    ["*.*", "kubectl api-resources --verbs=list,update -o name | xargs -I{} sh -c 'kubectl get {} --all-namespaces -o json | kubectl replace -f -'"],
  ])("%s", (resource, command) => {
    expect(rewriteCommands([resource])).toEqual([command]);
  });
});

describe("nextAction", () => {
  it("tells a KMS setup how to run the plugin and rotate the KEK", () => {
    const action = nextAction({ ...steady, provider: kms }, "prod");
    expect(action.instructions[0]).toContain("kpki kms-plugin --listen unix:///run/kms.sock --key etcd");
    expect(action.instructions.join("\n")).toContain("kpki key named rotate etcd");
  });

  it("gives the rewrite commands at the rewrite step only", () => {
    let setup = beginRotation(steady, "key", key2, T0, "prod");
    const commands: number[] = [];
    while (setup.rotation !== undefined) {
      commands.push(nextAction(setup, "prod").commands.length);
      setup = advanceRotation(setup, T0, "prod").setup;
    }
    expect(commands).toEqual([0, 0, 1, 0]);
  });
});

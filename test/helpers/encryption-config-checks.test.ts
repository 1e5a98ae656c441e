// The EncryptionConfiguration checker must catch what kube-apiserver refuses, or its green answers on
// kpki's files mean nothing: one valid file (the reference §3.4 sample with real secrets), then one
// broken variant per rule.
import { describe, expect, it } from "vitest";
import { encryptionConfigProblems, goDurationNanos, readableKeysOf, writeKeyOf } from "./encryption-config-checks.js";

const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString("base64");

/** Reference §3.4's sample, secrets filled in. */
const SAMPLE = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: ["secrets", "configmaps"]
    providers:
      - kms:
          apiVersion: v2
          name: ext-kms
          endpoint: unix:///var/run/kmsplugin/socket.sock
          timeout: 3s
      - aescbc:
          keys:
            - name: key-2026b
              secret: ${b64(32)}
      - identity: {}
  - resources: ["events"]
    providers: [ { identity: {} } ]
  - resources: ["*.*"]
    providers:
      - aesgcm:
          keys:
            - name: gcm-1
              secret: ${b64(16)}
      - secretbox:
          keys:
            - name: sb-1
              secret: ${b64(32)}
      - identity: {}
`;

describe("encryptionConfigProblems", () => {
  it("accepts the reference sample", () => {
    expect(encryptionConfigProblems(SAMPLE)).toEqual([]);
  });

  it.each([
    ["wrong apiVersion", SAMPLE.replace("apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v2"), /^apiVersion/],
    ["wrong kind", SAMPLE.replace("kind: EncryptionConfiguration", "kind: Encryption"), /^kind/],
    ["no resources", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n", /at least one resources is required/],
    ["an entry without resources", SAMPLE.replace('["events"]', "[]"), /at least one resources.resources/],
    ["an entry without providers", SAMPLE.replace("providers: [ { identity: {} } ]", "providers: []"), /at least one resources.providers/],
    ["capital letters", SAMPLE.replace('"configmaps"', '"ConfigMaps"'), /capital letters/],
    ["a bare *", SAMPLE.replace('"configmaps"', '"*"'), /use '\*\.'/],
    ["a resource without REST API", SAMPLE.replace('"configmaps"', '"serviceipallocations"'), /do not have REST API/],
    ["events.k8s.io", SAMPLE.replace('"configmaps"', '"*.events.k8s.io"'), /'events' API group/],
    ["extensions", SAMPLE.replace('"configmaps"', '"deployments.extensions"'), /'extensions' group/],
    ["a duplicate resource", SAMPLE.replace('"configmaps"', '"secrets"'), /specified multiple times/],
    ["overlapping resources", SAMPLE.replace('"configmaps"', '"*."'), /overlapping resources/],
    ["a resource masked by an earlier wildcard", SAMPLE.replace('- resources: ["*.*"]', '- resources: ["pods"]').replace('["events"]', '["*.*"]'), /masked by earlier rule/],
    ["a resource in two entries", SAMPLE.replace('["events"]', '["secrets"]'), /masked by earlier rule/],
    ["two provider types in one element", SAMPLE.replace("      - identity: {}\n  - resources: [\"events\"]", "        identity: {}\n  - resources: [\"events\"]"), /more than one provider/],
    ["an unknown provider", SAMPLE.replace("providers: [ { identity: {} } ]", "providers: [ { rot13: {} } ]"), /does not contain any of the expected providers/],
    ["identity with settings", SAMPLE.replace("providers: [ { identity: {} } ]", "providers: [ { identity: { x: 1 } } ]"), /identity takes no settings/],
    ["no keys", SAMPLE.replace(/aescbc:\n {10}keys:\n {12}- name: key-2026b\n {14}secret: \S+/, "aescbc:\n          keys: []"), /at least one keys is required/],
    ["a key without name", SAMPLE.replace("- name: key-2026b\n              secret", "- secret"), /name is a mandatory field/],
    ["a key without secret", SAMPLE.replace(`secret: ${b64(32)}\n      - identity`, "x: 1\n      - identity"), /secret is a mandatory field/],
    ["a secret that is not base64", SAMPLE.replace(`name: key-2026b\n              secret: ${b64(32)}`, "name: key-2026b\n              secret: not*base64"), /must be base64 encoded/],
    ["an aescbc key of 31 bytes", SAMPLE.replace(`name: key-2026b\n              secret: ${b64(32)}`, `name: key-2026b\n              secret: ${b64(31)}`), /expected length, got 31/],
    ["an aesgcm key of 20 bytes", SAMPLE.replace(`name: gcm-1\n              secret: ${b64(16)}`, `name: gcm-1\n              secret: ${b64(20)}`), /expected length, got 20/],
    ["a secretbox key of 16 bytes", SAMPLE.replace(`name: sb-1\n              secret: ${b64(32)}`, `name: sb-1\n              secret: ${b64(16)}`), /expected length, got 16, expected one of \[32\]/],
    ["duplicate key names", SAMPLE.replace(`- name: gcm-1\n              secret: ${b64(16)}`, `- name: gcm-1\n              secret: ${b64(16)}\n            - name: gcm-1\n              secret: ${b64(32)}`), /duplicate key name gcm-1/],
    ["kms without apiVersion", SAMPLE.replace("          apiVersion: v2\n", ""), /must be set to v2 explicitly/],
    ["kms v1", SAMPLE.replace("apiVersion: v2", "apiVersion: v1"), /KMS v1 is deprecated/],
    ["kms v3", SAMPLE.replace("apiVersion: v2", "apiVersion: v3"), /unsupported apiVersion "v3"/],
    ["kms name with ':'", SAMPLE.replace("name: ext-kms", "name: ext:kms"), /must not contain ':'/],
    ["kms without name", SAMPLE.replace("          name: ext-kms\n", ""), /name is a mandatory field for a KMS provider/],
    ["kms without endpoint", SAMPLE.replace("          endpoint: unix:///var/run/kmsplugin/socket.sock\n", ""), /endpoint is a mandatory field/],
    ["a tcp endpoint", SAMPLE.replace("unix:///var/run/kmsplugin/socket.sock", "tcp://127.0.0.1:9999"), /only unix is supported/],
    ["a zero timeout", SAMPLE.replace("timeout: 3s", "timeout: 0s"), /should be a positive value/],
    ["a timeout that is not a duration", SAMPLE.replace("timeout: 3s", "timeout: soon"), /not a duration/],
    ["cachesize on v2", SAMPLE.replace("timeout: 3s", "timeout: 3s\n          cachesize: 1000"), /cachesize is not supported in v2/],
    [
      "duplicate KMS names",
      SAMPLE.replace("      - identity: {}\n  - resources: [\"events\"]", "      - kms:\n          apiVersion: v2\n          name: ext-kms\n          endpoint: unix:///tmp/b.sock\n  - resources: [\"events\"]"),
      /duplicate KMS provider name ext-kms/,
    ],
    ["an unknown field", SAMPLE.replace("kind: EncryptionConfiguration", "kind: EncryptionConfiguration\nmetadata: {}"), /unknown field/],
    ["two YAML documents", `${SAMPLE}---\n${SAMPLE}`, /exactly one YAML document/],
  ])("refuses %s", (_name, text, problem) => {
    const problems = encryptionConfigProblems(text);
    expect(problems.some((line) => problem.test(line)), problems.join("\n")).toBe(true);
  });

  it("reads Go durations", () => {
    expect(goDurationNanos("3s")).toBe(3e9);
    expect(goDurationNanos("1m30s")).toBe(90e9);
    expect(goDurationNanos("250ms")).toBe(250e6);
    expect(goDurationNanos("-1s")).toBe(-1e9);
    expect(goDurationNanos("3")).toBeUndefined();
  });

  it("tells which key writes and which keys read a resource", () => {
    expect(writeKeyOf(SAMPLE, "secrets")).toBe("kms:ext-kms");
    expect([...readableKeysOf(SAMPLE, "secrets")]).toEqual(["kms:ext-kms", "aescbc:key-2026b", "identity"]);
    expect(writeKeyOf(SAMPLE, "events")).toBe("identity");
    expect(writeKeyOf(SAMPLE, "deployments.apps")).toBe("aesgcm:gcm-1");
  });
});

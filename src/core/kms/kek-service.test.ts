import { createHash, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DomainError } from "../shared/domain-error.js";
import {
  assertKmsAnnotations,
  assertKmsCiphertext,
  assertKmsKeyId,
  decodeWrappedKey,
  evaluateKekStatus,
  isFullyQualifiedDomainName,
  KEK_FORMAT_ANNOTATION,
  kekAnnotations,
  kekAssociatedData,
  kekKeyId,
  KekService,
  KMS_V2_LIMITS,
  parseKekKeyId,
  type KekEncryption,
  type KekProvider,
  type KekStatus,
} from "./kek-service.js";
import { STATES } from "./kmip-vocabulary.js";
import { encodeNamedCiphertext } from "./named-key-ciphertext.js";

function codeOf(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

async function asyncCodeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "ok";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/** A named-key ciphertext as bytes, as the providers return it. */
function wrapped(name: string, version: number, dataBytes = 32): Uint8Array {
  return Buffer.from(encodeNamedCiphertext({ name, version, iv: new Uint8Array(12), ciphertext: new Uint8Array(dataBytes), tag: new Uint8Array(16) }), "utf8");
}

describe("key_id", () => {
  it("is kpki-<name>-v<version>-<first 12 hex of sha256(uid)> and parses back", () => {
    const uid = randomUUID();
    const keyId = kekKeyId("etcd-kek", 7, uid);
    expect(keyId).toBe(`kpki-etcd-kek-v7-${createHash("sha256").update(uid).digest("hex").slice(0, 12)}`);
    expect(parseKekKeyId(keyId)).toEqual({ name: "etcd-kek", version: 7, uidHash: keyId.slice(-12) });
  });

  it("is never reused: the same name and version with another uid (a key created again) gives another key_id", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => kekKeyId("k", 1, randomUUID())));
    expect(ids.size).toBe(1000);
  });

  it.each([
    ["names with dashes and dots", "a-v1-b.c_d", 12],
    ["a name that looks like a key_id", "kpki-x-v1-0123456789ab", 3],
    ["the longest name", "a".repeat(63), 4_294_967],
  ])("round-trips %s", (_label, name, version) => {
    const keyId = kekKeyId(name, version, "uid-1");
    expect(parseKekKeyId(keyId)).toMatchObject({ name, version });
    expect(Buffer.byteLength(keyId)).toBeLessThanOrEqual(KMS_V2_LIMITS.keyIdMaxBytes);
  });

  it.each(["", "kpki-k-v1", "kpki-k-v0-0123456789ab", "kpki-K-v1-0123456789ab", "kpki-k-v1-0123456789AB", "kpki-k-v1-0123456789a", "other-k-v1-0123456789ab", "kpki-k-v01-0123456789ab", " kpki-k-v1-0123456789ab"])(
    "does not parse %j (an unknown key_id)",
    (keyId) => {
      expect(parseKekKeyId(keyId)).toBeUndefined();
    },
  );
});

describe("limits of reference 3.2", () => {
  // k8s.io/apimachinery IsFullyQualifiedDomainName, case by case.
  it.each([
    ["example.com", true],
    ["format.kms-plugin.kpki.io", true],
    ["a.b", true],
    ["example.com.", true],
    ["remote-kms-auditid.kms.example.io", true],
    ["localhost", false], // one label
    ["kms.example.io/remote-kms-auditid", false], // the docs' own example: '/' is not allowed
    ["Example.com", false], // uppercase
    ["-a.com", false],
    ["a-.com", false],
    ["a..com", false],
    [".a.com", false],
    ["", false],
    [".", false],
    ["a_b.com", false],
    [`${"a".repeat(63)}.com`, true],
    [`${"a".repeat(64)}.com`, false],
    [`${"a.".repeat(125)}abc`, true], // 253 characters: the longest subdomain
    [`${"a.".repeat(125)}abc.`, true], // … with the optional trailing dot
    [`${"a.".repeat(126)}bc`, false], // 254 characters
  ])("IsFullyQualifiedDomainName(%j) is %s", (name, expected) => {
    expect(isFullyQualifiedDomainName(name)).toBe(expected);
  });

  it("key_id: non-empty, at most 1024 bytes (multi-byte characters counted as bytes)", () => {
    expect(codeOf(() => assertKmsKeyId(""))).toBe("invalid_input");
    expect(codeOf(() => assertKmsKeyId("k".repeat(1024)))).toBe("ok");
    expect(codeOf(() => assertKmsKeyId("k".repeat(1025)))).toBe("invalid_input");
    expect(codeOf(() => assertKmsKeyId("é".repeat(513)))).toBe("invalid_input");
  });

  it("ciphertext: non-empty, at most 1024 bytes", () => {
    expect(codeOf(() => assertKmsCiphertext(new Uint8Array()))).toBe("invalid_input");
    expect(codeOf(() => assertKmsCiphertext(new Uint8Array(1024)))).toBe("ok");
    expect(codeOf(() => assertKmsCiphertext(new Uint8Array(1025)))).toBe("invalid_input");
  });

  it("annotations: FQDN keys, Σ(len(key) + len(value)) ≤ 32 KiB", () => {
    const key = "big.example.com";
    const exact = new Map([[key, new Uint8Array(32 * 1024 - key.length)]]);
    expect(codeOf(() => assertKmsAnnotations(exact))).toBe("ok");
    expect(codeOf(() => assertKmsAnnotations(new Map([[key, new Uint8Array(32 * 1024 - key.length + 1)]])))).toBe("invalid_input");
    expect(codeOf(() => assertKmsAnnotations(new Map([["not-fqdn", new Uint8Array(1)]])))).toBe("invalid_input");
    expect(codeOf(() => assertKmsAnnotations(new Map()))).toBe("ok");
  });

  it("the plugin's own annotations fit", () => {
    expect(codeOf(() => assertKmsAnnotations(kekAnnotations()))).toBe("ok");
    expect(kekAnnotations().has(KEK_FORMAT_ANNOTATION)).toBe(true);
  });

  it("the largest plaintext accepted wraps into at most 1 KiB with the longest name and version", () => {
    const longest = wrapped("a".repeat(63), 2_147_483_647, KMS_V2_LIMITS.plaintextMaxBytes);
    expect(longest.length).toBeLessThanOrEqual(KMS_V2_LIMITS.ciphertextMaxBytes);
  });
});

describe("associated data", () => {
  it("does not depend on the order of the annotations, and changes with any key or value", () => {
    const a = new Map([
      ["a.example.com", Buffer.from("1")],
      ["b.example.com", Buffer.from("2")],
    ]);
    const reordered = new Map([...a].reverse());
    expect(Buffer.from(kekAssociatedData(a)).equals(Buffer.from(kekAssociatedData(reordered)))).toBe(true);
    const variants = [
      new Map([...a, ["a.example.com", Buffer.from("x")]]),
      new Map([...a, ["c.example.com", Buffer.from("")]]),
      new Map([["a.example.com", Buffer.from("1")]]),
      // moving bytes between key and value must not collide (length prefixes)
      new Map([
        ["a.example.co", Buffer.from("m1")],
        ["b.example.com", Buffer.from("2")],
      ]),
    ];
    for (const variant of variants) expect(Buffer.from(kekAssociatedData(variant)).equals(Buffer.from(kekAssociatedData(a)))).toBe(false);
  });
});

describe("status", () => {
  it.each(STATES.map((state) => [state]))("is healthy only while the current version is Active (%s)", (state) => {
    const status = evaluateKekStatus({ name: "k", version: 3, uid: "u", state });
    expect(status.healthy).toBe(state === "Active");
    expect(status.keyId).toBe(kekKeyId("k", 3, "u"));
    expect(status.reason).toEqual(state === "Active" ? "ok" : expect.stringContaining(state));
  });
});

/** A provider with fixed answers, to test the rules KekService adds around any provider. */
class FixedProvider implements KekProvider {
  decrypted = 0;
  constructor(
    private readonly answers: { status?: () => Promise<KekStatus>; encryption?: KekEncryption },
  ) {}
  status(): Promise<KekStatus> {
    return this.answers.status?.() ?? Promise.resolve({ healthy: true, keyId: kekKeyId("k", 1, "u1"), reason: "ok" });
  }
  async encrypt(): Promise<KekEncryption> {
    return this.answers.encryption ?? { ciphertext: wrapped("k", 1), keyId: kekKeyId("k", 1, "u1"), annotations: kekAnnotations() };
  }
  async decrypt(): Promise<Uint8Array> {
    this.decrypted += 1;
    return new Uint8Array(32);
  }
}

describe("KekService", () => {
  const good = { ciphertext: wrapped("k", 1), keyId: kekKeyId("k", 1, "u1"), annotations: kekAnnotations() };

  it.each([
    ["a key_id of 2 KiB", { keyId: "k".repeat(2048) }, "invalid_input"],
    ["an empty key_id", { keyId: "" }, "invalid_input"],
    ["a ciphertext over 1 KiB", { ciphertext: new Uint8Array(1025) }, "invalid_input"],
    ["an empty ciphertext", { ciphertext: new Uint8Array() }, "invalid_input"],
    ["33 KiB of annotations", { annotations: new Map([...kekAnnotations(), ["big.example.com", new Uint8Array(33 * 1024)]]) }, "invalid_input"],
    ["a non-FQDN annotation key", { annotations: new Map([...kekAnnotations(), ["nodots", new Uint8Array(1)]]) }, "invalid_input"],
    ["no format annotation", { annotations: new Map() }, "invalid_input"],
    ["another format", { annotations: new Map([[KEK_FORMAT_ANNOTATION, Buffer.from("2")]]) }, "invalid_input"],
    ["a key_id that is not kpki's", { keyId: "arn:aws:kms:eu-west-1:1:key/abc" }, "not_found"],
    ["a key_id of another named key", { keyId: kekKeyId("other", 1, "u1"), ciphertext: wrapped("other", 1) }, "not_found"],
    ["a ciphertext of another version than the key_id", { ciphertext: wrapped("k", 2) }, "invalid_input"],
    ["a ciphertext that is not a named-key ciphertext", { ciphertext: Buffer.from("garbage") }, "invalid_input"],
  ])("refuses to decrypt %s, before the provider sees it", async (_label, change, code) => {
    const provider = new FixedProvider({});
    const service = new KekService(provider, "k");
    expect(await asyncCodeOf(() => service.decrypt({ ...good, ...change }))).toBe(code);
    expect(provider.decrypted).toBe(0);
  });

  it("passes a valid request to the provider", async () => {
    const provider = new FixedProvider({});
    expect(await new KekService(provider, "k").decrypt(good)).toHaveLength(32);
    expect(provider.decrypted).toBe(1);
  });

  it.each([
    ["an empty plaintext", 0],
    ["a plaintext over 512 bytes", 513],
  ])("refuses to encrypt %s", async (_label, bytes) => {
    expect(await asyncCodeOf(() => new KekService(new FixedProvider({}), "k").encrypt(new Uint8Array(bytes)))).toBe("invalid_input");
  });

  it.each([
    ["a ciphertext over 1 KiB", { ...good, ciphertext: new Uint8Array(1025) }],
    ["a key_id over 1 KiB", { ...good, keyId: "k".repeat(1025) }],
    ["a non-FQDN annotation", { ...good, annotations: new Map([["x", new Uint8Array()]]) }],
  ])("never returns an answer with %s (internal error instead)", async (_label, encryption) => {
    expect(await asyncCodeOf(() => new KekService(new FixedProvider({ encryption }), "k").encrypt(new Uint8Array(32)))).toBe("internal");
  });

  it("reports a failing key service as an unhealthy Status instead of throwing", async () => {
    const service = new KekService(new FixedProvider({ status: () => Promise.reject(new DomainError("unavailable", "cannot reach kpki at https://kpki:8443: ECONNREFUSED")) }), "k");
    expect(await service.status()).toEqual({ healthy: false, reason: "key service: cannot reach kpki at https://kpki:8443: ECONNREFUSED" });
  });

  it.each([
    ["no key_id", { healthy: true, reason: "ok" }],
    ["an empty key_id", { healthy: true, keyId: "", reason: "ok" }],
    ["a key_id over 1 KiB", { healthy: true, keyId: "k".repeat(1025), reason: "ok" }],
  ])("is not healthy when the provider reports %s", async (_label, status) => {
    expect((await new KekService(new FixedProvider({ status: () => Promise.resolve(status) }), "k").status()).healthy).toBe(false);
  });

  it("decodes the key and version a wrap names", () => {
    expect(decodeWrappedKey(wrapped("k", 9))).toMatchObject({ name: "k", version: 9 });
  });
});

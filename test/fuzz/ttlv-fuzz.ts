// Mutation fuzzer for the KMIP transport: valid request messages (every operation, KMIP 1.2, 1.4
// and 2.0, and PyKMIP's own Get) are mutated — bit flips, interesting bytes, length, type and tag
// rewrites, truncation, extension, splices — and fed to (1) the TTLV codec and (2) the KMIP
// processor over a real key service (SQLite). Properties checked on every input:
//   - decodeTtlv returns or throws TtlvError, nothing else; what it accepts re-encodes to the same
//     bytes (the decoder is strict, so accepted input is canonical; non-minimal Big Integers aside);
//   - KmipProcessor.handle never throws and always answers a decodable Response Message with at
//     least one batch item, within a time bound (no hang), and never reports a fault inside the
//     server (General Failure: an exception the transport or the key service did not expect).
// `npm run fuzz:ttlv -- --count 1000000 --seed 7` for a long run; test/e2e/kmip-fuzz.test.ts runs a
// short one in CI. A violation prints the seed, the iteration and the input in hex, and exits 1;
// KPKI_FUZZ_TRACE=/tmp/trace writes each input before it runs (a hang leaves its input there).
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Principal } from "../../src/core/access/index.js";
import type { Logger } from "../../src/core/shared/logger.js";
import { createLogger } from "../../src/infra/logging/logger.js";
import { KmipProcessor } from "../../src/transports/kmip/kmip-processor.js";
import { decodeTtlv, encodeTtlv, HEADER_BYTES, readHeader, TtlvError } from "../../src/transports/kmip/ttlv/codec.js";
import { byteString, dateTime, enumeration, integer, ITEM_TYPE, structure, textString, type TtlvItem } from "../../src/transports/kmip/ttlv/item.js";
import { ENUM, OP, parseResponse, requestMessage, TAG } from "../helpers/kmip.js";
import { startTestRuntime, type TestRuntime } from "../helpers/runtime.js";

/** Small, fast, seedable PRNG (mulberry32): runs reproduce from their seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const v1 = (name: string, value: TtlvItem) => structure(TAG.Attribute, [textString(TAG.AttributeName, name), { ...value, tag: TAG.AttributeValue }]);
const aesTemplate12 = structure(TAG.TemplateAttribute, [
  v1("Cryptographic Algorithm", enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes)),
  v1("Cryptographic Length", integer(TAG.CryptographicLength, 128)),
  v1("Cryptographic Usage Mask", integer(TAG.CryptographicUsageMask, 12)),
  v1("Name", structure(TAG.Name, [textString(TAG.NameValue, "fuzz"), enumeration(TAG.NameType, 1)])),
]);
const aesAttributes20 = structure(TAG.Attributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), integer(TAG.CryptographicLength, 128), integer(TAG.CryptographicUsageMask, 12), dateTime(TAG.ActivationDate, new Date(0))]);
const uid = (value: string) => textString(TAG.UniqueIdentifier, value);
const cbc = structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Cbc), enumeration(TAG.PaddingMethod, ENUM.PaddingMethod.Pkcs5)]);
const gcm = structure(TAG.CryptographicParameters, [enumeration(TAG.BlockCipherMode, ENUM.BlockCipherMode.Gcm), integer(TAG.TagLength, 16)]);

/** Valid requests, one or more per operation; the uid placeholders are replaced by real ones. */
function seeds(ids: { aes: string; hmac: string; rsaPrivate: string; rsaPublic: string }): Buffer[] {
  const all: Buffer[] = [];
  for (const version of [[1, 2], [1, 4], [2, 0]] as [number, number][]) {
    const v2 = version[0] >= 2;
    const add = (operation: number, payload: (TtlvItem | undefined)[]) => all.push(requestMessage(version, [{ operation, payload }]));
    add(OP.Create, [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), v2 ? aesAttributes20 : aesTemplate12]);
    add(OP.CreateKeyPair, [v2 ? structure(TAG.CommonAttributes, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Ec), integer(TAG.CryptographicLength, 256)]) : structure(TAG.CommonTemplateAttribute, [v1("Cryptographic Algorithm", enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Ec)), v1("Cryptographic Length", integer(TAG.CryptographicLength, 256))])]);
    add(OP.Register, [
      enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey),
      v2 ? structure(TAG.Attributes, []) : structure(TAG.TemplateAttribute, []),
      structure(TAG.SymmetricKey, [structure(TAG.KeyBlock, [enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.Raw), structure(TAG.KeyValue, [byteString(TAG.KeyMaterial, Buffer.alloc(16, 1))]), enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.Aes), integer(TAG.CryptographicLength, 128)])]),
    ]);
    add(OP.Get, [uid(ids.aes)]);
    add(OP.Get, [uid(ids.rsaPrivate), enumeration(TAG.KeyFormatType, ENUM.KeyFormatType.Pkcs1)]);
    add(OP.GetAttributes, v2 ? [uid(ids.aes), enumeration(TAG.AttributeReference, TAG.State)] : [uid(ids.aes), textString(TAG.AttributeName, "State")]);
    add(OP.GetAttributeList, [uid(ids.aes)]);
    add(OP.Locate, [integer(TAG.MaximumItems, 2), integer(TAG.OffsetItems, 1), v2 ? structure(TAG.Attributes, [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey)]) : v1("Object Type", enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey))]);
    add(OP.ModifyAttribute, v2 ? [uid(ids.aes), structure(TAG.NewAttribute, [structure(TAG.Name, [textString(TAG.NameValue, "renamed"), enumeration(TAG.NameType, 1)])])] : [uid(ids.aes), v1("Name", structure(TAG.Name, [textString(TAG.NameValue, "renamed"), enumeration(TAG.NameType, 1)]))]);
    add(OP.Activate, [uid(ids.aes)]);
    add(OP.Revoke, [uid(ids.hmac), structure(TAG.RevocationReason, [enumeration(TAG.RevocationReasonCode, 5), textString(TAG.RevocationMessage, "fuzz")])]);
    add(OP.Encrypt, [uid(ids.aes), cbc, byteString(TAG.Data, Buffer.alloc(40, 2)), byteString(TAG.IvCounterNonce, Buffer.alloc(16, 3))]);
    add(OP.Decrypt, [uid(ids.aes), cbc, byteString(TAG.Data, Buffer.alloc(48, 2)), byteString(TAG.IvCounterNonce, Buffer.alloc(16, 3))]);
    if (version[1] >= 4 || v2) add(OP.Encrypt, [uid(ids.aes), gcm, byteString(TAG.Data, Buffer.alloc(64, 2)), byteString(TAG.IvCounterNonce, Buffer.alloc(12, 3)), byteString(TAG.AuthenticatedEncryptionAdditionalData, Buffer.from("aad"))]);
    add(OP.Sign, [uid(ids.rsaPrivate), structure(TAG.CryptographicParameters, [enumeration(TAG.PaddingMethod, ENUM.PaddingMethod.Pss), enumeration(TAG.HashingAlgorithm, ENUM.HashingAlgorithm.Sha256)]), byteString(TAG.Data, Buffer.from("data"))]);
    add(OP.SignatureVerify, [uid(ids.rsaPublic), byteString(TAG.Data, Buffer.from("data")), byteString(TAG.SignatureData, Buffer.alloc(256, 9))]);
    add(OP.Mac, [uid(ids.hmac), structure(TAG.CryptographicParameters, [enumeration(TAG.CryptographicAlgorithm, ENUM.CryptographicAlgorithm.HmacSha256)]), byteString(TAG.Data, Buffer.from("mac me"))]);
    add(OP.MacVerify, [uid(ids.hmac), byteString(TAG.Data, Buffer.from("mac me")), byteString(TAG.MacData, Buffer.alloc(32, 4))]);
    add(OP.RngRetrieve, [integer(TAG.DataLength, 32)]);
    add(OP.Query, [enumeration(TAG.QueryFunction, 1), enumeration(TAG.QueryFunction, 3)]);
    add(OP.DiscoverVersions, [structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, 1), integer(TAG.ProtocolVersionMinor, 2)])]);
    add(OP.Rekey, [uid(ids.aes), { tag: TAG.Offset, type: ITEM_TYPE.Interval, value: 60 }]);
    add(OP.DeleteAttribute, v2 ? [uid(ids.aes), enumeration(TAG.AttributeReference, TAG.Name)] : [uid(ids.aes), textString(TAG.AttributeName, "Name")]);
    all.push(requestMessage(version, [{ operation: OP.Create, payload: [enumeration(TAG.ObjectType, ENUM.ObjectType.SymmetricKey), v2 ? aesAttributes20 : aesTemplate12] }, { operation: OP.Activate, payload: [] }, { operation: OP.Destroy, payload: [] }], { continuation: 1 }));
  }
  return all;
}

/** Offsets of every item header in a well-formed message (to aim length/type/tag mutations). */
function itemOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  const walk = (start: number, end: number) => {
    let at = start;
    while (at + HEADER_BYTES <= end) {
      const { type, length } = readHeader(bytes, at);
      offsets.push(at);
      const next = at + HEADER_BYTES + length + ((8 - (length % 8)) % 8);
      if (type === ITEM_TYPE.Structure && next <= end) walk(at + HEADER_BYTES, at + HEADER_BYTES + length);
      at = next;
    }
  };
  walk(0, bytes.length);
  return offsets;
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x42, 0x10];
const INTERESTING_LENGTHS = [0, 1, 4, 7, 8, 9, 15, 16, 0x7fffffff, 0xffffffff, 0x10000];

/** One random mutation (1–4 stacked) of `input`. */
function mutate(input: Buffer, corpus: readonly Buffer[], random: () => number): Buffer {
  let bytes = Buffer.from(input);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const index = (limit: number) => Math.floor(random() * Math.max(1, limit));
  const rounds = 1 + index(4);
  for (let round = 0; round < rounds && bytes.length > 0; round++) {
    const headers = itemOffsets(bytes);
    const header = headers.length > 0 ? pick(headers) : 0;
    switch (index(11)) {
      case 0:
        bytes[index(bytes.length)]! ^= 1 << index(8);
        break;
      case 1:
        bytes[index(bytes.length)] = pick(INTERESTING);
        break;
      case 2:
        if (header + 8 <= bytes.length) bytes.writeUInt32BE(pick(INTERESTING_LENGTHS) >>> 0, header + 4);
        break;
      case 3:
        if (header + 8 <= bytes.length) bytes.writeUInt32BE(Math.max(0, (bytes.readUInt32BE(header + 4) + index(33) - 16) >>> 0), header + 4);
        break;
      case 4:
        if (header + 4 <= bytes.length) bytes[header + 3] = index(13);
        break;
      case 5:
        if (header + 3 <= bytes.length) bytes.writeUIntBE(pick([TAG.UniqueIdentifier, TAG.Attribute, TAG.Name, TAG.Data, TAG.BatchCount, TAG.Operation, 0x42fff0, 0x540001, 0x000000, index(0x1000000)]), header, 3);
        break;
      case 6:
        bytes = bytes.subarray(0, index(bytes.length));
        break;
      case 7:
        bytes = Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + index(24) }, () => index(256)))]);
        break;
      case 8: {
        const other = pick(corpus);
        const cut = index(bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, cut), other.subarray(index(other.length))]);
        break;
      }
      case 9: {
        const from = index(bytes.length);
        const length = 1 + index(24);
        bytes = Buffer.concat([bytes.subarray(0, from), bytes.subarray(from, from + length), bytes.subarray(from)]);
        break;
      }
      default: {
        const a = Math.floor(index(bytes.length) / 8) * 8;
        const b = Math.floor(index(bytes.length) / 8) * 8;
        if (a + 8 <= bytes.length && b + 8 <= bytes.length) {
          const block = Buffer.from(bytes.subarray(a, a + 8));
          bytes.copy(bytes, a, b, b + 8);
          block.copy(bytes, b);
        }
      }
    }
  }
  // Keep the outer length consistent half of the time, so mutations reach the inside.
  if (random() < 0.5 && bytes.length >= HEADER_BYTES) bytes.writeUInt32BE(bytes.length - HEADER_BYTES, 4);
  return bytes;
}

const KNOWN_TAGS = [...new Set(Object.values(TAG))];

/** A random leaf of a random type under `tag`. */
function randomLeaf(tag: number, random: () => number): TtlvItem {
  const index = (limit: number) => Math.floor(random() * limit);
  const interestingInt = [0, 1, -1, 7, 8, 255, 256, 2 ** 31 - 1, -(2 ** 31), 4096, 65536][index(11)]!;
  switch (index(10)) {
    case 0:
      return integer(tag, interestingInt);
    case 1:
      return enumeration(tag, [0, 1, 2, 3, 9, 0x1a, 0x37, 0x100, 0x7fffffff, 0xffffffff][index(10)]!);
    case 2:
      return { tag, type: ITEM_TYPE.Boolean, value: random() < 0.5 };
    case 3:
      return textString(tag, ["", "x", "Name", "x-custom", "\u{1F511}", "a".repeat(300), "Cryptographic Algorithm"][index(7)]!);
    case 4:
      return byteString(tag, Buffer.alloc([0, 1, 12, 16, 32, 1024][index(6)]!, index(256)));
    case 5:
      return { tag, type: ITEM_TYPE.DateTime, value: BigInt([0, -1, 1_700_000_000, 2 ** 40][index(4)]!) };
    case 6:
      return { tag, type: ITEM_TYPE.LongInteger, value: BigInt(interestingInt) * 1_000_000_007n };
    case 7:
      return { tag, type: ITEM_TYPE.BigInteger, value: BigInt(interestingInt) ** 3n };
    case 8:
      return { tag, type: ITEM_TYPE.Interval, value: Math.abs(interestingInt) };
    default:
      return structure(tag, []);
  }
}

/** A structure-aware mutation: one change somewhere in the decoded seed, re-encoded (so it frames). */
function mutateTree(item: TtlvItem, random: () => number, depth = 0): TtlvItem {
  const index = (limit: number) => Math.floor(random() * limit);
  if (item.type === ITEM_TYPE.Structure && item.value.length > 0 && random() < 0.7 && depth < 12) {
    // Aim mostly below the header: at the batch items (message) and their payloads (batch item).
    const last = item.value.length - 1;
    const at = depth < 2 && random() < 0.8 ? last : index(item.value.length);
    const children = [...item.value];
    children[at] = mutateTree(children[at]!, random, depth + 1);
    return { ...item, value: children };
  }
  switch (index(7)) {
    case 0:
      return randomLeaf(item.tag, random);
    case 1:
      return { ...item, tag: KNOWN_TAGS[index(KNOWN_TAGS.length)]! };
    case 2:
      if (item.type === ITEM_TYPE.Structure && item.value.length > 0) {
        const children = [...item.value];
        children.splice(index(children.length), 1);
        return { ...item, value: children };
      }
      return randomLeaf(item.tag, random);
    case 3:
      if (item.type === ITEM_TYPE.Structure && item.value.length > 0) {
        const children = [...item.value];
        const at = index(children.length);
        children.splice(at, 0, children[at]!);
        return { ...item, value: children };
      }
      return randomLeaf(item.tag, random);
    case 4:
      if (item.type === ITEM_TYPE.Structure) return { ...item, value: [...item.value, randomLeaf(KNOWN_TAGS[index(KNOWN_TAGS.length)]!, random)] };
      return randomLeaf(item.tag, random);
    case 5:
      if (item.type === ITEM_TYPE.Structure && item.value.length > 1) {
        const children = [...item.value];
        const a = index(children.length);
        const b = index(children.length);
        [children[a], children[b]] = [children[b]!, children[a]!];
        return { ...item, value: children };
      }
      return randomLeaf(item.tag, random);
    default:
      return structure(item.tag, [item]);
  }
}

function describeFault(object: object): string {
  const error = (object as { err?: unknown }).err;
  return error instanceof Error ? `${error.name}: ${error.message} ${error.stack?.split("\n").slice(1, 4).join(" | ") ?? ""}` : JSON.stringify(object);
}

function containsBigInteger(item: TtlvItem): boolean {
  return item.type === ITEM_TYPE.BigInteger || (item.type === ITEM_TYPE.Structure && item.value.some(containsBigInteger));
}

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  /** Stop after this long even if `count` is not reached. */
  readonly maxMillis?: number;
  /** Each input must be answered within this (hang detection). */
  readonly timeoutMs?: number;
  readonly progress?: (line: string) => void;
}

export interface FuzzReport {
  readonly inputs: number;
  readonly millis: number;
  readonly codecAccepted: number;
  readonly codecProblems: Readonly<Record<string, number>>;
  readonly responses: Readonly<Record<string, number>>;
  readonly slowestMillis: number;
  readonly violations: readonly { readonly iteration: number; readonly property: string; readonly inputHex: string }[];
}

/** Runs the fuzzer against a fresh key service; the runtime is closed afterwards. */
export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const runtime: TestRuntime = await startTestRuntime();
  const { services, clock } = runtime.runtime;
  // Faults the processor reports as General Failure are bugs to look at: the logger collects them.
  const faults: { readonly message: string; readonly requestId: string }[] = [];
  const silent = createLogger("silent");
  const collecting: Logger = {
    ...silent,
    error: (object: object) => void faults.push({ message: describeFault(object), requestId: String((object as { requestId?: unknown }).requestId) }),
    child: () => collecting,
  };
  const processor = new KmipProcessor({ kms: services.kms, access: services.access, clock, logger: collecting, identity: { vendor: "kpki", product: "kpki", version: "fuzz" } });
  const principal: Principal = { id: "cert:fuzz", kind: "certificate", role: "admin", displayName: "fuzz" };
  const context = { principal };
  try {
    const aes = await services.objects.create(context, { objectType: "SymmetricKey", algorithm: "AES", length: 128, extractable: true, activate: true });
    const hmac = await services.objects.create(context, { objectType: "SymmetricKey", algorithm: "HMAC-SHA256", extractable: true, activate: true });
    const pair = await services.objects.createKeyPair(context, { algorithm: "RSA", length: 2048, extractable: true, activate: true });
    const corpus = seeds({ aes: aes.uid, hmac: hmac.uid, rsaPrivate: pair.privateKey.uid, rsaPublic: pair.publicKey.uid });
    const random = prng(options.seed);
    const trace = process.env.KPKI_FUZZ_TRACE;
    const trees = new Map(corpus.map((bytes) => [bytes, decodeTtlv(bytes)]));
    const codecProblems: Record<string, number> = {};
    const responses: Record<string, number> = {};
    const violations: { iteration: number; property: string; inputHex: string }[] = [];
    const timeoutMs = options.timeoutMs ?? 10_000;
    let codecAccepted = 0;
    let slowestMillis = 0;
    const started = performance.now();
    let inputs = 0;
    for (; inputs < options.count; inputs++) {
      if (options.maxMillis !== undefined && performance.now() - started > options.maxMillis) break;
      const seed = corpus[Math.floor(random() * corpus.length)]!;
      const dice = random();
      // Half the inputs are structure-aware (they frame, and reach the message and payload layers).
      const input = dice < 0.02 ? Buffer.from(seed) : dice < 0.5 ? encodeTtlv(mutateTree(trees.get(seed)!, random)) : mutate(seed, corpus, random);
      // KPKI_FUZZ_TRACE=file: the input about to run is written there first, to find a hang's input.
      if (trace !== undefined) writeFileSync(trace, `${options.seed} ${inputs} ${input.toString("hex")}\n`);
      const violation = (property: string) => violations.push({ iteration: inputs, property, inputHex: input.toString("hex") });
      // (1) the codec alone
      try {
        const item = decodeTtlv(input);
        codecAccepted++;
        const again = encodeTtlv(item);
        if (!containsBigInteger(item) && !again.equals(input)) violation("decode→encode is not the identity on accepted input");
      } catch (error) {
        if (error instanceof TtlvError) codecProblems[error.problem] = (codecProblems[error.problem] ?? 0) + 1;
        else violation(`decodeTtlv threw ${String(error)}`);
      }
      // (2) the processor, over the real key service
      const before = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const answer = await Promise.race([
          processor.handle(principal, input, `fuzz-${inputs}`),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        const response = parseResponse(answer);
        if (response.items.length === 0) violation("a response without batch items");
        for (const item of response.items) {
          const key = item.status === ENUM.ResultStatus.Success ? "Success" : `reason 0x${(item.reason ?? 0).toString(16)}`;
          responses[key] = (responses[key] ?? 0) + 1;
        }
      } catch (error) {
        violation(`processor: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        clearTimeout(timer);
      }
      slowestMillis = Math.max(slowestMillis, performance.now() - before);
      for (const fault of faults.splice(0)) violation(`General Failure (a fault inside the server): ${fault.message}`);
      if (violations.length >= 10) break;
      if (performance.now() - before > 1000) options.progress?.(`slow input ${inputs}: ${Math.round(performance.now() - before)} ms ${input.toString("hex").slice(0, 400)}`);
      if (options.progress !== undefined && inputs > 0 && inputs % 50_000 === 0) options.progress(`${inputs} inputs, ${Math.round(inputs / ((performance.now() - started) / 1000))}/s, ${violations.length} violations`);
    }
    return { inputs, millis: performance.now() - started, codecAccepted, codecProblems, responses, slowestMillis, violations };
  } finally {
    await runtime.close();
  }
}

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : Number(process.argv[at + 1]);
  return value === undefined || !Number.isFinite(value) ? fallback : value;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/.*\/test\//, "/test/"))) {
  const count = argument("count", 20_000);
  const seed = argument("seed", Date.now() % 2 ** 31);
  console.log(`fuzzing the KMIP transport: ${count} inputs, seed ${seed}`);
  const report = await fuzz({ count, seed, progress: (line) => console.log(line) });
  const perSecond = Math.round(report.inputs / (report.millis / 1000));
  console.log(JSON.stringify({ ...report, perSecond, violations: report.violations.length }, null, 2));
  for (const violation of report.violations) console.log(`VIOLATION at iteration ${violation.iteration} (seed ${seed}): ${violation.property}\n  input: ${violation.inputHex}`);
  process.exitCode = report.violations.length === 0 ? 0 : 1;
}

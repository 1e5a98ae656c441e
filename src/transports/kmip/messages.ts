import { KmipError } from "./kmip-error.js";
import { majorOf, minorOf, version, type Version } from "./protocol-version.js";
import { resultReasonValue, type ResultReasonName } from "./result-reason.js";
import { StructReader } from "./struct-reader.js";
import { ENUM } from "./ttlv/enumerations.js";
import { byteString, dateTime, enumeration, integer, ITEM_TYPE, structure, textString, type StructureItem, type TtlvItem } from "./ttlv/item.js";
import { describeTag, TAG, tagName } from "./ttlv/tags.js";

// Request and response messages (KMIP 1.4 §7 and §6, 2.0 §8–9): header, batch items and their
// results, independent of what the operations mean.

/** KMIP Batch Error Continuation Option (1.4 §6.10); Stop when the request names none. */
export type BatchErrorContinuation = "Continue" | "Stop" | "Undo";

export interface RequestHeader {
  /** The version the request speaks; the response repeats it. */
  readonly version: Version;
  readonly maximumResponseSize?: number;
  readonly batchErrorContinuation: BatchErrorContinuation;
  readonly batchCount: number;
}

export interface RequestBatchItem {
  /** The Operation enumeration value (maybe one kpki does not know). */
  readonly operation: number;
  readonly uniqueBatchItemId?: Uint8Array;
  /** The Request Payload structure (absent only in a malformed item: `problem` says so). */
  readonly payload?: StructureItem;
  /** Why this item cannot be run although the message as a whole is well-formed. */
  readonly problem?: KmipError;
}

export interface RequestMessage {
  readonly header: RequestHeader;
  readonly items: readonly RequestBatchItem[];
}

/**
 * A message that cannot be answered item by item (header or framing wrong): the whole message
 * fails with `reason`, answered in `version` when the header got that far.
 */
export class MessageError extends KmipError {
  constructor(
    reason: ResultReasonName,
    message: string,
    readonly version?: Version,
  ) {
    super(reason, message);
  }
}

/** The first tag that KMIP does not define (extension tags 0x54xxxx are allowed), or undefined. */
export function findUnknownTag(item: TtlvItem): number | undefined {
  if ((item.tag >>> 16 !== 0x42 || tagName(item.tag) === undefined) && item.tag >>> 16 !== 0x54) return item.tag;
  if (item.type !== ITEM_TYPE.Structure) return undefined;
  for (const child of item.value) {
    const unknown = findUnknownTag(child);
    if (unknown !== undefined) return unknown;
  }
  return undefined;
}

const CONTINUATION: Readonly<Record<number, BatchErrorContinuation>> = {
  [ENUM.BatchErrorContinuationOption.Continue]: "Continue",
  [ENUM.BatchErrorContinuationOption.Stop]: "Stop",
  [ENUM.BatchErrorContinuationOption.Undo]: "Undo",
};

/** The protocol version a (maybe malformed) request names, for answering its failure in kind. */
function peekVersion(root: TtlvItem): Version | undefined {
  if (root.type !== ITEM_TYPE.Structure) return undefined;
  const header = root.value.find((child) => child.tag === TAG.RequestHeader);
  if (header?.type !== ITEM_TYPE.Structure) return undefined;
  const pv = header.value.find((child) => child.tag === TAG.ProtocolVersion);
  if (pv?.type !== ITEM_TYPE.Structure) return undefined;
  const major = pv.value.find((child) => child.tag === TAG.ProtocolVersionMajor);
  const minor = pv.value.find((child) => child.tag === TAG.ProtocolVersionMinor);
  if (major?.type !== ITEM_TYPE.Integer || minor?.type !== ITEM_TYPE.Integer || major.value < 0 || minor.value < 0 || minor.value > 99) return undefined;
  return version(major.value, minor.value);
}

/** Reads a Request Message (KMIP 1.4 §7.1, 2.0 §8.1); throws MessageError when it is not one. */
export function decodeRequestMessage(root: TtlvItem, limits: { maxBatchItems: number }): RequestMessage {
  const peeked = peekVersion(root);
  const fail = (message: string, reason: ResultReasonName = "InvalidMessage"): never => {
    throw new MessageError(reason, message, peeked);
  };
  if (root.tag !== TAG.RequestMessage || root.type !== ITEM_TYPE.Structure) fail(`expected a Request Message structure, got ${describeTag(root.tag)}`);
  const unknown = findUnknownTag(root);
  if (unknown !== undefined) fail(`unknown tag 0x${unknown.toString(16).padStart(6, "0")}`, "UnknownTag");
  try {
    const message = StructReader.of(root, "Request Message");
    const headerReader = message.struct(TAG.RequestHeader, "Request Header");
    const versionReader = headerReader.struct(TAG.ProtocolVersion, "Protocol Version");
    const major = versionReader.integer(TAG.ProtocolVersionMajor);
    const minor = versionReader.integer(TAG.ProtocolVersionMinor);
    versionReader.done();
    if (major < 0 || minor < 0 || minor > 99) fail(`protocol version ${major}.${minor} is not a KMIP version`);
    const maximumResponseSize = headerReader.optionalInteger(TAG.MaximumResponseSize);
    // Asynchronous Indicator: kpki answers every request synchronously, which KMIP allows (1.4 §6.7).
    headerReader.optionalBoolean(TAG.AsynchronousIndicator);
    // Client identity is the TLS client certificate (KMIP 1.4 §8 profiles); a Credential adds nothing.
    headerReader.optionalStruct(TAG.Authentication)?.rest();
    const continuationValue = headerReader.optionalEnumeration(TAG.BatchErrorContinuationOption);
    // Batch Order Option: items always run in order, which satisfies both settings' promise of a result each.
    headerReader.optionalBoolean(TAG.BatchOrderOption);
    headerReader.optionalDate(TAG.TimeStamp);
    headerReader.optionalBytes(TAG.ClientCorrelationValue);
    headerReader.optionalBytes(TAG.ServerCorrelationValue);
    headerReader.optionalBoolean(TAG.AttestationCapableIndicator);
    headerReader.enumerations(TAG.AttestationType);
    const batchCount = headerReader.integer(TAG.BatchCount);
    headerReader.done();
    const continuation = continuationValue === undefined ? "Stop" : CONTINUATION[continuationValue];
    if (continuation === undefined) fail(`Batch Error Continuation Option ${continuationValue} is not 1, 2 or 3`);
    const batchItems = message.structs(TAG.BatchItem, "Batch Item");
    message.done();
    if (batchCount !== batchItems.length) fail(`Batch Count is ${batchCount} but the message holds ${batchItems.length} batch items`);
    if (batchCount < 1) fail("a request holds at least one batch item");
    if (batchCount > limits.maxBatchItems) fail(`at most ${limits.maxBatchItems} batch items per message`, "ServerLimitExceeded");
    const items = batchItems.map((reader) => decodeBatchItem(reader, batchCount));
    return {
      header: {
        version: version(major, minor),
        ...(maximumResponseSize === undefined ? {} : { maximumResponseSize }),
        batchErrorContinuation: continuation as BatchErrorContinuation,
        batchCount,
      },
      items,
    };
  } catch (error) {
    if (error instanceof MessageError) throw error;
    if (error instanceof KmipError) fail(error.message);
    throw error;
  }
}

function decodeBatchItem(reader: StructReader, batchCount: number): RequestBatchItem {
  const operation = reader.enumeration(TAG.Operation);
  const uniqueBatchItemId = reader.optionalBytes(TAG.UniqueBatchItemId);
  const ids = uniqueBatchItemId === undefined ? {} : { uniqueBatchItemId };
  // 2.0 §8.1: Ephemeral asks not to keep the objects made; kpki keeps everything it makes.
  const ephemeral = reader.optionalBoolean(TAG.Ephemeral);
  const payload = reader.has(TAG.RequestPayload) ? reader.struct(TAG.RequestPayload).item : undefined;
  const extensions = reader.structs(TAG.MessageExtension, "Message Extension");
  reader.done();
  let problem: KmipError | undefined;
  if (batchCount > 1 && uniqueBatchItemId === undefined) problem = new KmipError("InvalidMessage", "Unique Batch Item ID is required when Batch Count is more than 1");
  else if (payload === undefined) problem = new KmipError("InvalidMessage", "the batch item has no Request Payload");
  else if (ephemeral === true) problem = new KmipError("FeatureNotSupported", "Ephemeral objects are not supported");
  for (const extension of extensions) {
    extension.text(TAG.VendorIdentification);
    const critical = extension.optionalBoolean(TAG.CriticalityIndicator);
    extension.rest();
    // KMIP 1.4 §6.16: a critical extension the server does not understand fails the item.
    if (critical === true && problem === undefined) problem = new KmipError("FeatureNotSupported", "a critical Message Extension kpki does not support");
  }
  return { operation, ...ids, ...(payload === undefined ? {} : { payload }), ...(problem === undefined ? {} : { problem }) };
}

/** One Response Batch Item. */
export type ResponseBatchItem =
  | {
      readonly status: "Success";
      readonly operation: number;
      readonly uniqueBatchItemId?: Uint8Array;
      /** Children of the Response Payload. */
      readonly payload: readonly TtlvItem[];
    }
  | {
      readonly status: "Failed";
      readonly operation?: number;
      readonly uniqueBatchItemId?: Uint8Array;
      readonly reason: ResultReasonName;
      readonly message: string;
    }
  | { readonly status: "Undone"; readonly operation: number; readonly uniqueBatchItemId?: Uint8Array };

const STATUS = { Success: ENUM.ResultStatus.Success, Failed: ENUM.ResultStatus.OperationFailed, Undone: ENUM.ResultStatus.OperationUndone } as const;

/** Encodes a Response Message in `version` (the request's); fields in the specification's order. */
export function encodeResponseMessage(responseVersion: Version, now: Date, items: readonly ResponseBatchItem[]): StructureItem {
  return structure(TAG.ResponseMessage, [
    structure(TAG.ResponseHeader, [
      structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, majorOf(responseVersion)), integer(TAG.ProtocolVersionMinor, minorOf(responseVersion))]),
      dateTime(TAG.TimeStamp, now),
      integer(TAG.BatchCount, items.length),
    ]),
    items.map((item) =>
      structure(TAG.BatchItem, [
        item.operation === undefined ? undefined : enumeration(TAG.Operation, item.operation),
        item.uniqueBatchItemId === undefined ? undefined : byteString(TAG.UniqueBatchItemId, item.uniqueBatchItemId),
        enumeration(TAG.ResultStatus, STATUS[item.status]),
        item.status === "Failed" ? enumeration(TAG.ResultReason, resultReasonValue(item.reason, responseVersion)) : undefined,
        item.status === "Failed" ? textString(TAG.ResultMessage, item.message) : undefined,
        item.status === "Success" ? structure(TAG.ResponsePayload, item.payload) : undefined,
      ]),
    ),
  ]);
}

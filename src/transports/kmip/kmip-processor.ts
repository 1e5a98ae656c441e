import { authorize, type AccessGuard, type OperationId, type Principal } from "../../core/access/index.js";
import { placeholderOf, type KmsAccess, type KmsDispatcher, type KmsOperation, type ManagedObject } from "../../core/kms/index.js";
import type { Clock } from "../../core/shared/clock.js";
import type { Logger } from "../../core/shared/logger.js";
import { KmipError } from "./kmip-error.js";
import { decodeRequestMessage, encodeResponseMessage, MessageError, type RequestBatchItem, type ResponseBatchItem } from "./messages.js";
import { operationHandlers, type OperationHandler, type ResultOf, type Runner, type ServerIdentity } from "./operations/index.js";
import { formatVersion, isSupported, V1_0, V2_0, version as versionOf, type Version } from "./protocol-version.js";
import { failureOf } from "./result-reason.js";
import { StructReader } from "./struct-reader.js";
import { decodeTtlv, encodeTtlv, TtlvError } from "./ttlv/codec.js";

/** Limits one message is held to (besides its size, which the connection enforces). */
export interface MessageLimits {
  readonly maxDepth: number;
  readonly maxBatchItems: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxDepth: 16, maxBatchItems: 64 };

export interface KmipProcessorDependencies {
  readonly kms: KmsDispatcher;
  /** The access decision of every operation the key service runs (scoped grants decided on the object's named key). */
  readonly access: AccessGuard;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly identity: ServerIdentity;
  readonly limits?: MessageLimits;
}

/**
 * The protocol protection of a principal's reading of the catalog: Query and Discover Versions reveal
 * what the server speaks, which REST offers under key.read (the object listing) as well.
 */
const PROTOCOL_OPERATION_ID: OperationId = "locateObjects";


/**
 * Serves one KMIP request message at a time: decode, run each batch item through the key service
 * with the access decision REST makes for the same operation, and encode the response in the
 * request's protocol version. Never throws: every failure becomes a KMIP error response.
 */
export class KmipProcessor {
  private readonly handlers: ReadonlyMap<number, OperationHandler>;
  private readonly limits: MessageLimits;

  constructor(private readonly deps: KmipProcessorDependencies) {
    this.handlers = operationHandlers(deps.identity);
    this.limits = deps.limits ?? DEFAULT_MESSAGE_LIMITS;
  }

  /** One request message (a whole TTLV item) → the response message bytes. */
  async handle(principal: Principal, requestBytes: Uint8Array, requestId: string): Promise<Buffer> {
    const now = () => this.deps.clock.now();
    let root;
    try {
      root = decodeTtlv(requestBytes, { maxDepth: this.limits.maxDepth });
    } catch (error) {
      if (!(error instanceof TtlvError)) throw error;
      this.deps.logger.debug({ requestId, problem: error.problem }, "KMIP: undecodable message");
      return this.failure(peekRawVersion(requestBytes) ?? V1_0, "InvalidMessage", `not a valid TTLV message: ${error.message}`);
    }
    let message;
    try {
      message = decodeRequestMessage(root, this.limits);
    } catch (error) {
      if (!(error instanceof MessageError)) throw error;
      this.deps.logger.debug({ requestId, reason: error.reason }, "KMIP: malformed request message");
      return this.failure(error.version ?? V1_0, error.reason, error.message);
    }
    const { header, items } = message;
    if (!isSupported(header.version)) {
      return this.failure(header.version, header.version >= V2_0 ? "UnsupportedProtocolVersion" : "InvalidMessage", "kpki speaks KMIP 1.0–1.4 and 2.0 (see Discover Versions)");
    }
    const responses = await this.runBatch(principal, header.version, header.batchErrorContinuation, items, requestId);
    let encoded = encodeTtlv(encodeResponseMessage(header.version, now(), responses));
    if (header.maximumResponseSize !== undefined && encoded.length > header.maximumResponseSize) {
      // KMIP 1.4 §6.3: a response over the client's limit answers Response Too Large instead.
      const limited = responses.map((item): ResponseBatchItem => (item.status === "Success" ? { ...withoutPayload(item), status: "Failed", reason: "ResponseTooLarge", message: `the response exceeds Maximum Response Size ${header.maximumResponseSize}` } : item));
      encoded = encodeTtlv(encodeResponseMessage(header.version, now(), limited));
    }
    return encoded;
  }

  /** The answer to any message from a client whose certificate kpki does not accept (KMIP 1.4 §9.1.3.2.29 Authentication Not Successful). */
  refuseClient(requestBytes: Uint8Array, reason: string): Buffer {
    return this.failure(peekRawVersion(requestBytes) ?? V1_0, "AuthenticationNotSuccessful", reason);
  }

  /** The answer to a message over the size limit, which is not read (its version is peeked from its start). */
  refuseOversized(firstBytes: Uint8Array, limitBytes: number): Buffer {
    return this.failure(peekRawVersion(firstBytes) ?? V1_0, "InvalidMessage", `the message is longer than the limit of ${limitBytes} bytes`);
  }

  /** A whole-message failure: one failed batch item. */
  private failure(responseVersion: Version, reason: ResponseBatchItemFailure["reason"], text: string): Buffer {
    return encodeTtlv(encodeResponseMessage(responseVersion, this.deps.clock.now(), [{ status: "Failed", reason, message: text }]));
  }

  private async runBatch(principal: Principal, requestVersion: Version, continuation: "Continue" | "Stop" | "Undo", items: readonly RequestBatchItem[], requestId: string): Promise<ResponseBatchItem[]> {
    // Undo (1.4 §6.10) can be kept only where nothing needs undoing: batches of reads and
    // cryptographic operations. A batch that would change objects is refused before it starts.
    if (continuation === "Undo") {
      const changing = items.find((item) => this.handlers.get(item.operation)?.undoable === false);
      if (changing !== undefined) {
        return items.map((item) => ({ status: "Failed", operation: item.operation, ...idOf(item), reason: "FeatureNotSupported", message: "Batch Error Continuation Option Undo is offered only for batches that change no object" }));
      }
    }
    const runner = this.runner(principal, requestVersion, requestId);
    const responses: ResponseBatchItem[] = [];
    for (const item of items) {
      const response = await this.runItem(runner, item, requestId);
      responses.push(response);
      if (response.status !== "Failed") continue;
      if (continuation === "Stop") break; // later items are not run and not answered (1.4 §6.10)
      if (continuation === "Undo") {
        return items.map((other) => (other === item ? response : { status: "Undone", operation: other.operation, ...idOf(other) }));
      }
    }
    return responses;
  }

  private async runItem(runner: Runner, item: RequestBatchItem, requestId: string): Promise<ResponseBatchItem> {
    const ids = { operation: item.operation, ...idOf(item) };
    const handler = this.handlers.get(item.operation);
    try {
      if (item.problem !== undefined) throw item.problem;
      if (handler === undefined || handler.since > runner.version) throw new KmipError("OperationNotSupported", `operation 0x${item.operation.toString(16)} is not supported${handler === undefined ? "" : ` in KMIP ${formatVersion(runner.version)}`}`);
      if (item.payload === undefined) throw new KmipError("InvalidMessage", "missing Request Payload");
      const plan = handler.decode(new StructReader(item.payload, `${handler.name} request payload`), runner.version);
      return { status: "Success", ...ids, payload: await plan(runner) };
    } catch (error) {
      const failure = failureOf(error);
      if (failure.internal) this.deps.logger.error({ err: error, requestId, operation: handler?.name ?? item.operation }, "KMIP: operation failed inside the server");
      else this.deps.logger.debug({ requestId, operation: handler?.name ?? item.operation, reason: failure.reason }, "KMIP: operation refused");
      return { status: "Failed", ...ids, reason: failure.reason, message: failure.message };
    }
  }

  /** The runner of one message: its principal's access decisions and its ID Placeholder. */
  private runner(principal: Principal, requestVersion: Version, requestId: string): Runner {
    const { kms, clock } = this.deps;
    const context = { principal, requestId };
    const access = asPermissionDenied(this.deps.access.keyService(context));
    let placeholder: string | undefined;
    return {
      version: requestVersion,
      execute: async <O extends KmsOperation>(operation: O): Promise<ResultOf<O>> => {
        const result = await kms.execute(context, operation, access, placeholder);
        placeholder = placeholderOf(result) ?? placeholder;
        if (result.operation !== operation.operation) throw new Error(`dispatcher answered ${result.operation} to ${operation.operation}`);
        return result as ResultOf<O>;
      },
      object: async (uid: string | undefined): Promise<ManagedObject> => {
        const chosen = uid ?? placeholder;
        if (chosen === undefined) {
          // Refuse a caller without access before telling it anything about the request.
          await access.check("GetMetadata", {});
          throw new KmipError("MissingData", "no Unique Identifier and no ID Placeholder from an earlier batch item");
        }
        return kms.find(chosen, access);
      },
      authorizeProtocolOperation: () => allow(principal, PROTOCOL_OPERATION_ID),
      now: () => clock.now(),
    };
  }
}

type ResponseBatchItemFailure = Extract<ResponseBatchItem, { status: "Failed" }>;

/** The key service's access decisions (core/access), refusals as KMIP's Permission Denied. */
function asPermissionDenied(access: KmsAccess): KmsAccess {
  return {
    needsKeyName: access.needsKeyName,
    check: async (operation, target) => {
      try {
        await access.check(operation, target);
      } catch (error) {
        throw new KmipError("PermissionDenied", error instanceof Error ? error.message : "not allowed");
      }
    },
  };
}

/** The one access decision (core/access), as KMIP's Permission Denied. */
function allow(principal: Principal, operationId: OperationId): void {
  try {
    authorize(principal, operationId);
  } catch (error) {
    throw new KmipError("PermissionDenied", error instanceof Error ? error.message : "not allowed");
  }
}

function idOf(item: RequestBatchItem): { uniqueBatchItemId?: Uint8Array } {
  return item.uniqueBatchItemId === undefined ? {} : { uniqueBatchItemId: item.uniqueBatchItemId };
}

function withoutPayload(item: Extract<ResponseBatchItem, { status: "Success" }>): { operation: number; uniqueBatchItemId?: Uint8Array } {
  return { operation: item.operation, ...(item.uniqueBatchItemId === undefined ? {} : { uniqueBatchItemId: item.uniqueBatchItemId }) };
}

/**
 * The protocol version of a request too malformed to decode, read at the fixed offsets every
 * encoder uses (Request Message → Request Header → Protocol Version first), so even its error
 * response speaks the client's version.
 */
function peekRawVersion(bytes: Uint8Array): Version | undefined {
  if (bytes.length < 56) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 56);
  const at = (offset: number, tag: number, type: number) => view.readUIntBE(offset, 3) === tag && view[offset + 3] === type;
  if (!at(8, 0x420077, 1) || !at(16, 0x420069, 1) || !at(24, 0x42006a, 2) || !at(40, 0x42006b, 2)) return undefined;
  const candidate = versionOf(view.readInt32BE(32), view.readInt32BE(48));
  return isSupported(candidate) ? candidate : undefined;
}

// A small KMIP client for tests and benchmarks: builds request messages with the codec's builders,
// sends them over mutual TLS with KMIP's own framing (the 8-byte TTLV header gives the length), and
// reads responses back into plain objects. The interop tests use PyKMIP instead; this one can send
// what PyKMIP cannot (malformed bytes, any version, batches).
import { connect, type TLSSocket } from "node:tls";
import { decodeTtlv, encodeTtlv, HEADER_BYTES, readHeader } from "../../src/transports/kmip/ttlv/codec.js";
import { ENUM } from "../../src/transports/kmip/ttlv/enumerations.js";
import { byteString, enumeration, integer, ITEM_TYPE, structure, type TtlvItem } from "../../src/transports/kmip/ttlv/item.js";
import { TAG } from "../../src/transports/kmip/ttlv/tags.js";

export { TAG, ENUM };

/** One batch item of a request. */
export interface RequestItem {
  readonly operation: number;
  readonly payload: readonly (TtlvItem | undefined)[];
  readonly id?: Uint8Array;
}

/** A Request Message in version `major.minor` with the given items (and optional header fields). */
export function requestMessage(version: [number, number], items: readonly RequestItem[], header: { continuation?: number; maximumResponseSize?: number; batchCount?: number } = {}): Buffer {
  return encodeTtlv(
    structure(TAG.RequestMessage, [
      structure(TAG.RequestHeader, [
        structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, version[0]), integer(TAG.ProtocolVersionMinor, version[1])]),
        header.maximumResponseSize === undefined ? undefined : integer(TAG.MaximumResponseSize, header.maximumResponseSize),
        header.continuation === undefined ? undefined : enumeration(TAG.BatchErrorContinuationOption, header.continuation),
        integer(TAG.BatchCount, header.batchCount ?? items.length),
      ]),
      items.map((item, index) =>
        structure(TAG.BatchItem, [
          enumeration(TAG.Operation, item.operation),
          item.id !== undefined ? byteString(TAG.UniqueBatchItemId, item.id) : items.length > 1 ? byteString(TAG.UniqueBatchItemId, Uint8Array.of(index)) : undefined,
          structure(TAG.RequestPayload, item.payload),
        ]),
      ),
    ]),
  );
}

/** A decoded Response Batch Item. */
export interface ResponseItem {
  readonly operation?: number;
  readonly id?: Uint8Array;
  readonly status: number;
  readonly reason?: number;
  readonly message?: string;
  readonly payload?: readonly TtlvItem[];
}

/** A decoded Response Message. */
export interface Response {
  readonly version: [number, number];
  readonly timeStamp: bigint;
  readonly batchCount: number;
  readonly items: readonly ResponseItem[];
}

const child = (item: TtlvItem, tag: number): TtlvItem | undefined => (item.type === ITEM_TYPE.Structure ? item.value.find((c) => c.tag === tag) : undefined);
const children = (item: TtlvItem, tag: number): TtlvItem[] => (item.type === ITEM_TYPE.Structure ? item.value.filter((c) => c.tag === tag) : []);

/** Reads a Response Message; throws if it is not one. */
export function parseResponse(bytes: Uint8Array): Response {
  const root = decodeTtlv(bytes, { maxDepth: 32 });
  if (root.tag !== TAG.ResponseMessage) throw new Error(`not a Response Message: 0x${root.tag.toString(16)}`);
  const header = child(root, TAG.ResponseHeader)!;
  const pv = child(header, TAG.ProtocolVersion)!;
  return {
    version: [child(pv, TAG.ProtocolVersionMajor)!.value as number, child(pv, TAG.ProtocolVersionMinor)!.value as number],
    timeStamp: child(header, TAG.TimeStamp)!.value as bigint,
    batchCount: child(header, TAG.BatchCount)!.value as number,
    items: children(root, TAG.BatchItem).map((item) => {
      const payload = child(item, TAG.ResponsePayload);
      const operation = child(item, TAG.Operation)?.value as number | undefined;
      const id = child(item, TAG.UniqueBatchItemId)?.value as Uint8Array | undefined;
      const reason = child(item, TAG.ResultReason)?.value as number | undefined;
      const message = child(item, TAG.ResultMessage)?.value as string | undefined;
      return {
        status: child(item, TAG.ResultStatus)!.value as number,
        ...(operation === undefined ? {} : { operation }),
        ...(id === undefined ? {} : { id }),
        ...(reason === undefined ? {} : { reason }),
        ...(message === undefined ? {} : { message }),
        ...(payload === undefined || payload.type !== ITEM_TYPE.Structure ? {} : { payload: payload.value }),
      };
    }),
  };
}

/** The first value under `tag` in a payload (or nested structure). */
export function field<T = unknown>(items: readonly TtlvItem[] | undefined, tag: number): T | undefined {
  return items?.find((item) => item.tag === tag)?.value as T | undefined;
}

/** Every value under `tag`. */
export function fields<T = unknown>(items: readonly TtlvItem[] | undefined, tag: number): T[] {
  return (items ?? []).filter((item) => item.tag === tag).map((item) => item.value as T);
}

/** A mutual-TLS KMIP connection that sends raw bytes and reads framed responses. */
export class KmipTestClient {
  private buffer = Buffer.alloc(0);
  private waiters: { resolve: (bytes: Buffer) => void; reject: (error: Error) => void }[] = [];
  private ended = false;
  private endError: Error | undefined;

  private constructor(readonly socket: TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    const finish = (error?: Error) => {
      this.ended = true;
      this.endError = error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error ?? new Error("connection closed"));
    };
    socket.on("end", () => finish());
    socket.on("close", () => finish());
    socket.on("error", (error: Error) => finish(error));
  }

  static connect(options: { host?: string; port: number; ca: string; cert: string; key: string; minVersion?: "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.2" | "TLSv1.3" }): Promise<KmipTestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: options.host ?? "127.0.0.1",
        port: options.port,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        servername: "localhost",
        ...(options.minVersion === undefined ? {} : { minVersion: options.minVersion }),
        ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
      });
      socket.once("secureConnect", () => resolve(new KmipTestClient(socket)));
      socket.once("error", reject);
    });
  }

  private deliver(): void {
    while (this.waiters.length > 0 && this.buffer.length >= HEADER_BYTES) {
      const { length } = readHeader(this.buffer);
      const total = HEADER_BYTES + length;
      if (this.buffer.length < total) return;
      const message = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      this.waiters.shift()!.resolve(message);
    }
  }

  /** The next response message's bytes. */
  next(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.ended && this.buffer.length === 0) return reject(this.endError ?? new Error("connection closed"));
      this.waiters.push({ resolve, reject });
      this.deliver();
    });
  }

  /** Sends bytes as they are. */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends a message and reads the response. */
  async send(bytes: Uint8Array): Promise<Response> {
    this.write(bytes);
    return parseResponse(await this.next());
  }

  /** Resolves when the server has closed the connection (rejects after `timeoutMs`). */
  closed(timeoutMs = 10_000): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Result Status values. */
export const STATUS = ENUM.ResultStatus;
export const REASON = ENUM.ResultReason;
export const OP = ENUM.Operation;

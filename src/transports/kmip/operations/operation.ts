import type { KmsOperation, KmsResult, ManagedObject } from "../../../core/kms/index.js";
import type { Version } from "../protocol-version.js";
import type { StructReader } from "../struct-reader.js";
import type { TtlvItem } from "../ttlv/item.js";

/** The dispatcher's result for an operation of the kind of `O` (some results serve several operations). */
export type ResultOf<O extends KmsOperation> = KmsResult extends infer R ? (R extends { operation: infer N } ? (O["operation"] extends N ? R : never) : never) : never;

/** What a decoded batch item can do while it runs; the batch runner implements it. */
export interface Runner {
  /** The request's protocol version. */
  readonly version: Version;
  /**
   * Runs one key-service operation through the dispatcher, after the access decision for it, with
   * the batch's ID Placeholder (KMIP 1.4 §6.1) standing in for an omitted Unique Identifier. The
   * result is the one of the same operation (checked once, here, for every handler).
   */
  execute<O extends KmsOperation>(operation: O): Promise<ResultOf<O>>;
  /** An object's metadata, to interpret a request (an Attribute Index, say); authorized as key.read. */
  object(uid: string | undefined): Promise<ManagedObject>;
  /** The access decision for the protocol's own operations (Query, Discover Versions). */
  authorizeProtocolOperation(): void;
  /** The server's clock. */
  now(): Date;
}

/** A decoded request payload, ready to run: returns the Response Payload's children. */
export type Plan = (runner: Runner) => Promise<TtlvItem[]>;

/** One KMIP operation the transport serves (one file per group under operations/). */
export interface OperationHandler {
  /** The Operation enumeration value. */
  readonly code: number;
  readonly name: string;
  /** The first protocol version that defines it (KMIP 1.4 §4, 2.0 §6). */
  readonly since: Version;
  /**
   * True when it changes nothing a later failure would have to take back, so a batch under
   * Batch Error Continuation Option Undo may contain it (reads, cryptographic operations).
   */
  readonly undoable: boolean;
  /** Reads the Request Payload (strictly: `payload.done()` at the end) into a plan. */
  decode(payload: StructReader, version: Version): Plan;
}

import { isDomainError, type DomainError } from "../shared/domain-error.js";
import type { RequestContext } from "../shared/request-context.js";
import type { KeyOperationsService } from "./key-operations-service.js";
import { kmsError } from "./kms-error.js";
import type { KmsOperation, KmsOperationName, KmsResult } from "./kms-operation.js";
import type { ObjectService } from "./object-service.js";

/** One batch item's outcome, in KMIP's terms (Result Status Success / Operation Failed). */
export type BatchOutcome =
  | { readonly status: "Success"; readonly result: KmsResult }
  | { readonly status: "Failed"; readonly operation: KmsOperationName; readonly error: DomainError }
  /** Not run because an earlier item failed and the batch stops on the first error. */
  | { readonly status: "Skipped"; readonly operation: KmsOperationName };

export interface BatchOptions {
  /** KMIP Batch Error Continuation Option: Continue (default) or Stop. */
  readonly onError?: "continue" | "stop";
  /** The transport's access decision per item; throwing refuses just that item. */
  readonly authorize: (operation: KmsOperationName) => void;
}

/**
 * Runs KMIP operations against the key service, one at a time or as a batch with KMIP semantics:
 * items in order, a result per item, the ID Placeholder carried from item to item, and an optional
 * stop at the first error. The one place an operation name becomes a service call, shared by REST
 * and the KMIP binary transport.
 */
export class KmsDispatcher {
  constructor(
    private readonly deps: {
      readonly objects: ObjectService;
      readonly operations: KeyOperationsService;
    },
  ) {}

  async execute(context: RequestContext, operation: KmsOperation, placeholder?: string): Promise<KmsResult> {
    const uid = (given: string | undefined): string => {
      const chosen = given ?? placeholder;
      if (chosen === undefined) throw kmsError("invalid_input", "Missing Data", "uid: no Unique Identifier and no ID Placeholder from an earlier batch item", "uid");
      return chosen;
    };
    const { objects, operations } = this.deps;
    switch (operation.operation) {
      case "Create":
        return { operation: "Create", object: await objects.create(context, operation.request) };
      case "CreateKeyPair":
        return { operation: "CreateKeyPair", ...(await objects.createKeyPair(context, operation.request)) };
      case "Register":
        return { operation: "Register", object: await objects.register(context, operation.request) };
      case "Get":
        return { operation: "Get", ...(await objects.get(context, uid(operation.uid), operation.format)) };
      case "GetAttributes": {
        const id = uid(operation.uid);
        return { operation: "GetAttributes", uid: id, attributes: await objects.getAttributes(id, operation.names) };
      }
      case "GetAttributeList": {
        const id = uid(operation.uid);
        return { operation: "GetAttributeList", uid: id, names: await objects.getAttributeList(id) };
      }
      case "ChangeAttribute":
        return { operation: "ChangeAttribute", object: await objects.changeAttribute(context, uid(operation.uid), operation.change) };
      case "Locate":
        return { operation: "Locate", page: await objects.locate(operation.query) };
      case "Activate":
        return { operation: "Activate", object: await objects.activate(context, uid(operation.uid)) };
      case "Revoke":
        return { operation: "Revoke", object: await objects.revoke(context, uid(operation.uid), operation.reason) };
      case "Destroy":
        return { operation: "Destroy", object: await objects.destroy(context, uid(operation.uid), { force: operation.force === true }) };
      case "ReKey":
        return { operation: "ReKey", object: await objects.rekey(context, uid(operation.uid), operation.offsetSeconds === undefined ? {} : { offsetSeconds: operation.offsetSeconds }) };
      case "ReKeyKeyPair":
        return { operation: "ReKeyKeyPair", ...(await objects.rekeyKeyPair(context, uid(operation.uid), operation.offsetSeconds === undefined ? {} : { offsetSeconds: operation.offsetSeconds })) };
      case "Encrypt": {
        const id = uid(operation.request.uid);
        return { operation: "Encrypt", uid: id, result: await operations.encrypt(context, { ...operation.request, uid: id }) };
      }
      case "Decrypt": {
        const id = uid(operation.request.uid);
        return { operation: "Decrypt", uid: id, plaintext: await operations.decrypt(context, { ...operation.request, uid: id }) };
      }
      case "Sign": {
        const id = uid(operation.uid);
        return { operation: "Sign", uid: id, ...(await operations.sign(context, { uid: id, data: operation.data, ...(operation.algorithm === undefined ? {} : { algorithm: operation.algorithm }) })) };
      }
      case "SignatureVerify": {
        const id = uid(operation.uid);
        return { operation: "SignatureVerify", uid: id, valid: await operations.verify(context, { uid: id, data: operation.data, signature: operation.signature, ...(operation.algorithm === undefined ? {} : { algorithm: operation.algorithm }) }) };
      }
      case "MAC": {
        const id = uid(operation.uid);
        return { operation: "MAC", uid: id, mac: await operations.mac(context, { uid: id, data: operation.data }) };
      }
      case "MACVerify": {
        const id = uid(operation.uid);
        return { operation: "MACVerify", uid: id, valid: await operations.macVerify(context, { uid: id, data: operation.data, mac: operation.mac }) };
      }
      case "RNGRetrieve":
        return { operation: "RNGRetrieve", data: operations.rng(operation.length) };
    }
  }

  /** A KMIP batch: items in order; each result or error; the ID Placeholder passed along. */
  async batch(context: RequestContext, items: readonly KmsOperation[], options: BatchOptions): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    let placeholder: string | undefined;
    let stopped = false;
    for (const item of items) {
      if (stopped) {
        outcomes.push({ status: "Skipped", operation: item.operation });
        continue;
      }
      try {
        options.authorize(item.operation);
        const result = await this.execute(context, item, placeholder);
        placeholder = placeholderOf(result) ?? placeholder;
        outcomes.push({ status: "Success", result });
      } catch (error) {
        if (!isDomainError(error) || error.code === "internal") throw error;
        outcomes.push({ status: "Failed", operation: item.operation, error });
        if (options.onError === "stop") stopped = true;
      }
    }
    return outcomes;
  }
}

/** The object a result names, for the next item's ID Placeholder (KMIP: Create, Register, Locate…). */
export function placeholderOf(result: KmsResult): string | undefined {
  switch (result.operation) {
    case "Create":
    case "Register":
    case "ReKey":
    case "Activate":
    case "Revoke":
    case "Destroy":
    case "ChangeAttribute":
    case "Get":
      return result.object.uid;
    case "CreateKeyPair":
    case "ReKeyKeyPair":
      return result.privateKey.uid;
    case "Locate":
      return result.page.items[0]?.uid;
    default:
      return undefined;
  }
}

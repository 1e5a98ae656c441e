import { isDomainError, type DomainError } from "../shared/domain-error.js";
import type { RequestContext } from "../shared/request-context.js";
import type { KeyOperationsService } from "./key-operations-service.js";
import { kmsError } from "./kms-error.js";
import type { ManagedObject } from "./managed-object.js";
import type { KmsOperation, KmsOperationName, KmsResult } from "./kms-operation.js";
import type { ObjectService } from "./object-service.js";

/** What the key service asks access for: a KMIP operation, or reading a managed object's metadata. */
export type KmsAccessOperation = KmsOperationName | "GetMetadata";

/**
 * The caller's access decision inside the key service (made by core/access for the transport,
 * which knows the caller). The key service calls it for every operation, once it knows the object
 * an operation addresses: a grant scoped to named keys is decided on the named key that object is
 * a version of, whichever way the request addressed it (REST path, batch item, KMIP, placeholder).
 */
export interface KmsAccess {
  /** The decision depends on the object's named key (a grant scoped to named keys): load it first. */
  readonly needsKeyName: boolean;
  /** Throws (permission_denied) to refuse; `key` is the named key of the addressed object, if any. */
  check(operation: KmsAccessOperation, target: { readonly key?: string }): Promise<void>;
}

/** One batch item's outcome, in KMIP's terms (Result Status Success / Operation Failed). */
export type BatchOutcome =
  | { readonly status: "Success"; readonly result: KmsResult }
  | { readonly status: "Failed"; readonly operation: KmsOperationName; readonly error: DomainError }
  /** Not run because an earlier item failed and the batch stops on the first error. */
  | { readonly status: "Skipped"; readonly operation: KmsOperationName };

export interface BatchOptions {
  /** KMIP Batch Error Continuation Option: Continue (default) or Stop. */
  readonly onError?: "continue" | "stop";
  /** The caller's access decision per item; a refusal fails just that item. */
  readonly access: KmsAccess;
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

  /** Runs one operation once `access` allows it on the object it addresses. */
  async execute(context: RequestContext, operation: KmsOperation, access: KmsAccess, placeholder?: string): Promise<KmsResult> {
    const addressed = addressedUid(operation, placeholder);
    await access.check(operation.operation, addressed !== undefined && access.needsKeyName ? { key: await this.namedKeyOf(addressed) } : {});
    return this.run(context, operation, placeholder);
  }

  /** A managed object's metadata (REST GET /v1/objects/{uid}, KMIP's attribute reads), once `access` allows it. */
  async find(uid: string, access: KmsAccess): Promise<ManagedObject> {
    const key = access.needsKeyName ? await this.namedKeyOf(uid) : undefined;
    await access.check("GetMetadata", key === undefined ? {} : { key });
    return this.deps.objects.find(uid);
  }

  /**
   * The named key whose version the object is; undefined for any other object, and for one that
   * does not exist (the operation itself then says Item Not Found, once access allowed it).
   */
  private async namedKeyOf(uid: string): Promise<string | undefined> {
    try {
      return (await this.deps.objects.find(uid)).version?.name;
    } catch (error) {
      if (isDomainError(error) && error.code === "not_found") return undefined;
      throw error;
    }
  }

  private async run(context: RequestContext, operation: KmsOperation, placeholder: string | undefined): Promise<KmsResult> {
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
        const result = await this.execute(context, item, options.access, placeholder);
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

/** The object an operation addresses: its Unique Identifier, else the ID Placeholder; none for those that address no object. */
function addressedUid(operation: KmsOperation, placeholder: string | undefined): string | undefined {
  switch (operation.operation) {
    case "Create":
    case "CreateKeyPair":
    case "Register":
    case "Locate":
    case "RNGRetrieve":
      return undefined;
    case "Encrypt":
    case "Decrypt":
      return operation.request.uid ?? placeholder;
    default:
      return operation.uid ?? placeholder;
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

import type { handleUnaryCall, sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { KekService } from "../../core/kms/index.js";
import type { Logger } from "../../core/shared/logger.js";
import { grpcFailureOf } from "./grpc-status.js";

// The messages of `v2.KeyManagementService` (proto/kms/v2/api.proto) as @grpc/proto-loader decodes
// them with keepCase and defaults: bytes as Buffer, map<string, bytes> as an object, absent = empty.

/** The plugin API version Status reports (kube-apiserver accepts v2 and v2beta1). */
export const KMS_API_VERSION = "v2";

export interface StatusResponse {
  version: string;
  healthz: string;
  key_id: string;
}
export interface EncryptRequest {
  plaintext: Buffer;
  uid: string;
}
export interface EncryptResponse {
  ciphertext: Buffer;
  key_id: string;
  annotations: Record<string, Buffer>;
}
export interface DecryptRequest {
  ciphertext: Buffer;
  uid: string;
  key_id: string;
  annotations: Record<string, Buffer>;
}
export interface DecryptResponse {
  plaintext: Buffer;
}

/**
 * Status / Encrypt / Decrypt → KekService: decode, call, encode; failures become gRPC statuses in
 * grpc-status.ts. Logs carry the request uid and key_id (public), never plaintext or ciphertext.
 */
export function kmsV2Handlers(kek: KekService, logger: Logger): UntypedServiceImplementation {
  const Status: handleUnaryCall<Record<string, never>, StatusResponse> = (_call, callback) => {
    void kek.status().then((status) => {
      if (!status.healthy) logger.warn({ keyId: status.keyId, reason: status.reason }, "KMS plugin Status: not healthy");
      callback(null, { version: KMS_API_VERSION, healthz: status.healthy ? "ok" : status.reason, key_id: status.keyId ?? "" });
    });
  };

  const Encrypt: handleUnaryCall<EncryptRequest, EncryptResponse> = (call, callback) => {
    const started = performance.now();
    kek.encrypt(call.request.plaintext, call.request.uid).then(
      (result) => {
        logger.debug({ method: "Encrypt", uid: call.request.uid, keyId: result.keyId, ms: elapsed(started) }, "KMS plugin call");
        callback(null, { ciphertext: Buffer.from(result.ciphertext), key_id: result.keyId, annotations: Object.fromEntries([...result.annotations].map(([key, value]) => [key, Buffer.from(value)])) });
      },
      (error: unknown) => fail("Encrypt", call, callback, error, started),
    );
  };

  const Decrypt: handleUnaryCall<DecryptRequest, DecryptResponse> = (call, callback) => {
    const started = performance.now();
    const { ciphertext, key_id: keyId, uid } = call.request;
    const annotations = new Map(Object.entries(call.request.annotations));
    kek.decrypt({ ciphertext, keyId, annotations, requestId: uid }).then(
      (plaintext) => {
        logger.debug({ method: "Decrypt", uid, keyId: printableKeyId(keyId), ms: elapsed(started) }, "KMS plugin call");
        callback(null, { plaintext: Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength) });
      },
      (error: unknown) => fail("Decrypt", call, callback, error, started, keyId),
    );
  };

  function fail<Request extends { uid: string }, Response>(method: string, call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>, error: unknown, started: number, keyId?: string): void {
    const failure = grpcFailureOf(error);
    const fields = { method, uid: call.request.uid, ...(keyId === undefined ? {} : { keyId: printableKeyId(keyId) }), code: failure.code, ms: elapsed(started) };
    if (failure.expected) logger.warn({ ...fields, detail: failure.details }, "KMS plugin call refused");
    else logger.error({ ...fields, err: error }, "KMS plugin call failed");
    callback({ code: failure.code, details: failure.details });
  }

  return { Status, Encrypt, Decrypt };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/** A caller's key_id for a log line: at most 128 characters (a request may send 1 KiB or more). */
function printableKeyId(keyId: string): string {
  return keyId.length > 128 ? `${keyId.slice(0, 128)}…` : keyId;
}

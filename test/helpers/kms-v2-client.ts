// A gRPC client of `v2.KeyManagementService` built from the upstream proto (proto/kms/v2/api.proto),
// over a unix socket, as kube-apiserver calls a KMS v2 plugin: serializers come from the proto, field
// names as in the proto (keepCase), every call with a deadline.
import path from "node:path";
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { loadSync, type MethodDefinition } from "@grpc/proto-loader";
import { PROJECT_ROOT } from "./process.js";

export interface StatusResponse {
  version: string;
  healthz: string;
  key_id: string;
}
export interface EncryptResponse {
  ciphertext: Buffer;
  key_id: string;
  annotations: Record<string, Buffer>;
}
export interface DecryptRequest {
  ciphertext: Uint8Array;
  key_id: string;
  annotations: Record<string, Uint8Array>;
  uid?: string;
}
export interface DecryptResponse {
  plaintext: Buffer;
}

/** A connected client; `close()` ends the channel. */
export interface KmsV2Client {
  status(): Promise<StatusResponse>;
  encrypt(plaintext: Uint8Array, uid?: string): Promise<EncryptResponse>;
  decrypt(request: DecryptRequest): Promise<DecryptResponse>;
  close(): void;
}

const PROTO = path.join(PROJECT_ROOT, "proto", "kms", "v2", "api.proto");

type Methods = Record<"Status" | "Encrypt" | "Decrypt", MethodDefinition<object, object>>;

let methods: Methods | undefined;
function kmsMethods(): Methods {
  if (methods !== undefined) return methods;
  const definitions = loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const service = definitions["v2.KeyManagementService"] as unknown as Partial<Methods> | undefined;
  if (service?.Status === undefined || service.Encrypt === undefined || service.Decrypt === undefined) throw new Error(`${PROTO} has no v2.KeyManagementService`);
  methods = { Status: service.Status, Encrypt: service.Encrypt, Decrypt: service.Decrypt };
  return methods;
}

/** A client for the plugin listening on `socketPath`; each call must answer within `deadlineMs`. */
export function kmsV2Client(socketPath: string, options: { deadlineMs?: number } = {}): KmsV2Client {
  const client = new Client(`unix://${socketPath}`, credentials.createInsecure());
  const deadlineMs = options.deadlineMs ?? 10_000;
  const call = <Response>(name: keyof Methods, request: object): Promise<Response> => {
    const method = kmsMethods()[name];
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        { deadline: Date.now() + deadlineMs },
        (error: ServiceError | null, response?: object) => (error === null && response !== undefined ? resolve(response as Response) : reject(error ?? new Error("no response"))),
      );
    });
  };
  return {
    status: () => call<StatusResponse>("Status", {}),
    encrypt: (plaintext, uid = "") => call<EncryptResponse>("Encrypt", { plaintext: Buffer.from(plaintext), uid }),
    decrypt: (request) =>
      call<DecryptResponse>("Decrypt", {
        ciphertext: Buffer.from(request.ciphertext),
        key_id: request.key_id,
        annotations: Object.fromEntries(Object.entries(request.annotations).map(([key, value]) => [key, Buffer.from(value)])),
        uid: request.uid ?? "",
      }),
    close: () => client.close(),
  };
}

/** The gRPC error a call failed with (fails the test when it succeeded). */
export async function grpcErrorOf(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error && "code" in error) return error as ServiceError;
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/**
 * The KMS v2 bench's gRPC client, in a process of its own, as kube-apiserver is: the client's event
 * loop and garbage collector must not stall the plugin's (sharing one loop, the client's pauses
 * showed up in the plugin's p99). Started by bench/kms-plugin.ts with an IPC channel: takes one job,
 * warms up (keeping wraps to decrypt), runs the closed loops and sends the results back.
 */
import { randomBytes } from "node:crypto";
import { kmsV2Client, type EncryptResponse } from "../test/helpers/kms-v2-client.js";
import { repeatedLoop, type RepeatedResult } from "./https-client.js";

export interface KmsClientJob {
  readonly socketPath: string;
  readonly warmUpCalls: number;
  readonly decryptPool: number;
  readonly durationMs: number;
  readonly concurrencies: readonly number[];
  readonly runs: number;
}

export interface KmsClientResult {
  readonly operation: "Encrypt" | "Decrypt";
  readonly concurrency: number;
  readonly result: Omit<RepeatedResult, "runs">;
}

async function run(job: KmsClientJob): Promise<KmsClientResult[]> {
  const client = kmsV2Client(job.socketPath);
  try {
    const status = await client.status();
    if (status.healthz !== "ok") throw new Error(`plugin not healthy: ${status.healthz}`);
    const wraps: EncryptResponse[] = [];
    for (let i = 0; i < job.warmUpCalls; i++) {
      const wrap = await client.encrypt(randomBytes(32));
      if (wraps.length < job.decryptPool) wraps.push(wrap);
      await client.decrypt({ ciphertext: wrap.ciphertext, key_id: wrap.key_id, annotations: wrap.annotations });
    }
    const seeds = Array.from({ length: 1024 }, () => randomBytes(32));
    const send = {
      Encrypt: (i: number) => client.encrypt(seeds[i % seeds.length] ?? seeds[0] ?? Buffer.alloc(32)).then(() => true, () => false),
      Decrypt: (i: number) => {
        const wrap = wraps[i % wraps.length];
        if (wrap === undefined) return Promise.resolve(false);
        return client.decrypt({ ciphertext: wrap.ciphertext, key_id: wrap.key_id, annotations: wrap.annotations }).then(() => true, () => false);
      },
    };
    const results: KmsClientResult[] = [];
    for (const operation of ["Encrypt", "Decrypt"] as const) {
      for (const concurrency of job.concurrencies) {
        const { runs: _runs, ...result } = await repeatedLoop(concurrency, job.durationMs, send[operation], job.runs);
        results.push({ operation, concurrency, result });
      }
    }
    return results;
  } finally {
    client.close();
  }
}

process.once("message", (job: KmsClientJob) => {
  const reply = (message: { results?: KmsClientResult[]; error?: string }) => process.send?.(message, () => process.exit(0));
  run(job).then(
    (results) => reply({ results }),
    (error: unknown) => reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

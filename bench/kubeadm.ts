/**
 * Time to sign a full control-plane set (the 12 certificates `kubeadm certs generate-csr` makes
 * for a control-plane node) over HTTPS, for an RSA-2048 and an ECDSA-P256 cluster: one
 * `POST /v1/clusters/{c}/kubeadm/sign`, all in one transaction, answered with the CA certificates
 * and the service-account key pair.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeGenerateCsrOutput } from "../test/fixtures/kubeadm/generate-csr.js";
import { createClient, median } from "./https-client.js";
import { BENCH_TOKEN, startBenchServer } from "./server-process.js";

export interface KubeadmFigure {
  readonly keyAlgorithm: string;
  readonly certificates: number;
  readonly ms: { median: number; min: number; max: number };
  readonly runs: number;
}

export async function runKubeadmBench(runs = 10): Promise<KubeadmFigure[]> {
  const server = await startBenchServer();
  const client = createClient(server.url, server.caBundle, BENCH_TOKEN, 1);
  const dir = mkdtempSync(path.join(os.tmpdir(), "kpki-bench-kubeadm-"));
  const figures: KubeadmFigure[] = [];
  try {
    for (const keyAlgorithm of ["RSA-2048", "ECDSA-P256"] as const) {
      const name = keyAlgorithm === "RSA-2048" ? "bench-rsa" : "bench-ec";
      const created = await client.call("POST", "/v1/clusters", {
        name,
        controlPlaneEndpoint: "cp.bench.internal:6443",
        keyAlgorithm,
        nodes: [{ name: "cp-1", role: "control-plane", addresses: ["10.0.0.11"] }],
      });
      if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
      const generated = await writeGenerateCsrOutput({
        certDir: path.join(dir, name, "pki"),
        kubeconfigDir: path.join(dir, name, "etc"),
        node: { name: "cp-1", advertiseAddress: "10.0.0.11" },
        cluster: { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "cp.bench.internal:6443" },
        keyAlgorithm,
      });
      const body = { node: "cp-1", csrs: Object.fromEntries(generated.map((csr) => [csr.name, csr.csrPem])) };
      const times: number[] = [];
      for (let run = 0; run <= runs; run++) {
        const t0 = performance.now();
        const response = await client.call("POST", `/v1/clusters/${name}/kubeadm/sign`, body);
        if (response.status !== 200) throw new Error(`signing for ${name}: ${JSON.stringify(response.body)}`);
        if (run > 0) times.push(performance.now() - t0); // run 0 warms caches
      }
      figures.push({ keyAlgorithm, certificates: generated.length, ms: median(times), runs });
    }
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

export function formatKubeadmBench(figures: readonly KubeadmFigure[]): string {
  return [
    "kubeadm control-plane set (one request, one transaction)",
    ...figures.map((f) => `  ${f.keyAlgorithm.padEnd(11)} ${f.certificates} certificates: ${f.ms.median.toFixed(1)} ms median (${f.ms.min.toFixed(1)}–${f.ms.max.toFixed(1)}, ${f.runs} runs)`),
  ].join("\n");
}

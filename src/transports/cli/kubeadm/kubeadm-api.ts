import { z } from "zod";
import type { ApiClient } from "../api-client.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { KubeadmCaName } from "./kubeadm-files.js";
import { signRequestBody, type SigningItem } from "./sign-response.js";

// The three server calls the kubeadm commands make.

/** What the CLI needs of an API client (ApiClient satisfies it). */
export type KubeadmApi = Pick<ApiClient, "json" | "text">;

/** The cluster fields the dry run reads from `GET /v1/clusters/{cluster}`. */
export interface ClusterSummary {
  readonly name: string;
  /** kpki CA name for each kubeadm CA. */
  readonly authorities: Readonly<Record<KubeadmCaName, string>>;
  readonly nodes: readonly { readonly name: string; readonly role: string }[];
}

const clusterSchema = z.object({
  name: z.string(),
  authorities: z.object({ ca: z.string(), "etcd-ca": z.string(), "front-proxy-ca": z.string() }),
  nodes: z.array(z.object({ name: z.string(), role: z.string() })),
});

function clusterPath(cluster: string): string {
  return `/v1/clusters/${encodeURIComponent(cluster)}`;
}

/** `POST /v1/clusters/{cluster}/kubeadm/sign`: all certificates in one transaction. Returns the unchecked body. */
export async function requestSignatures(api: KubeadmApi, cluster: string, node: string, items: readonly SigningItem[]): Promise<unknown> {
  const { body } = await api.json<unknown>("POST", `${clusterPath(cluster)}/kubeadm/sign`, signRequestBody(node, items));
  return body;
}

/** `GET /v1/clusters/{cluster}`. */
export async function fetchCluster(api: KubeadmApi, cluster: string): Promise<ClusterSummary> {
  const { body } = await api.json<unknown>("GET", clusterPath(cluster));
  const parsed = clusterSchema.safeParse(body);
  if (!parsed.success) throw new CliError(`the server's description of cluster ${cluster} is not understood: ${parsed.error.issues[0]?.message ?? "unexpected shape"}`, EXIT.failure);
  return parsed.data;
}

/** `GET /v1/authorities/{name}/certificate` as PEM (public). */
export async function fetchAuthorityCertificate(api: KubeadmApi, authority: string): Promise<string> {
  return api.text(`/v1/authorities/${encodeURIComponent(authority)}/certificate`, "application/x-pem-file");
}

/** `GET /v1/clusters/{cluster}/service-account-key?all=true`: sa.pub, every key the cluster's API servers accept now (public). */
export async function fetchServiceAccountPublicKeys(api: KubeadmApi, cluster: string): Promise<string> {
  return api.text(`${clusterPath(cluster)}/service-account-key?all=true`, "application/x-pem-file");
}

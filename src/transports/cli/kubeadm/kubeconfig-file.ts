import { isMap, isScalar, parseDocument, type Document } from "yaml";
import { z } from "zod";
import { fileProblem } from "./file-problems.js";

// kubeadm's kubeconfig files (reference/kubernetes.md §1.5, §2.2): one cluster, one user, one
// context. generate-csr leaves `certificate-authority-data` and `client-certificate-data` empty
// (client-go omits them, other writers put ""); signing fills both in.

/** The credentials of a kubeconfig's current context. */
export interface Kubeconfig {
  /** The file's text, kept so completion changes nothing but the credentials. */
  readonly text: string;
  readonly contextName: string;
  readonly clusterName: string;
  readonly userName: string;
  readonly server?: string;
  readonly clientKeyPem?: string;
  readonly clientCertificatePem?: string;
  readonly certificateAuthorityPem?: string;
}

const optionalText = z.string().nullable().optional();
const kubeconfigSchema = z.object({
  "current-context": z.string().min(1, "is empty"),
  clusters: z.array(z.object({ name: z.string(), cluster: z.object({ server: optionalText, "certificate-authority-data": optionalText }) })),
  contexts: z.array(z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string() }) })),
  users: z.array(z.object({ name: z.string(), user: z.object({ "client-key-data": optionalText, "client-certificate-data": optionalText }).nullable() })),
});
type KubeconfigShape = z.infer<typeof kubeconfigSchema>;

/** Reads a kubeconfig and the credentials its current context uses; `file` names it in errors. */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  const { shape, clusterIndex, userIndex } = locate(text, file);
  const context = shape.contexts.find((c) => c.name === shape["current-context"]);
  const cluster = shape.clusters[clusterIndex];
  const user = shape.users[userIndex];
  if (context === undefined || cluster === undefined || user === undefined) throw fileProblem(file, "not a kubeconfig");
  const decoded = (value: string | null | undefined, field: string): string | undefined => (value === undefined || value === null || value === "" ? undefined : decodeBase64(value, file, field));
  return {
    text,
    contextName: context.name,
    clusterName: cluster.name,
    userName: user.name,
    ...(typeof cluster.cluster.server === "string" ? { server: cluster.cluster.server } : {}),
    ...optionalField("clientKeyPem", decoded(user.user?.["client-key-data"], "client-key-data")),
    ...optionalField("clientCertificatePem", decoded(user.user?.["client-certificate-data"], "client-certificate-data")),
    ...optionalField("certificateAuthorityPem", decoded(cluster.cluster["certificate-authority-data"], "certificate-authority-data")),
  };
}

/**
 * The kubeconfig with the current context's CA and client certificate embedded (and a new client
 * key, when given); every other line is kept. File references (`certificate-authority`,
 * `client-certificate`, `client-key`) that would contradict the embedded data are removed: kubectl
 * refuses a kubeconfig naming both.
 */
export function completeKubeconfig(config: Kubeconfig, file: string, values: { certificateAuthorityPem: string; clientCertificatePem: string; clientKeyPem?: string }): string {
  const { document, clusterIndex, userIndex } = locate(config.text, file);
  const cluster = ["clusters", clusterIndex, "cluster"];
  const user = ["users", userIndex, "user"];
  document.setIn([...cluster, "certificate-authority-data"], base64(values.certificateAuthorityPem));
  document.deleteIn([...cluster, "certificate-authority"]);
  document.setIn([...user, "client-certificate-data"], base64(values.clientCertificatePem));
  document.deleteIn([...user, "client-certificate"]);
  if (values.clientKeyPem !== undefined) {
    document.setIn([...user, "client-key-data"], base64(values.clientKeyPem));
    document.deleteIn([...user, "client-key"]);
  }
  // client-go writes keys sorted (JSON → YAML); keep that order in the two maps touched here.
  for (const at of [cluster, user]) {
    const map = document.getIn(at, true);
    if (isMap(map)) map.items.sort((a, b) => compareBytes(keyText(a.key), keyText(b.key)));
  }
  // Block sequences at the parent's indentation and no folding: the layout client-go writes.
  return document.toString({ lineWidth: 0, indentSeq: false });
}

function locate(text: string, file: string): { document: Document; shape: KubeconfigShape; clusterIndex: number; userIndex: number } {
  const document = parseDocument(text);
  const [error] = document.errors;
  if (error !== undefined) {
    const reason = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw fileProblem(file, `not a kubeconfig: YAML error at line ${error.linePos?.[0]?.line ?? "?"}: ${reason}`);
  }
  const parsed = kubeconfigSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw fileProblem(file, `not a kubeconfig: ${issue === undefined ? "unexpected shape" : `${issue.path.join(".") || "document"}: ${issue.message}`}`);
  }
  const shape = parsed.data;
  const current = shape["current-context"];
  const context = shape.contexts.find((c) => c.name === current);
  if (context === undefined) throw fileProblem(file, `current-context "${current}" is not among the contexts`);
  const clusterIndex = shape.clusters.findIndex((c) => c.name === context.context.cluster);
  if (clusterIndex < 0) throw fileProblem(file, `context "${current}" names cluster "${context.context.cluster}", which is not defined`);
  const userIndex = shape.users.findIndex((u) => u.name === context.context.user);
  if (userIndex < 0) throw fileProblem(file, `context "${current}" names user "${context.context.user}", which is not defined`);
  return { document, shape, clusterIndex, userIndex };
}

function keyText(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function optionalField<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function decodeBase64(value: string, file: string, field: string): string {
  const compact = value.replace(/\s+/g, "");
  const bytes = Buffer.from(compact, "base64");
  if (compact.length % 4 !== 0 || bytes.toString("base64") !== compact) throw fileProblem(file, `${field} is not valid base64`);
  return bytes.toString("utf8");
}

import type { Command } from "commander";
import { parseDuration, table, type CliOutput } from "../cli-io.js";
import { clientFor, withRemoteOptions, type RemoteFlags } from "../remote-command.js";
import { registerServiceAccountKeyCommands } from "./service-account-key-commands.js";

/** The cluster fields the CLI prints. */
interface Cluster {
  name: string;
  keyAlgorithm: string;
  controlPlaneEndpoint: string;
  dnsDomain: string;
  authorities: Record<string, string>;
  nodes: { name: string; role: string; addresses: string[] }[];
}

interface CreateFlags extends RemoteFlags {
  controlPlaneEndpoint: string;
  dnsDomain?: string;
  serviceSubnet?: string[];
  apiserverSan?: string[];
  etcdServerSan?: string[];
  etcdPeerSan?: string[];
  keyAlgorithm?: string;
  validity?: string;
  caValidity?: string;
  parent?: string;
  saKeyOverlap?: string;
  saKeyRotationPeriod?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const path = (cluster: string, rest = "") => `/v1/clusters/${encodeURIComponent(cluster)}${rest}`;

/** `kpki cluster …`: the Kubernetes cluster inventory over the REST API. */
export function registerClusterCommands(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  const cluster = program.command("cluster").description("Kubernetes clusters and their nodes (remote: talks to a kpki server)");

  withRemoteOptions(
    cluster
      .command("create")
      .description("register a cluster: creates its CAs (ca, etcd-ca, front-proxy-ca) and service-account key")
      .argument("<name>")
      .requiredOption("--control-plane-endpoint <host[:port]>", "kubeadm controlPlaneEndpoint")
      .option("--dns-domain <domain>", "networking.dnsDomain (default cluster.local)")
      .option("--service-subnet <cidr>", "networking.serviceSubnet (default 10.96.0.0/12; repeat for dual-stack)", collect)
      .option("--apiserver-san <name>", "extra API server certificate SAN (repeatable)", collect)
      .option("--etcd-server-san <name>", "extra etcd server SAN (repeatable)", collect)
      .option("--etcd-peer-san <name>", "extra etcd peer SAN (repeatable)", collect)
      .option("--key-algorithm <alg>", "RSA-2048 (default), RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384")
      .option("--validity <duration>", "leaf certificate validity (default 365d)")
      .option("--ca-validity <duration>", "validity of the cluster CAs (default 3650d)")
      .option("--parent <ca>", "the CA that signs the cluster CAs (default kpki-root)")
      .option("--sa-key-overlap <duration>", "how long a replaced service-account key keeps verifying after the switch (default 7d, at least 1d)")
      .option("--sa-key-rotation-period <duration>", "start a service-account key rotation (publish) this often (default: only on request)"),
  ).action(async (name: string, flags: CreateFlags) => {
    const { body } = await clientFor(flags, env).json<Cluster>("POST", "/v1/clusters", {
      name,
      controlPlaneEndpoint: flags.controlPlaneEndpoint,
      ...(flags.dnsDomain === undefined ? {} : { dnsDomain: flags.dnsDomain }),
      ...(flags.serviceSubnet === undefined ? {} : { serviceSubnets: flags.serviceSubnet }),
      ...(flags.apiserverSan === undefined ? {} : { apiServerCertSans: flags.apiserverSan }),
      ...(flags.etcdServerSan === undefined ? {} : { etcdServerCertSans: flags.etcdServerSan }),
      ...(flags.etcdPeerSan === undefined ? {} : { etcdPeerCertSans: flags.etcdPeerSan }),
      ...(flags.keyAlgorithm === undefined ? {} : { keyAlgorithm: flags.keyAlgorithm }),
      ...(flags.validity === undefined ? {} : { certificateValiditySeconds: parseDuration(flags.validity, "--validity") }),
      ...(flags.caValidity === undefined ? {} : { caValiditySeconds: parseDuration(flags.caValidity, "--ca-validity") }),
      ...(flags.parent === undefined ? {} : { parent: flags.parent }),
      ...(flags.saKeyOverlap === undefined ? {} : { serviceAccountKeyOverlapSeconds: parseDuration(flags.saKeyOverlap, "--sa-key-overlap") }),
      ...(flags.saKeyRotationPeriod === undefined ? {} : { serviceAccountKeyRotationPeriodSeconds: parseDuration(flags.saKeyRotationPeriod, "--sa-key-rotation-period") }),
    });
    io.out(`created cluster ${body.name} (${body.keyAlgorithm}); CAs: ${Object.values(body.authorities).join(", ")}\n`);
  });

  withRemoteOptions(cluster.command("list").description("list clusters")).action(async (flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<{ items: Cluster[] }>("GET", "/v1/clusters");
    io.out(table([["NAME", "ENDPOINT", "KEY", "NODES"], ...body.items.map((c) => [c.name, c.controlPlaneEndpoint, c.keyAlgorithm, String(c.nodes.length)])]));
  });

  withRemoteOptions(cluster.command("get").description("show a cluster as JSON").argument("<name>")).action(async (name: string, flags: RemoteFlags) => {
    const { body } = await clientFor(flags, env).json<Cluster>("GET", path(name));
    io.out(JSON.stringify(body, null, 2) + "\n");
  });

  registerServiceAccountKeyCommands(cluster, io, env);

  const node = cluster.command("node").description("the nodes of a cluster");
  withRemoteOptions(
    node
      .command("add")
      .description("register (or replace) a node: its role and the addresses its certificates may carry")
      .argument("<cluster>")
      .argument("<node>")
      .requiredOption("--role <role>", "control-plane or worker")
      .option("--address <ip-or-name>", "an address of the node (repeatable; the first IP is the advertise address)", collect),
  ).action(async (clusterName: string, nodeName: string, flags: RemoteFlags & { role: string; address?: string[] }) => {
    await clientFor(flags, env).json("PUT", path(clusterName, `/nodes/${encodeURIComponent(nodeName)}`), { role: flags.role, addresses: flags.address ?? [] });
    io.out(`node ${nodeName} (${flags.role}) registered in cluster ${clusterName}\n`);
  });
  withRemoteOptions(node.command("remove").description("remove a node (it can obtain no more certificates)").argument("<cluster>").argument("<node>")).action(
    async (clusterName: string, nodeName: string, flags: RemoteFlags) => {
      await clientFor(flags, env).json("DELETE", path(clusterName, `/nodes/${encodeURIComponent(nodeName)}`));
      io.out(`node ${nodeName} removed from cluster ${clusterName}\n`);
    },
  );
}

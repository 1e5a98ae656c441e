import { Gauge, type Registry } from "prom-client";
import type { ExpirySnapshot } from "../../core/pki/index.js";
import type { Logger } from "../../core/shared/logger.js";

/** The horizons of `kpki_certificates_expiring`: label value and seconds. */
export const EXPIRY_HORIZONS = [
  { label: "7d", seconds: 7 * 86_400 },
  { label: "30d", seconds: 30 * 86_400 },
] as const;

/** How long one snapshot answers scrapes: several Prometheus replicas scraping cost one query set. */
const SNAPSHOT_TTL_MILLIS = 15_000;

/** What the expiry gauges read at scrape time. */
export interface ExpirySource {
  /** The inventory's expiry (CertificateInventory.expiry). */
  snapshot(horizonsSeconds: readonly number[]): Promise<ExpirySnapshot>;
  /** Cluster names by cluster id. */
  clusterNames(): Promise<ReadonlyMap<string, string>>;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Certificate expiry gauges, computed when Prometheus scrapes (indexed queries, cached for
 * SNAPSHOT_TTL_MILLIS). A failing query leaves the gauges empty for that scrape and is logged:
 * the rest of /metrics still answers, and an absent series is what alerts should treat as unknown.
 */
export function registerExpiryMetrics(registry: Registry, source: ExpirySource, logger: Logger): void {
  let cached: { at: number; value: Promise<{ snapshot: ExpirySnapshot; clusters: ReadonlyMap<string, string> }> } | undefined;
  const load = async () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > SNAPSHOT_TTL_MILLIS) {
      const value = Promise.all([source.snapshot(EXPIRY_HORIZONS.map((horizon) => horizon.seconds)), source.clusterNames()]).then(([snapshot, clusters]) => ({ snapshot, clusters }));
      cached = { at: now, value };
      // A failure is not cached: the next scrape tries again.
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
  // prom-client collects every metric of a scrape concurrently; the four gauges share one fill per scrape.
  let filling: Promise<void> | undefined;
  const collect = () =>
    (filling ??= fill().finally(() => {
      setImmediate(() => (filling = undefined));
    }));
  const caNotAfter = new Gauge({ collect, name: "kpki_ca_certificate_not_after_seconds", help: "notAfter of each CA's own certificate (seconds since the epoch)", labelNames: ["ca"], registers: [registry] });
  const earliestByCa = new Gauge({ collect, name: "kpki_certificate_earliest_not_after_seconds", help: "Earliest notAfter among each CA's active (not revoked, not expired) issued certificates (seconds since the epoch)", labelNames: ["ca"], registers: [registry] });
  const earliestByCluster = new Gauge({ collect,
    name: "kpki_cluster_certificate_earliest_not_after_seconds",
    help: "Earliest notAfter in each Kubernetes cluster: its CAs' own certificates and their active issued certificates (seconds since the epoch)",
    labelNames: ["cluster"],
    registers: [registry],
  });
  const expiring = new Gauge({ collect, name: "kpki_certificates_expiring", help: "Active certificates that expire within the horizon (7d, 30d)", labelNames: ["within"], registers: [registry] });
  async function fill(): Promise<void> {
    caNotAfter.reset();
    earliestByCa.reset();
    earliestByCluster.reset();
    expiring.reset();
    let loaded;
    try {
      loaded = await load();
    } catch (error) {
      logger.warn({ err: error }, "metrics: certificate expiry could not be read; the expiry gauges are empty for this scrape");
      return;
    }
    const clusterEarliest = new Map<string, Date>();
    for (const ca of loaded.snapshot.authorities) {
      if (ca.notAfter !== undefined) caNotAfter.set({ ca: ca.name }, seconds(ca.notAfter));
      if (ca.earliestIssuedNotAfter !== undefined) earliestByCa.set({ ca: ca.name }, seconds(ca.earliestIssuedNotAfter));
      const cluster = ca.clusterId === undefined ? undefined : loaded.clusters.get(ca.clusterId);
      if (cluster === undefined) continue;
      for (const date of [ca.notAfter, ca.earliestIssuedNotAfter]) {
        const earliest = clusterEarliest.get(cluster);
        if (date !== undefined && (earliest === undefined || date < earliest)) clusterEarliest.set(cluster, date);
      }
    }
    for (const [cluster, date] of clusterEarliest) earliestByCluster.set({ cluster }, seconds(date));
    for (const horizon of EXPIRY_HORIZONS) {
      expiring.set({ within: horizon.label }, loaded.snapshot.expiringWithin.find((entry) => entry.seconds === horizon.seconds)?.count ?? 0);
    }
  }
}

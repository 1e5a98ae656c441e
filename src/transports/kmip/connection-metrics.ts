import { Counter, Gauge, type Registry } from "prom-client";

/** What the KMIP listener reports about its connections. */
export interface KmipConnectionMetrics {
  opened(): void;
  closed(): void;
}

/** KMIP connections as Prometheus metrics: open now (gauge) and accepted since start (counter). */
export function kmipConnectionMetrics(registry: Registry): KmipConnectionMetrics {
  const open = new Gauge({ name: "kpki_kmip_connections", help: "KMIP (TTLV over mutual TLS) connections open now", registers: [registry] });
  const accepted = new Counter({ name: "kpki_kmip_connections_total", help: "KMIP connections accepted (TLS handshake completed) since the start", registers: [registry] });
  return {
    opened: () => {
      open.inc();
      accepted.inc();
    },
    closed: () => open.dec(),
  };
}

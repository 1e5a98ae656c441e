import { stringify } from "yaml";
import type { CertificateExpirationInfo, ExpirationEntry } from "./expiration-info.js";

// check-expiration output, byte for byte as kubeadm prints it (cmd/kubeadm/app/cmd/certs.go
// certTextPrinter: text/tabwriter with minwidth 10, padding 3, spaces), plus kubeadm's structured
// `-o json|yaml` form (output.kubeadm.k8s.io/v1alpha3 CertificateExpirationInfo).

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Go's `Format("Jan 02, 2006 15:04 MST")` of a UTC time. */
export function formatExpiryDate(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${MONTHS[date.getUTCMonth()] ?? "?"} ${two(date.getUTCDate())}, ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())} UTC`;
}

/** k8s.io/apimachinery duration.ShortHumanDuration of whole seconds: "45s", "12m", "5h", "364d", "9y", "<invalid>". */
export function shortHumanDuration(seconds: number): string {
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(seconds / 3600 / 24 / 365)}y`;
}

const yesNo = (value: boolean): string => (value ? "yes" : "no").padEnd(8); // Go's %-8v

/** kubeadm's two tables. */
export function formatExpirationText(info: CertificateExpirationInfo): string {
  const certificates = [
    ["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED"],
    ...info.certificates.map((c) => (c.missing ? [`!MISSING! ${c.name}`, "", "", "", ""] : [c.name, date(c), shortHumanDuration(c.residualTimeSeconds), c.caName ?? "", yesNo(c.externallyManaged)])),
  ];
  const authorities = [
    ["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED"],
    ...info.certificateAuthorities.map((c) => (c.missing ? [`!MISSING! ${c.name}`, "", "", ""] : [c.name, date(c), shortHumanDuration(c.residualTimeSeconds), yesNo(c.externallyManaged)])),
  ];
  return `${tabwrite(certificates)}\n${tabwrite(authorities)}`;
}

function date(entry: ExpirationEntry): string {
  return entry.expirationDate === undefined ? "" : formatExpiryDate(entry.expirationDate);
}

/**
 * One block of Go's text/tabwriter (minwidth 10, padding 3, padchar ' '), for rows with the same
 * number of cells: every cell but the last is padded to its column's widest cell + 3, at least 10;
 * the last cell is written as is. Widths count characters (Go counts runes).
 */
function tabwrite(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 10, [...cell].length + 3)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 10) - [...cell].length))).join("") + "\n").join("");
}

/** The structured form, as kubeadm's JSON printer writes it (4-space indent). */
export function formatExpirationJson(info: CertificateExpirationInfo): string {
  return JSON.stringify(structured(info), null, 4) + "\n";
}

/** The structured form as YAML with sorted keys (kubeadm's YAML printer goes JSON → YAML, which sorts). */
export function formatExpirationYaml(info: CertificateExpirationInfo): string {
  return stringify(structured(info), { sortMapEntries: true, indentSeq: false });
}

function structured(info: CertificateExpirationInfo): Record<string, unknown> {
  return {
    kind: "CertificateExpirationInfo",
    apiVersion: "output.kubeadm.k8s.io/v1alpha3",
    certificates: info.certificates.map(entryJson),
    certificateAuthorities: info.certificateAuthorities.map(entryJson),
  };
}

// metav1.Time marshals as RFC 3339 in UTC with whole seconds, and the zero time as null;
// caName is omitempty.
function entryJson(entry: ExpirationEntry): Record<string, unknown> {
  return {
    name: entry.name,
    expirationDate: entry.expirationDate === undefined ? null : entry.expirationDate.toISOString().replace(/\.\d{3}Z$/, "Z"),
    residualTime: entry.residualTimeSeconds,
    ...(entry.caName === undefined || entry.caName === "" ? {} : { caName: entry.caName }),
    externallyManaged: entry.externallyManaged,
    missing: entry.missing,
  };
}

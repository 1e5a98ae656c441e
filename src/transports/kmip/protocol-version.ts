/**
 * A KMIP protocol version, as a number major*100+minor (1.2 → 102, 2.0 → 200) so that "since 1.2"
 * is a comparison; responses repeat the request's major and minor exactly.
 */
export type Version = number;

export const V1_0 = 100;
export const V1_1 = 101;
export const V1_2 = 102;
export const V1_3 = 103;
export const V1_4 = 104;
export const V2_0 = 200;

/** The versions kpki speaks, preferred first (what Discover Versions reports; KMIP 1.4 §4.26). */
export const SUPPORTED_VERSIONS: readonly Version[] = [V2_0, V1_4, V1_3, V1_2, V1_1, V1_0];

export function version(major: number, minor: number): Version {
  return major * 100 + minor;
}

export function majorOf(v: Version): number {
  return Math.floor(v / 100);
}

export function minorOf(v: Version): number {
  return v % 100;
}

export function isSupported(v: Version): boolean {
  return SUPPORTED_VERSIONS.includes(v);
}

/** "1.2" */
export function formatVersion(v: Version): string {
  return `${majorOf(v)}.${minorOf(v)}`;
}

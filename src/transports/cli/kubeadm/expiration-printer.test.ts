// check-expiration output compared with kubeadm's own, character for character.
import { describe, expect, it } from "vitest";
import type { CertificateExpirationInfo, ExpirationEntry } from "./expiration-info.js";
import { formatExpirationJson, formatExpirationText, formatExpirationYaml, formatExpiryDate, shortHumanDuration } from "./expiration-printer.js";

const now = new Date("2025-08-24T09:03:21Z");
const leaf = new Date("2026-08-19T09:03:21Z");
const root = new Date("2035-08-17T09:03:21Z");
const seconds = (until: Date) => Math.trunc((until.getTime() - now.getTime()) / 1000);
const row = (name: string, caName: string): ExpirationEntry => ({ name, expirationDate: leaf, residualTimeSeconds: seconds(leaf), caName, externallyManaged: false, missing: false });

const KUBEADM_SAMPLE: CertificateExpirationInfo = {
  certificates: [
    row("admin.conf", "ca"), row("apiserver", "ca"), row("apiserver-etcd-client", "etcd-ca"), row("apiserver-kubelet-client", "ca"), row("controller-manager.conf", "ca"),
    row("etcd-healthcheck-client", "etcd-ca"), row("etcd-peer", "etcd-ca"), row("etcd-server", "etcd-ca"), row("front-proxy-client", "front-proxy-ca"), row("scheduler.conf", "ca"), row("super-admin.conf", "ca"),
  ],
  certificateAuthorities: ["ca", "etcd-ca", "front-proxy-ca"].map((name) => ({ name, expirationDate: root, residualTimeSeconds: seconds(root), externallyManaged: false, missing: false })),
};

// `kubeadm certs check-expiration` on a kubeadm-managed node (v1.3x), trailing spaces included.
const KUBEADM_OUTPUT = `CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver                  Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver-etcd-client      Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
apiserver-kubelet-client   Aug 19, 2026 09:03 UTC   360d            ca                      no      
controller-manager.conf    Aug 19, 2026 09:03 UTC   360d            ca                      no      
etcd-healthcheck-client    Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
etcd-peer                  Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
etcd-server                Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
front-proxy-client         Aug 19, 2026 09:03 UTC   360d            front-proxy-ca          no      
scheduler.conf             Aug 19, 2026 09:03 UTC   360d            ca                      no      
super-admin.conf           Aug 19, 2026 09:03 UTC   360d            ca                      no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no      
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      
front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      
`;

describe("formatExpirationText", () => {
  it("prints kubeadm's tables byte for byte", () => {
    expect(formatExpirationText(KUBEADM_SAMPLE)).toBe(KUBEADM_OUTPUT);
  });

  it("prints !MISSING! rows with empty, padded cells, and yes for externally managed CAs", () => {
    const info: CertificateExpirationInfo = {
      certificates: [{ name: "admin.conf", residualTimeSeconds: 0, externallyManaged: false, missing: true }, { ...row("apiserver", "ca"), externallyManaged: true }],
      certificateAuthorities: [{ name: "ca", expirationDate: root, residualTimeSeconds: seconds(root), externallyManaged: true, missing: false }, { name: "etcd-ca", residualTimeSeconds: 0, externallyManaged: false, missing: true }],
    };
    expect(formatExpirationText(info).split("\n")).toEqual([
      "CERTIFICATE            EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED",
      "!MISSING! admin.conf                                                                    ",
      "apiserver              Aug 19, 2026 09:03 UTC   360d            ca                      yes     ",
      "",
      "CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED",
      "ca                      Aug 17, 2035 09:03 UTC   9y              yes     ",
      "!MISSING! etcd-ca                                                ",
      "",
    ]);
  });
});

describe("shortHumanDuration (apimachinery duration.ShortHumanDuration)", () => {
  it.each([
    [-5, "<invalid>"], [-1, "0s"], [0, "0s"], [59, "59s"], [60, "1m"], [3599, "59m"], [3600, "1h"], [86_399, "23h"], [86_400, "1d"],
    [364 * 86_400 + 86_399, "364d"], [365 * 86_400, "1y"], [3650 * 86_400, "10y"], [3649 * 86_400, "9y"],
  ])("%i s → %s", (input, expected) => {
    expect(shortHumanDuration(input)).toBe(expected);
  });
});

describe("structured output", () => {
  const info: CertificateExpirationInfo = {
    certificates: [row("apiserver", "ca"), { name: "super-admin.conf", residualTimeSeconds: 0, externallyManaged: false, missing: true }],
    certificateAuthorities: [{ name: "ca", expirationDate: root, residualTimeSeconds: seconds(root), externallyManaged: true, missing: false }],
  };

  it("is kubeadm's CertificateExpirationInfo as JSON", () => {
    const text = formatExpirationJson(info);
    expect(text.startsWith('{\n    "kind": "CertificateExpirationInfo",\n    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      kind: "CertificateExpirationInfo",
      apiVersion: "output.kubeadm.k8s.io/v1alpha3",
      certificates: [
        { name: "apiserver", expirationDate: "2026-08-19T09:03:21Z", residualTime: seconds(leaf), caName: "ca", externallyManaged: false, missing: false },
        { name: "super-admin.conf", expirationDate: null, residualTime: 0, externallyManaged: false, missing: true },
      ],
      certificateAuthorities: [{ name: "ca", expirationDate: "2035-08-17T09:03:21Z", residualTime: seconds(root), externallyManaged: true, missing: false }],
    });
  });

  it("is the same document as YAML with sorted keys", () => {
    const text = formatExpirationYaml(info);
    expect(text.startsWith("apiVersion: output.kubeadm.k8s.io/v1alpha3\ncertificateAuthorities:\n- ")).toBe(true);
    expect(text).toContain("kind: CertificateExpirationInfo\n");
  });

  it("formats dates as Go's \"Jan 02, 2006 15:04 MST\" in UTC", () => {
    expect(formatExpiryDate(new Date("2027-01-05T03:04:59.999Z"))).toBe("Jan 05, 2027 03:04 UTC");
  });
});

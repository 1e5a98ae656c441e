import { describe, expect, it } from "vitest";
import { sourceKey } from "./rate-limit.js";

describe("sourceKey", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::1", "0:0:0:0::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:0DB8:0:1:2:3:4:5", "2001:db8:0:1::/64"],
    ["2001:db8:0:1:ffff::9", "2001:db8:0:1::/64"],
    ["1::5:6:1.2.3.4", "1:0:0:0::/64"],
    ["1:2:3::1.2.3.4", "1:2:3:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("%s counts as %s", (address, key) => {
    expect(sourceKey(address)).toBe(key);
  });
});

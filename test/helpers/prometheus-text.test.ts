// The strict exposition parser the metrics tests rely on: it must refuse what Prometheus refuses.
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

const GOOD = [
  "# HELP a_total Things, with \\\\ and \\n",
  "# TYPE a_total counter",
  'a_total{x="1",y="q\\"uote"} 3',
  'a_total{x="2"} 1.5e3 1700000000000',
  "# TYPE h histogram",
  'h_bucket{le="0.5"} 1',
  'h_bucket{le="+Inf"} 2',
  "h_sum 0.7",
  "h_count 2",
  "# TYPE g gauge",
  "g NaN",
  "",
].join("\n");

describe("parsePrometheusText", () => {
  it("reads families, help, labels with escapes, values and histogram series", () => {
    const families = parsePrometheusText(GOOD);
    expect(families.get("a_total")).toMatchObject({ type: "counter", help: "Things, with \\ and \n" });
    expect(sampleValue(families, "a_total", { y: 'q"uote' })).toBe(3);
    expect(sampleValue(families, "a_total", { x: "2" })).toBe(1500);
    expect(sampleValue(families, "h", { le: "+Inf" }, "h_bucket")).toBe(2);
    expect(sampleValue(families, "h", {}, "h_count")).toBe(2);
    expect(sampleValue(families, "g")).toBeNaN();
  });

  it.each([
    ["a sample before its TYPE", "a 1\n# TYPE a gauge\n"],
    ["a second TYPE", "# TYPE a gauge\n# TYPE a gauge\n"],
    ["an unknown type", "# TYPE a meter\n"],
    ["an unquoted label value", "# TYPE a gauge\na{x=1} 1\n"],
    ["a bad escape", '# TYPE a gauge\na{x="\\t"} 1\n'],
    ["a repeated label", '# TYPE a gauge\na{x="1",x="2"} 1\n'],
    ["a value that is not a number", "# TYPE a gauge\na one\n"],
    ["a histogram bucket without le", "# TYPE h histogram\nh_bucket 1\n"],
    ["a counter sample with a histogram suffix", "# TYPE c counter\nc_bucket 1\n"],
    ["no final newline", "# TYPE a gauge\na 1"],
    ["HELP without TYPE", "# HELP a x\n"],
  ])("refuses %s", (_name, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });

  it("sampleValue refuses an ambiguous or missing match", () => {
    const families = parsePrometheusText(GOOD);
    expect(() => sampleValue(families, "a_total")).toThrow(/2 samples/);
    expect(() => sampleValue(families, "missing")).toThrow(/no family/);
  });
});

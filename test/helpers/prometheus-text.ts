// A strict reader of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): every sample
// belongs to a family declared by exactly one TYPE line (and at most one HELP line) before it,
// histogram samples are <name>_bucket/_sum/_count, label values are quoted with \\ \" \n escapes,
// and values are floats (or +Inf, -Inf, NaN). Anything else throws with the line number.

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: TYPE, HELP and its samples. */
export interface MetricFamily {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** The sample-name suffixes each type allows besides the family name itself. */
const SUFFIXES: Readonly<Record<MetricFamily["type"], readonly string[]>> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  // Prometheus parses values with Go's ParseFloat, which takes NaN in any case; prom-client writes "Nan".
  if (text.toLowerCase() === "nan") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: not a sample value: ${text}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === "{"`; returns the labels and the rest. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: label ${name} repeated`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value of ${name} is not quoted`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next ?? ""} in label ${name}`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`line ${line}: unterminated label value of ${name}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`line ${line}: expected ',' or '}' after label ${name}`);
  }
}

/** Parses a whole exposition; families by name. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const helps = new Map<string, string>();
  const lines = text.split("\n");
  if (lines.at(-1) !== "") throw new Error("the exposition does not end with a newline");
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (match === null) return; // a plain comment
      const [, keyword, name = "", rest = ""] = match;
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (keyword === "HELP") {
        if (helps.has(name)) throw new Error(`line ${line}: second HELP for ${name}`);
        helps.set(name, rest.replaceAll("\\n", "\n").replaceAll("\\\\", "\\"));
        const family = families.get(name);
        if (family !== undefined) families.set(name, { ...family, help: helps.get(name) ?? "" });
        return;
      }
      if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest} for ${name}`);
      if (families.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
      families.set(name, { name, type: rest as MetricFamily["type"], help: helps.get(name) ?? "", samples: [] });
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (nameMatch === null) throw new Error(`line ${line}: not a sample: ${raw}`);
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(" ");
    if (!rest.startsWith(" ") || parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: expected ' value [timestamp]' after ${name}`);
    const value = parseValue(parts[0] ?? "", line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp ${parts[1]}`);
    const family = [...families.values()].find((candidate) => SUFFIXES[candidate.type].some((suffix) => candidate.name + suffix === name));
    if (family === undefined) throw new Error(`line ${line}: sample ${name} has no TYPE line before it`);
    if (family.type === "histogram" && name.endsWith("_bucket") && labels.le === undefined) throw new Error(`line ${line}: histogram bucket without le`);
    family.samples.push({ name, labels, value });
  });
  for (const [name] of helps) if (!families.has(name)) throw new Error(`HELP for ${name} without a TYPE`);
  return families;
}

/** The one sample of `family` whose labels include `labels`; throws when there is none or several. */
export function sampleValue(families: ReadonlyMap<string, MetricFamily>, family: string, labels: Readonly<Record<string, string>> = {}, sampleName = family): number {
  const found = families.get(family);
  if (found === undefined) throw new Error(`no family ${family} in the scrape`);
  const matches = found.samples.filter((sample) => sample.name === sampleName && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matches.length !== 1) throw new Error(`${matches.length} samples of ${sampleName} match ${JSON.stringify(labels)}: ${JSON.stringify(found.samples.slice(0, 20))}`);
  return (matches[0] as Sample).value;
}

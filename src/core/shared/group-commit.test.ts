import { describe, expect, it } from "vitest";
import { GroupCommit } from "./group-commit.js";

/** A commit that records each group it was given and refuses any group holding a spoiled item. */
function recordingCommit(spoiled: ReadonlySet<string> = new Set()) {
  const groups: string[][] = [];
  const commit = async (items: readonly string[]) => {
    groups.push([...items]);
    await Promise.resolve();
    const bad = items.find((item) => spoiled.has(item));
    if (bad !== undefined) throw new Error(`refused ${bad}`);
  };
  return { groups, commit };
}

/** A caller that prepares until `release` is called, then submits `item`. */
function caller(group: GroupCommit<string>, item: string) {
  let release!: () => void;
  const ready = new Promise<void>((resolve) => (release = resolve));
  const result = group.prepare(async (submit) => {
    await ready;
    await submit(item);
    return item;
  });
  return { release, result };
}

const LONG = { maxItems: 64, maxDelayMillis: 60_000 };

describe("GroupCommit", () => {
  it("commits a lone caller at once, without waiting for the delay", async () => {
    const { groups, commit } = recordingCommit();
    const group = new GroupCommit(commit, LONG);
    await expect(group.prepare((submit) => submit("a"))).resolves.toBeUndefined();
    expect(groups).toEqual([["a"]]);
  });

  it("waits for callers still preparing and commits them together, in submission order", async () => {
    const { groups, commit } = recordingCommit();
    const group = new GroupCommit(commit, LONG);
    const callers = ["c", "a", "b"].map((item) => caller(group, item));
    for (const { release } of callers) release();
    await expect(Promise.all(callers.map(({ result }) => result))).resolves.toEqual(["c", "a", "b"]);
    expect(groups).toEqual([["c", "a", "b"]]);
  });

  it("commits each item of a refused group on its own: only the spoiled one fails", async () => {
    const { groups, commit } = recordingCommit(new Set(["b"]));
    const group = new GroupCommit(commit, LONG);
    const callers = ["a", "b", "c"].map((item) => caller(group, item));
    for (const { release } of callers) release();
    const outcomes = await Promise.allSettled(callers.map(({ result }) => result));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]).toMatchObject({ reason: new Error("refused b") });
    expect(groups).toEqual([["a", "b", "c"], ["a"], ["b"], ["c"]]);
  });

  it("does not wait for a caller that leaves without submitting (an error before storing)", async () => {
    const { groups, commit } = recordingCommit();
    const group = new GroupCommit(commit, LONG);
    const staying = caller(group, "a");
    const leaving = group.prepare(async () => {
      await Promise.resolve();
      throw new Error("refused by policy");
    });
    staying.release();
    await expect(leaving).rejects.toThrow("refused by policy");
    await expect(staying.result).resolves.toBe("a");
    expect(groups).toEqual([["a"]]);
  });

  it("commits after maxDelayMillis when another caller keeps preparing", async () => {
    const { groups, commit } = recordingCommit();
    const group = new GroupCommit(commit, { maxItems: 64, maxDelayMillis: 20 });
    const slow = caller(group, "slow");
    const started = Date.now();
    await group.prepare((submit) => submit("fast"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(groups).toEqual([["fast"]]);
    slow.release();
    await slow.result;
    expect(groups).toEqual([["fast"], ["slow"]]);
  });

  it("takes at most maxItems per commit; the rest form the next group", async () => {
    const { groups, commit } = recordingCommit();
    const group = new GroupCommit(commit, { maxItems: 2, maxDelayMillis: 60_000 });
    const callers = ["a", "b", "c", "d", "e"].map((item) => caller(group, item));
    for (const { release } of callers) release();
    await Promise.all(callers.map(({ result }) => result));
    expect(groups.flat()).toEqual(["a", "b", "c", "d", "e"]);
    expect(Math.max(...groups.map((g) => g.length))).toBe(2);
  });

  it("answers a caller only after the commit holding its item has finished", async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let committed = false;
    const group = new GroupCommit<string>(async () => {
      await finished;
      committed = true;
    }, LONG);
    const answer = group.prepare((submit) => submit("a")).then(() => committed);
    await new Promise((resolve) => setTimeout(resolve, 10));
    finish();
    await expect(answer).resolves.toBe(true);
  });
});

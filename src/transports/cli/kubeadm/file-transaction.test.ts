// All-or-nothing file replacement on the real file system: actions, exact modes, and rollback when
// staging, renaming or removing fails part-way.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { snapshotTree } from "../../../../test/fixtures/kubeadm/tree-snapshot.js";
import { CliError, EXIT } from "../exit-codes.js";
import { applyChanges, assertReplaceable, describeChanges, planChanges, type PlannedFile } from "./file-transaction.js";

const work = mkdtempSync(path.join(os.tmpdir(), "kpki-file-tx-"));
let root: string;
let n = 0;
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  root = path.join(work, `t${++n}`);
  mkdirSync(path.join(root, "pki", "etcd"), { recursive: true });
  writeFileSync(path.join(root, "pki", "ca.crt"), "old ca\n", { mode: 0o644 });
  writeFileSync(path.join(root, "pki", "apiserver.crt"), "old apiserver\n", { mode: 0o644 });
  writeFileSync(path.join(root, "admin.conf"), "old admin\n", { mode: 0o600 });
  writeFileSync(path.join(root, "pki", "apiserver.csr"), "csr\n", { mode: 0o600 });
});

const file = (relative: string): string => path.join(root, relative);
const planned = (relative: string, content: string, mode = 0o644): PlannedFile => ({ path: file(relative), content: Buffer.from(content), mode });
const mode = (relative: string): number => statSync(file(relative)).mode & 0o777;

/** Five files: one unchanged, two replaced, two created (one in a new directory). */
function plan(): PlannedFile[] {
  return [
    planned("pki/ca.crt", "old ca\n"),
    planned("pki/apiserver.crt", "new apiserver\n"),
    planned("admin.conf", "new admin\n", 0o600),
    planned("pki/etcd/server.crt", "new etcd server\n"),
    planned("pki/new-dir/deep/file.crt", "new deep\n"),
  ];
}

describe("planChanges", () => {
  it("says create, replace or unchanged by content and mode", () => {
    const changes = planChanges(plan());
    expect(changes.map((c) => c.action)).toEqual(["unchanged", "replace", "replace", "create", "create"]);
    // The same bytes with another mode is a change: the mode is part of what is planned.
    expect(planChanges([planned("pki/ca.crt", "old ca\n", 0o600)])[0]!.action).toBe("replace");
    expect(describeChanges(changes, [file("pki/apiserver.csr")])).toEqual([
      `unchanged ${file("pki/ca.crt")}`, `replace   ${file("pki/apiserver.crt")}`, `replace   ${file("admin.conf")}`, `create    ${file("pki/etcd/server.crt")}`,
      `create    ${file("pki/new-dir/deep/file.crt")}`, `remove    ${file("pki/apiserver.csr")}`,
    ]);
  });

  it("refuses a target that is a directory, and a file planned twice", () => {
    mkdirSync(file("pki/etcd/peer.crt"));
    expect(() => planChanges([planned("pki/etcd/peer.crt", "x")])).toThrow(`${file("pki/etcd/peer.crt")} exists and is not a regular file; refusing to replace it`);
    expect(() => planChanges([planned("a", "x"), planned("a", "y")])).toThrow(/planned twice/);
    expect(() => assertReplaceable([file("pki/etcd/peer.crt")])).toThrow(/is not a regular file/);
    expect(() => assertReplaceable([file("pki/ca.crt/below")])).toThrow(`${file("pki/ca.crt")} exists and is not a directory`);
    expect(() => assertReplaceable([file("pki/ca.crt"), file("missing/dir/x")])).not.toThrow();
  });
});

describe("applyChanges", () => {
  it("writes created and replaced files with their exact modes, leaves unchanged ones alone, removes what it is told", () => {
    const unchangedInode = statSync(file("pki/ca.crt")).ino;
    const previous = process.umask(0o077); // the modes must not depend on the caller's umask
    try {
      applyChanges(planChanges(plan()), { remove: [file("pki/apiserver.csr")] });
    } finally {
      process.umask(previous);
    }
    expect(readFileSync(file("pki/apiserver.crt"), "utf8")).toBe("new apiserver\n");
    expect(readFileSync(file("pki/new-dir/deep/file.crt"), "utf8")).toBe("new deep\n");
    expect([mode("pki/apiserver.crt"), mode("admin.conf"), mode("pki/etcd/server.crt"), mode("pki/new-dir"), mode("pki/new-dir/deep")]).toEqual([0o644, 0o600, 0o644, 0o700, 0o700]);
    expect(statSync(file("pki/ca.crt")).ino).toBe(unchangedInode);
    expect(existsSync(file("pki/apiserver.csr"))).toBe(false);
    // No temporary file or backup is left behind.
    const leftovers = readdirSync(root, { recursive: true }).map(String).filter((name) => name.includes(".kpki-"));
    expect(leftovers).toEqual([]);
  });

  it("applying the same plan again changes nothing", () => {
    applyChanges(planChanges(plan()));
    const after = snapshotTree(root);
    const again = planChanges(plan());
    expect(again.every((c) => c.action === "unchanged")).toBe(true);
    applyChanges(again);
    expect(snapshotTree(root)).toEqual(after);
  });

  it.each([1, 2, 3, 4])("when rename number %i fails, every file and directory is as it was", (failing) => {
    const changes = planChanges(plan());
    const pending = changes.filter((c) => c.action !== "unchanged");
    // Sabotage after planning: the failing target becomes a non-empty directory, so its rename fails
    // after the renames before it went through (two of which replace existing files).
    const victim = pending[failing - 1]!.path;
    rmSync(victim, { force: true });
    mkdirSync(victim, { recursive: true });
    writeFileSync(path.join(victim, "occupied"), "x");
    const before = snapshotTree(root);
    let error: unknown;
    try {
      applyChanges(changes, { remove: [file("pki/apiserver.csr")] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/^writing the files failed, nothing was changed: /);
    expect((error as CliError).exitCode).toBe(EXIT.failure);
    expect(snapshotTree(root)).toEqual(before);
  });

  it("a failure while staging (a directory to create is a file) changes nothing and leaves no temporary file", () => {
    const changes = planChanges(plan());
    writeFileSync(file("pki/new-dir"), "in the way\n");
    const before = snapshotTree(root);
    expect(() => applyChanges(changes)).toThrow(`writing the files failed, nothing was changed: ${file("pki/new-dir")} exists and is not a directory`);
    expect(snapshotTree(root)).toEqual(before);
  });

  it.skipIf(process.getuid?.() === 0)("a failure while staging (read-only directory) changes nothing", () => {
    // Skipped as root, which ignores directory permissions; the test above covers staging failures there.
    chmodSync(file("pki/etcd"), 0o500);
    try {
      const before = snapshotTree(root);
      expect(() => applyChanges(planChanges(plan()))).toThrow(/writing the files failed, nothing was changed: .*EACCES/);
      expect(snapshotTree(root)).toEqual(before);
    } finally {
      chmodSync(file("pki/etcd"), 0o700);
    }
  });

  it("a failing removal puts back the files already installed", () => {
    const before = snapshotTree(root);
    expect(() => applyChanges(planChanges(plan()), { remove: [file("pki/apiserver.csr"), file("pki/no-such.csr")] })).toThrow(/nothing was changed: .*ENOENT/);
    expect(snapshotTree(root)).toEqual(before);
  });
});

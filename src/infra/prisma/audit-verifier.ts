import { AUDIT_GENESIS_HASH, auditEntryHash } from "./audit-log.js";
import type { Database } from "./prisma-client.js";

/** What `kpki audit verify` found. */
export interface AuditVerification {
  readonly entries: number;
  /** The last entry: record its seq and hash elsewhere to detect a cut-off tail later. */
  readonly head?: { readonly seq: number; readonly hash: string };
  /** One line per break, naming the entry (seq and id); empty when the chain is intact. */
  readonly problems: readonly string[];
}

const PAGE = 1000;

/**
 * Walks `audit_events` in seq order and checks that each entry's hash recomputes from its content
 * (an edited entry), that each entry's prevHash is the previous entry's hash (a deleted, inserted or
 * reordered entry) and that seq increases. Removing the newest entries leaves a shorter valid
 * chain: that is what `expectHead` (a seq and hash recorded earlier) catches.
 */
export async function verifyAuditChain(db: Database, options: { expectHead?: { seq: number; hash: string }; progress?: (checked: number) => void } = {}): Promise<AuditVerification> {
  const problems: string[] = [];
  let previous: { seq: number; hash: string } | undefined;
  let entries = 0;
  let seenExpected = options.expectHead === undefined;
  for (;;) {
    const rows = await db.auditEvent.findMany({ where: previous === undefined ? {} : { seq: { gt: previous.seq } }, orderBy: { seq: "asc" }, take: PAGE });
    for (const row of rows) {
      const expectedPrev = previous?.hash ?? AUDIT_GENESIS_HASH;
      if (row.prevHash !== expectedPrev) {
        problems.push(
          previous === undefined
            ? `entry seq ${row.seq} (id ${row.id}) is the first but does not start the chain: entries before it were deleted`
            : `entry seq ${row.seq} (id ${row.id}) does not follow entry seq ${previous.seq}: an entry between them was deleted or inserted, or entries were reordered`,
        );
      }
      if (auditEntryHash(row) !== row.hash) problems.push(`entry seq ${row.seq} (id ${row.id}, ${row.action} on ${row.target}) was edited: its hash does not match its content`);
      if (options.expectHead !== undefined && row.seq === options.expectHead.seq) {
        seenExpected = true;
        if (row.hash !== options.expectHead.hash) problems.push(`entry seq ${row.seq} is not the entry recorded earlier (hash ${options.expectHead.hash.slice(0, 16)}…)`);
      }
      previous = { seq: row.seq, hash: row.hash };
      entries++;
    }
    options.progress?.(entries);
    if (rows.length < PAGE) break;
  }
  if (!seenExpected && options.expectHead !== undefined) problems.push(`entry seq ${options.expectHead.seq} recorded earlier is missing: the newest entries were removed`);
  return { entries, ...(previous === undefined ? {} : { head: previous }), problems };
}

import type { State } from "../../core/kms/kmip-vocabulary.js";
import type { DateRange, LocateQuery } from "../../core/kms/ports.js";
import { Prisma } from "./generated/sqlite/client.js";

type Sql = Prisma.Sql;
const { sql, join } = Prisma;

/** A date column whose passing changes an object's effective state; each has a (state, date) index. */
type LifecycleDate = "activationDate" | "deactivationDate";

/** One stored-state branch of an effective-state filter. */
export interface StateBranch {
  readonly condition: Sql;
  /**
   * Set on a branch of objects whose stored state a date has overtaken (a Pre-Active object past
   * its Activation Date, an Active one past its Deactivation Date): that stored state, the date
   * that overtook it (the (state, date) index holds exactly those rows as one range) and the
   * branch's other conditions. Such rows are few among many of their stored state, so the branch
   * must not walk an index in uid order hoping to meet `limit` of them early: that walk reads the
   * whole state (PostgreSQL even chose the primary key and read every row for a branch without
   * matches). See overtakenLookupsSql.
   */
  readonly overtaken?: { readonly state: State; readonly by: LifecycleDate; readonly rest: readonly Sql[] };
}

const column = (name: LifecycleDate): Sql => sql`mo.${Prisma.raw(`"${name}"`)}`;
/** A state of the closed KMIP vocabulary as an SQL literal (as the branches always wrote it). */
const stateLiteral = (state: State): Sql => Prisma.raw(`'${state}'`);

/**
 * The stored-state branches whose union is the effective state `state` at `now` (key-state.ts
 * `effectiveState`): a stored Pre-Active object is Active from its Activation Date on, and a stored
 * (or so become) Active one is Deactivated from its Deactivation Date on. Every branch starts with
 * an equality on the stored state, and the branches are disjoint.
 */
export function effectiveStateBranches(state: State, now: Date): StateBranch[] {
  const notActivated = sql`(mo."activationDate" IS NULL OR mo."activationDate" > ${now})`;
  const notDeactivated = sql`(mo."deactivationDate" IS NULL OR mo."deactivationDate" > ${now})`;
  const stored = (condition: Sql): StateBranch => ({ condition });
  const overtaken = (storedState: State, by: LifecycleDate, rest: Sql[] = []): StateBranch => ({
    condition: join([sql`mo."state" = ${stateLiteral(storedState)}`, sql`${column(by)} <= ${now}`, ...rest], " AND "),
    overtaken: { state: storedState, by, rest },
  });
  switch (state) {
    case "Pre-Active":
      return [stored(sql`mo."state" = 'Pre-Active' AND ${notActivated}`)];
    case "Active":
      return [stored(sql`mo."state" = 'Active' AND ${notDeactivated}`), overtaken("Pre-Active", "activationDate", [notDeactivated])];
    case "Deactivated":
      return [stored(sql`mo."state" = 'Deactivated'`), overtaken("Active", "deactivationDate"), overtaken("Pre-Active", "deactivationDate", [sql`mo."activationDate" <= ${now}`])];
    default:
      return [stored(sql`mo."state" = ${state}`)];
  }
}

/** Inclusive `from`, exclusive `to` on a managed_objects date column. */
function rangeConditions(column: "initialDate" | "activationDate" | "deactivationDate", range: DateRange | undefined): Sql[] {
  const conditions: Sql[] = [];
  if (range?.from !== undefined) conditions.push(sql`mo.${Prisma.raw(`"${column}"`)} >= ${range.from}`);
  if (range?.to !== undefined) conditions.push(sql`mo.${Prisma.raw(`"${column}"`)} < ${range.to}`);
  return conditions;
}

/**
 * How many uids an overtaken branch's own lookup may return. The apply-lifecycle-dates job writes
 * the state a passed date makes effective (1,000 objects every 5 minutes), so only objects whose
 * date passed since its last run lag; more than this means the job is behind, and the branch is
 * then evaluated inside the page query as before (correct, only slower).
 */
export const OVERTAKEN_LOOKUP_MAX = 1000;

/** The joins, common conditions and ordering key of a Locate query (everything but the state). */
interface LocateParts {
  readonly from: Sql;
  readonly common: readonly Sql[];
  /** The uid column of the table whose index drives the page: the most selective join, else the objects. */
  readonly order: Sql;
  readonly joined: boolean;
}

function locateParts(query: LocateQuery): LocateParts {
  const joins: Sql[] = [];
  const common: Sql[] = [];
  const keys: Sql[] = [sql`mo."uid"`];
  if (query.customAttribute !== undefined) {
    joins.push(sql`JOIN "managed_object_attributes" a ON a."uid" = mo."uid"`);
    common.push(sql`a."name" = ${query.customAttribute.name}`, sql`a."value" = ${query.customAttribute.value}`);
    keys.push(sql`a."uid"`);
  }
  if (query.name !== undefined) {
    joins.push(sql`JOIN "managed_object_names" n ON n."uid" = mo."uid"`);
    common.push(sql`n."name" = ${query.name}`);
    keys.push(sql`n."uid"`);
  }
  const after = query.after;
  if (after !== undefined) common.push(...keys.map((key) => sql`${key} > ${after}`));
  if (query.objectType !== undefined) common.push(sql`mo."objectType" = ${query.objectType}`);
  if (query.algorithm !== undefined) common.push(sql`mo."algorithm" = ${query.algorithm}`);
  common.push(...rangeConditions("initialDate", query.initialDate), ...rangeConditions("activationDate", query.activationDate), ...rangeConditions("deactivationDate", query.deactivationDate));
  return {
    from: joins.length === 0 ? sql`"managed_objects" mo` : sql`"managed_objects" mo ${join(joins, " ")}`,
    common,
    order: keys.at(-1) ?? sql`mo."uid"`,
    joined: joins.length > 0,
  };
}

const where = (conditions: readonly Sql[]): Sql => (conditions.length === 0 ? sql`1 = 1` : join([...conditions], " AND "));

/**
 * The overtaken branches of a Locate without name or attribute filter (a join's index drives those
 * well), each with a query of its own for all its uids (up to OVERTAKEN_LOOKUP_MAX + 1). In the
 * page query PostgreSQL estimates `activationDate <= now` from the whole column (most objects were
 * activated long ago), does not see that Pre-Active ones almost never are, and read every
 * Pre-Active object through the (state, deactivationDate) index (56–86 ms at 1M objects,
 * bench/README.md). Here the branch's range of the (state, date) index is written as a row-value
 * range, `state >= S AND (state, date) <= (S, now)`, ordered by (state, date) and limited: no
 * equality makes `state` a constant, so only that index delivers the order, and the walk reads
 * just the lagging objects. (With `state = S`, ordering by the date alone let PostgreSQL pick the
 * single-column date index, better correlated with the table, and read nearly all of it.)
 */
export function overtakenLookupsSql(query: LocateQuery): { readonly branch: number; readonly sql: Sql }[] {
  const parts = locateParts(query);
  if (parts.joined || query.state === undefined) return [];
  const now = query.now;
  return effectiveStateBranches(query.state, now).flatMap((branch, i) => {
    if (branch.overtaken === undefined) return [];
    const { state, by, rest } = branch.overtaken;
    const range = sql`mo."state" >= ${stateLiteral(state)} AND (mo."state", ${column(by)}) <= (${stateLiteral(state)}, ${now})`;
    return [{ branch: i, sql: sql`SELECT mo."uid" AS "uid" FROM ${parts.from} WHERE ${where([...parts.common, range, ...rest])} ORDER BY mo."state", ${column(by)} LIMIT ${OVERTAKEN_LOOKUP_MAX + 1}` }];
  });
}

/**
 * The uids of one Locate page (limit + 1 of them, to tell whether another page follows), in uid
 * order. Plain SQL that reads the same on SQLite and PostgreSQL, shaped for their planners:
 *
 * - a name or custom attribute filter is a JOIN on its table (at most one row per object: the
 *   primary keys are (uid, name)), and the page is ordered by that table's uid, so the (name, uid)
 *   or (name, value, uid) index is read in order from the cursor on and the scan stops at the
 *   limit. (Prisma's `some` filter becomes a correlated EXISTS, which SQLite runs by scanning
 *   every object.) The cursor is repeated on every joined table, so each index starts there.
 * - an effective-state filter is a UNION ALL of its stored-state branches, each ordered and
 *   limited on its own, so each can walk the (state, uid) index from the cursor; an OR would make
 *   SQLite merge the whole index ranges and sort them. An overtaken branch whose uids its own
 *   lookup found (`overtaken`: branch index → uids, at most OVERTAKEN_LOOKUP_MAX) is those uids
 *   (none: no branch); otherwise it is ordered by `uid || ''`, which no index provides: the
 *   planner then filters first and sorts the few rows.
 */
export function locateUidsSql(query: LocateQuery, overtaken: ReadonlyMap<number, readonly string[]> = new Map()): Sql {
  const { from, common, order } = locateParts(query);
  const take = query.limit + 1;
  const select = (conditions: readonly Sql[], sortKey: Sql) => sql`SELECT ${order} AS "uid" FROM ${from} WHERE ${where(conditions)} ORDER BY ${sortKey} LIMIT ${take}`;
  const branches = (query.state === undefined ? [] : effectiveStateBranches(query.state, query.now)).flatMap((branch, i) => {
    const found = overtaken.get(i);
    if (found === undefined) return [select([...common, branch.condition], branch.overtaken === undefined ? order : sql`${order} || ''`)];
    // The lookup applied every condition of the page (cursor included): only the order is left.
    return found.length === 0 ? [] : [sql`SELECT mo."uid" AS "uid" FROM "managed_objects" mo WHERE mo."uid" IN (${join([...found])}) ORDER BY mo."uid" LIMIT ${take}`];
  });
  if (query.state === undefined) return select(common, order);
  if (branches.length === 0) return sql`SELECT mo."uid" AS "uid" FROM "managed_objects" mo WHERE 1 = 0`;
  if (branches.length === 1 && branches[0] !== undefined) return branches[0];
  const parts = branches.map((branch, i) => sql`SELECT "uid" FROM (${branch}) AS ${Prisma.raw(`"b${i}"`)}`);
  return sql`SELECT "uid" FROM (${join(parts, " UNION ALL ")}) AS "page" ORDER BY "uid" LIMIT ${take}`;
}

import type { State } from "../../core/kms/kmip-vocabulary.js";
import type { DateRange, LocateQuery } from "../../core/kms/ports.js";
import { Prisma } from "./generated/sqlite/client.js";

type Sql = Prisma.Sql;
const { sql, join } = Prisma;

/** One stored-state branch of an effective-state filter. */
export interface StateBranch {
  readonly condition: Sql;
  /**
   * A branch of objects whose stored state a date has overtaken (a Pre-Active object past its
   * Activation Date, an Active one past its Deactivation Date). Such rows are few among many of
   * their stored state, so the branch must not walk an index in uid order hoping to meet `limit`
   * of them early: that walk reads the whole state (PostgreSQL even chose the primary key and read
   * every row for a branch without matches). Its rows are filtered first, then sorted.
   */
  readonly overtaken: boolean;
}

/**
 * The stored-state branches whose union is the effective state `state` at `now` (key-state.ts
 * `effectiveState`): a stored Pre-Active object is Active from its Activation Date on, and a stored
 * (or so become) Active one is Deactivated from its Deactivation Date on. Every branch starts with
 * an equality on the stored state, and the branches are disjoint.
 */
export function effectiveStateBranches(state: State, now: Date): StateBranch[] {
  const notActivated = sql`(mo."activationDate" IS NULL OR mo."activationDate" > ${now})`;
  const notDeactivated = sql`(mo."deactivationDate" IS NULL OR mo."deactivationDate" > ${now})`;
  const stored = (condition: Sql): StateBranch => ({ condition, overtaken: false });
  const overtaken = (condition: Sql): StateBranch => ({ condition, overtaken: true });
  switch (state) {
    case "Pre-Active":
      return [stored(sql`mo."state" = 'Pre-Active' AND ${notActivated}`)];
    case "Active":
      return [stored(sql`mo."state" = 'Active' AND ${notDeactivated}`), overtaken(sql`mo."state" = 'Pre-Active' AND mo."activationDate" <= ${now} AND ${notDeactivated}`)];
    case "Deactivated":
      return [
        stored(sql`mo."state" = 'Deactivated'`),
        overtaken(sql`mo."state" = 'Active' AND mo."deactivationDate" <= ${now}`),
        overtaken(sql`mo."state" = 'Pre-Active' AND mo."activationDate" <= ${now} AND mo."deactivationDate" <= ${now}`),
      ];
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
 *   SQLite merge the whole index ranges and sort them. An overtaken branch is ordered by
 *   `uid || ''`, which no index provides: the planner then filters first and sorts the few rows.
 */
export function locateUidsSql(query: LocateQuery): Sql {
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

  // The table whose index drives the page: the most selective join, else the objects.
  const order = keys.at(-1) ?? sql`mo."uid"`;
  const take = query.limit + 1;
  const from = joins.length === 0 ? sql`"managed_objects" mo` : sql`"managed_objects" mo ${join(joins, " ")}`;
  const select = (conditions: Sql[], sortKey: Sql) =>
    sql`SELECT ${order} AS "uid" FROM ${from} WHERE ${conditions.length === 0 ? sql`1 = 1` : join(conditions, " AND ")} ORDER BY ${sortKey} LIMIT ${take}`;
  const branches = query.state === undefined ? [] : effectiveStateBranches(query.state, query.now);
  if (branches.length === 0) return select(common, order);
  if (branches.length === 1 && branches[0] !== undefined) return select([...common, branches[0].condition], order);
  const parts = branches.map(
    (branch, i) => sql`SELECT "uid" FROM (${select([...common, branch.condition], branch.overtaken ? sql`${order} || ''` : order)}) AS ${Prisma.raw(`"b${i}"`)}`,
  );
  return sql`SELECT "uid" FROM (${join(parts, " UNION ALL ")}) AS "page" ORDER BY "uid" LIMIT ${take}`;
}

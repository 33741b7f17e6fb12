import type { TargetRole } from '../config/ConnectionSpec.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { RowCount } from '../dialects/types.js';

/** Above this many rows (by the server's estimate) a table is not counted exactly: its estimate is reported, marked. */
export const EXACT_COUNT_UP_TO = 5_000_000;
/** Each exact count is cut off after this long: it runs on the pinned session the run lock is watched on. */
export const COUNT_TIMEOUT_MS = 5_000;

/**
 * The tables whose rows are the catalogue: OpenMetadata's entity and relationship tables, Airflow's DAG and task
 * tables. Their counts before and after a run are the "nothing lost" proof; om-migrate's own tables are not among them.
 */
export function watchedTable(role: TargetRole, table: string): boolean {
  const name = table.toLowerCase();
  if (role === 'openmetadata') {
    return /_entity$/.test(name) || /^(entity_relationship|field_relationship|entity_extension|entity_extension_time_series|tag_usage|change_event)$/.test(name);
  }
  return /^(dag|task)(_|$)/.test(name) || /^(xcom|rendered_task_instance_fields|serialized_dag|job|trigger|log)$/.test(name);
}

export interface TargetRowCounts {
  role: TargetRole;
  database: string;
  tables: RowCount[];
}

/** The watched tables' counts of every target, read-only, bounded in time per table. */
export async function countWatchedRows(targets: ConnectedTarget[]): Promise<TargetRowCounts[]> {
  const result: TargetRowCounts[] = [];
  for (const t of targets) {
    const tables = (await t.dialect.rowCounts.tableNames()).filter((name) => watchedTable(t.role, name));
    result.push({ role: t.role, database: t.spec.database, tables: await t.dialect.rowCounts.countRows(tables, { exactUpTo: EXACT_COUNT_UP_TO, timeoutMs: COUNT_TIMEOUT_MS }) });
  }
  return result;
}

export interface RowCountChange {
  role: TargetRole;
  table: string;
  before: number | null;
  after: number | null;
  /** after − before; a table that disappeared counts as having lost all its rows. */
  delta: number;
  /** Both counts exact; otherwise the change may be the estimate's. */
  exact: boolean;
}

export interface RowCountComparison {
  /** Tables compared, per role. */
  compared: number;
  /** Every table whose count changed (appeared, vanished, grew, shrank). */
  changed: RowCountChange[];
  /** The changes that lost rows: each one a reason to look at the backup. */
  lost: RowCountChange[];
  /** Tables whose count is an estimate, with why. */
  estimated: Array<{ role: TargetRole; table: string; note: string }>;
}

export function compareRowCounts(before: TargetRowCounts[], after: TargetRowCounts[]): RowCountComparison {
  const changed: RowCountChange[] = [];
  const estimated: RowCountComparison['estimated'] = [];
  let compared = 0;
  for (const b of before) {
    const a = after.find((x) => x.role === b.role);
    const beforeBy = new Map(b.tables.map((t) => [t.table, t]));
    const afterBy = new Map((a?.tables ?? []).map((t) => [t.table, t]));
    for (const name of [...new Set([...beforeBy.keys(), ...afterBy.keys()])].sort()) {
      compared++;
      const x = beforeBy.get(name);
      const y = afterBy.get(name);
      for (const c of [x, y]) if (c && !c.exact && !estimated.some((e) => e.role === b.role && e.table === name)) estimated.push({ role: b.role, table: name, note: c.note ?? 'estimate' });
      const delta = (y?.rows ?? 0) - (x?.rows ?? 0);
      if (x && y && delta === 0) continue;
      changed.push({ role: b.role, table: name, before: x?.rows ?? null, after: y?.rows ?? null, delta: y ? delta : -(x?.rows ?? 0),
        exact: (x?.exact ?? true) && (y?.exact ?? true) });
    }
  }
  // A vanished table with no rows lost nothing; one that shrank (or vanished with rows) did.
  return { compared, changed, lost: changed.filter((c) => c.delta < 0 || (c.after === null && (c.before ?? 0) > 0)), estimated };
}

/** "task_instance 50 → 40 (−10)" */
export function describeChange(c: RowCountChange): string {
  const sign = c.delta >= 0 ? `+${c.delta}` : `−${-c.delta}`;
  return `${c.role}.${c.table} ${c.before ?? '(absent)'} → ${c.after ?? '(absent)'} (${sign}${c.exact ? '' : ', estimated'})`;
}

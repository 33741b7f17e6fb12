import type { TargetRole } from '../config/ConnectionSpec.js';
import { releasesCrossed, type IntendedChange } from '../openmetadata/releases.js';
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
    // thread_entity's 2.0.0 name (and its later archive name) stay watched, so that a rename is seen to keep the rows;
    // the Quartz tables are watched so that 1.13.0's emptying of them shows, as expected.
    return /_entity$/.test(name) || /^(entity_relationship|field_relationship|entity_extension|entity_extension_time_series|tag_usage|change_event)$/.test(name)
      || /^thread_entity_(legacy|archived)$/.test(name) || /^qrtz_/.test(name);
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

/** A change a crossed release makes on purpose, resolved for this run (the pruning bound read before the steps). */
export interface IntendedRowChange extends IntendedChange {
  release: string;
  /** pruned: at most this many rows may go. */
  upTo?: number;
}

/** A row-count change a crossed release makes on purpose: reported, not a loss. */
export interface ExpectedRowChange extends RowCountChange {
  release: string;
  why: string;
}

export interface RowCountComparison {
  /** Tables compared, per role. */
  compared: number;
  /** Every table whose count changed (appeared, vanished, grew, shrank). */
  changed: RowCountChange[];
  /** The changes that lost rows: each one a reason to look at the backup. */
  lost: RowCountChange[];
  /** The changes a crossed release makes on purpose (renamed, emptied, pruned tables), naming the release. */
  expected: ExpectedRowChange[];
  /** Tables whose count is an estimate, with why. */
  estimated: Array<{ role: TargetRole; table: string; note: string }>;
}

export function compareRowCounts(before: TargetRowCounts[], after: TargetRowCounts[], intended: readonly IntendedRowChange[] = []): RowCountComparison {
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
  const expected = changed.flatMap((c) => {
    const why = intendedFor(c, changed, intended);
    return why ? [{ ...c, ...why }] : [];
  });
  const isExpected = (c: RowCountChange) => expected.some((e) => e.role === c.role && e.table === c.table);
  // A vanished table with no rows lost nothing; one that shrank (or vanished with rows) did — unless a crossed release
  // did it on purpose.
  const lost = changed.filter((c) => !isExpected(c) && (c.delta < 0 || (c.after === null && (c.before ?? 0) > 0)));
  return { compared, changed, lost, expected, estimated };
}

/** The crossed release that explains this change, if one does, and only within what it may do. */
function intendedFor(c: RowCountChange, all: RowCountChange[], intended: readonly IntendedRowChange[]): { release: string; why: string } | undefined {
  if (c.role !== 'openmetadata') return undefined;
  const name = c.table.toLowerCase();
  for (const i of intended) {
    const table = i.table.toLowerCase();
    if (i.kind === 'renamed' && i.to) {
      const from = all.find((x) => x.role === c.role && x.table.toLowerCase() === table);
      const to = all.find((x) => x.role === c.role && x.table.toLowerCase() === i.to!.toLowerCase());
      // Both halves of the rename are expected only when every row arrived under the new name.
      const intact = from !== undefined && to !== undefined && from.after === null && (to.before ?? 0) === 0 && to.after === from.before;
      if (intact && (name === table || name === i.to.toLowerCase())) return { release: i.release, why: `${i.why} (${from.before} rows kept)` };
    } else if (i.kind === 'emptied' && (i.prefix ? name.startsWith(table) : name === table) && (c.after ?? 0) === 0) {
      return { release: i.release, why: i.why };
    } else if (i.kind === 'pruned' && name === table && c.delta < 0 && -c.delta <= (i.upTo ?? 0)) {
      return { release: i.release, why: `${i.why} (${-c.delta} of at most ${i.upTo})` };
    }
  }
  return undefined;
}

/**
 * What the releases between `from` and `to` change on purpose, with each pruning bound read from the database now
 * (before the steps): 1.13.0 may delete exactly the pipelines of Iceberg services that exist before it runs.
 */
export async function intendedRowChanges(targets: ConnectedTarget[], from: string | undefined, to: string | undefined): Promise<IntendedRowChange[]> {
  const om = targets.find((t) => t.role === 'openmetadata');
  if (!om || to === undefined) return [];
  const result: IntendedRowChange[] = [];
  for (const release of releasesCrossed(from, to)) {
    for (const change of release.intended ?? []) {
      const upTo = change.bound === 'iceberg-pipelines' ? await om.dialect.openmetadata.icebergPipelineCount() : undefined;
      result.push({ ...change, release: release.version, ...(upTo === undefined ? {} : { upTo }) });
    }
  }
  return result;
}

/** "task_instance 50 → 40 (−10)" */
export function describeChange(c: RowCountChange): string {
  const sign = c.delta >= 0 ? `+${c.delta}` : `−${-c.delta}`;
  return `${c.role}.${c.table} ${c.before ?? '(absent)'} → ${c.after ?? '(absent)'} (${sign}${c.exact ? '' : ', estimated'})`;
}

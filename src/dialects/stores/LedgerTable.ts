import type { Knex } from 'knex';
import { MAX_TAIL_CHARS } from '../../process/OutputTail.js';
import { RUN_STEP, type LedgerEntry, type LedgerStatus, type LedgerStore } from '../types.js';
import { tableColumns } from './tableColumns.js';

export const LEDGER_TABLE = 'om_migrate_ledger';

interface LedgerRow {
  id: number | string;
  run_id: string;
  plan_id: string | null;
  step: string;
  target_version: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  backup_id: string | null;
  state_before: string | null;
  state_after: string | null;
  output_tail: string | null;
}

/**
 * om_migrate_ledger through knex's builders, the same on both engines. Times are ISO-8601 strings written by
 * om-migrate (one clock, one format on both engines); output tails are bounded so a migrator's 300 KB line can never
 * make the row too long for its column after the migration succeeded.
 */
export class LedgerTable implements LedgerStore {
  constructor(private readonly knex: Knex) {}

  async exists(): Promise<boolean> {
    return (await tableColumns(this.knex, undefined, LEDGER_TABLE)).length > 0;
  }

  async ensureTable(): Promise<void> {
    const columns = await tableColumns(this.knex, undefined, LEDGER_TABLE);
    if (columns.length === 0) {
      await this.knex.schema.createTable(LEDGER_TABLE, (t) => {
        t.bigIncrements('id').primary();
        t.string('run_id', 64).notNullable().index('om_migrate_ledger_run');
        t.string('plan_id', 64).nullable().index('om_migrate_ledger_plan');
        t.string('step', 128).notNullable();
        t.string('target_version', 64).notNullable();
        t.string('status', 16).notNullable();
        t.string('started_at', 32).notNullable();
        t.string('finished_at', 32).nullable();
        t.string('backup_id', 1024).nullable();
        t.text('state_before').nullable();
        t.text('state_after').nullable();
        t.text('output_tail').nullable();
      });
      return;
    }
    // A table made by om-migrate 0.1 (keyed by --to, times as DATETIME/timestamptz): its rows stay readable, its
    // times become the ISO text om-migrate writes now, and new rows carry the plan and the states.
    const missing = ['plan_id', 'state_before', 'state_after'].filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      await this.knex.schema.alterTable(LEDGER_TABLE, (t) => {
        if (missing.includes('plan_id')) t.string('plan_id', 64).nullable();
        if (missing.includes('state_before')) t.text('state_before').nullable();
        if (missing.includes('state_after')) t.text('state_after').nullable();
        t.string('started_at', 32).notNullable().alter();
        t.string('finished_at', 32).nullable().alter();
      });
    }
  }

  async start(entry: { runId: string; planId: string; step: string; targetVersion: string; stateBefore?: string | null; backupId?: string | null }): Promise<number> {
    const [inserted] = await this.knex.table(LEDGER_TABLE).insert({
      run_id: entry.runId, plan_id: entry.planId, step: entry.step, target_version: entry.targetVersion, status: 'running',
      started_at: new Date().toISOString(), backup_id: entry.backupId ?? null, state_before: entry.stateBefore ?? null,
    }, ['id']) as Array<{ id: number | string } | number>;
    return Number(typeof inserted === 'object' ? inserted.id : inserted);
  }

  async finish(id: number, status: Exclude<LedgerStatus, 'running'>, outcome: { outputTail?: string | null; stateAfter?: string | null; backupId?: string | null }): Promise<void> {
    await this.knex.table(LEDGER_TABLE).where({ id }).update({
      status, finished_at: new Date().toISOString(), output_tail: bounded(outcome.outputTail ?? null),
      state_after: outcome.stateAfter ?? null,
      ...(outcome.backupId !== undefined ? { backup_id: outcome.backupId } : {}),
    });
  }

  async abandon(exceptRunId: string, note: string): Promise<number> {
    const rows = await this.knex.table(LEDGER_TABLE).where({ status: 'running' }).whereNot({ run_id: exceptRunId }).select('id', 'output_tail') as LedgerRow[];
    for (const row of rows) {
      await this.knex.table(LEDGER_TABLE).where({ id: row.id }).update({
        status: 'interrupted', finished_at: new Date().toISOString(), output_tail: bounded([row.output_tail, note].filter(Boolean).join('\n')),
      });
    }
    return rows.length;
  }

  async ofRun(runId: string): Promise<LedgerEntry[]> {
    if (!(await this.exists())) return [];
    return entries(await this.knex.table(LEDGER_TABLE).where({ run_id: runId }).orderBy('id'));
  }

  async lastUnfinishedRun(planId: string, exceptRunId: string): Promise<LedgerEntry | undefined> {
    if (!(await this.exists())) return undefined;
    const [row] = await this.knex.table(LEDGER_TABLE).where({ plan_id: planId, step: RUN_STEP }).whereNot({ run_id: exceptRunId })
      .orderBy('id', 'desc').limit(1) as LedgerRow[];
    const entry = row ? entries([row])[0] : undefined;
    return entry && (entry.status === 'interrupted' || entry.status === 'failed') ? entry : undefined;
  }

  async lastOf(step: string, planId?: string): Promise<LedgerEntry | undefined> {
    if (!(await this.exists())) return undefined;
    const query = this.knex.table(LEDGER_TABLE).where({ step });
    if (planId !== undefined) query.andWhere({ plan_id: planId });
    const found = await query.orderBy('id', 'desc').limit(1) as LedgerRow[];
    return found.length > 0 ? entries(found)[0] : undefined;
  }

  async unfinishedRuns(): Promise<Array<{ runId: string; backupIds: string[] }>> {
    if (!(await this.exists())) return [];
    const runs = await this.knex.table(LEDGER_TABLE).where({ step: RUN_STEP }).whereNot({ status: 'done' }).select('run_id') as LedgerRow[];
    const ids = [...new Set(runs.map((r) => r.run_id))];
    if (ids.length === 0) return [];
    const rows = await this.knex.table(LEDGER_TABLE).whereIn('run_id', ids).whereNotNull('backup_id').select('run_id', 'backup_id') as LedgerRow[];
    return ids.map((runId) => ({ runId, backupIds: rows.filter((r) => r.run_id === runId).map((r) => r.backup_id!) }));
  }

  async recent(limit: number): Promise<LedgerEntry[]> {
    if (!(await this.exists())) return [];
    return entries(await this.knex.table(LEDGER_TABLE).orderBy('id', 'desc').limit(limit));
  }

  async carryOver(rows: LedgerEntry[]): Promise<void> {
    await this.ensureTable();
    const have = new Set((await this.knex.table(LEDGER_TABLE).select('id') as Array<{ id: number | string }>).map((r) => Number(r.id)));
    for (const e of [...rows].sort((a, b) => a.id - b.id)) {
      const values = {
        run_id: e.runId, plan_id: e.planId || null, step: e.step, target_version: e.targetVersion, status: e.status, started_at: e.startedAt,
        finished_at: e.finishedAt, backup_id: e.backupId, state_before: e.stateBefore, state_after: e.stateAfter, output_tail: e.outputTail,
      };
      // New rows take this table's next ids (its sequence or AUTO_INCREMENT is the backup's): order is kept, ids may differ.
      if (have.has(e.id)) await this.knex.table(LEDGER_TABLE).where({ id: e.id }).update(values);
      else await this.knex.table(LEDGER_TABLE).insert(values);
    }
  }
}

/**
 * A time as ISO-8601 UTC, whatever form it was stored in: om-migrate's own ISO text, or what om-migrate 0.1's
 * DATETIME(6) (UTC, no zone) and timestamptz became as text ("2026-11-30 18:00:00.123456", "… +00").
 */
function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  const match = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)\s*(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(String(value));
  if (!match) return String(value);
  const zone = match[3] === undefined || match[3] === 'Z' ? 'Z' : /^[+-]\d\d$/.test(match[3]) ? `${match[3]}:00` : match[3];
  const parsed = new Date(`${match[1]}T${match[2].replace(/(\.\d{3})\d+/, '$1')}${zone}`);
  return Number.isNaN(parsed.getTime()) ? String(value) : parsed.toISOString();
}

function entries(rows: LedgerRow[]): LedgerEntry[] {
  return rows.map((r) => ({
    id: Number(r.id), runId: r.run_id, planId: r.plan_id ?? '', step: r.step, targetVersion: r.target_version,
    status: r.status as LedgerStatus, startedAt: iso(r.started_at)!, finishedAt: iso(r.finished_at), backupId: r.backup_id,
    stateBefore: r.state_before ?? null, stateAfter: r.state_after ?? null, outputTail: r.output_tail,
  }));
}

function bounded(text: string | null): string | null {
  return text === null || text.length <= MAX_TAIL_CHARS ? text : text.slice(-MAX_TAIL_CHARS);
}

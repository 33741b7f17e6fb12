import type { JournalEntry, JournalStatus, RunHolderRow } from './types.js';

/** Table names shared by both engines. */
export const JOURNAL_TABLE = 'om_migrate_journal';
export const HOLDER_TABLE = 'om_migrate_lock_holder';

/** A journal row as both drivers return it (snake_case columns, SQL lists as JSON text). */
export interface JournalRow {
  id: string;
  run_id: string;
  database_name: string;
  server_name: string;
  parameter_name: string;
  scope: string;
  object_name: string | null;
  previous_value: string | null;
  previous_existed: boolean | number | string;
  new_value: string;
  apply_sql: string;
  revert_sql: string;
  status: string;
  holder: string;
  created_at: string;
  updated_at: string;
  note: string | null;
}

export function toJournalRow(e: JournalEntry): JournalRow {
  return {
    id: e.id,
    run_id: e.runId,
    database_name: e.database,
    server_name: e.server,
    parameter_name: e.parameter,
    scope: e.scope,
    object_name: e.object,
    previous_value: e.previous,
    previous_existed: e.previous !== null,
    new_value: e.next,
    apply_sql: JSON.stringify(e.applySql),
    revert_sql: JSON.stringify(e.revertSql),
    status: e.status,
    holder: e.holder,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    note: e.note,
  };
}

export function fromJournalRow(r: JournalRow): JournalEntry {
  const existed = r.previous_existed === true || Number(r.previous_existed) === 1 || r.previous_existed === 't';
  return {
    id: r.id,
    runId: r.run_id,
    database: r.database_name,
    server: r.server_name,
    parameter: r.parameter_name as JournalEntry['parameter'],
    scope: r.scope as JournalEntry['scope'],
    object: r.object_name,
    previous: existed ? r.previous_value ?? '' : null,
    next: r.new_value,
    applySql: JSON.parse(r.apply_sql) as string[],
    revertSql: JSON.parse(r.revert_sql) as string[],
    status: r.status as JournalStatus,
    holder: r.holder,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    note: r.note,
  };
}

export interface HolderRowData {
  lock_name: string;
  connection_id: string;
  run_id: string;
  host: string;
  pid: number | string;
  started_at: string;
  command: string;
}

export function fromHolderRow(r: HolderRowData): RunHolderRow {
  return {
    lockName: r.lock_name, connectionId: String(r.connection_id), runId: r.run_id, host: r.host, pid: Number(r.pid),
    startedAt: r.started_at, command: r.command,
  };
}

export const UNREVERTED: JournalStatus[] = ['pending', 'applied', 'deferred'];

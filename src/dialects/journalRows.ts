import type { RunHolderRow } from './types.js';

/** Table names shared by both engines. */
export const HOLDER_TABLE = 'om_migrate_lock_holder';

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


/** The schema (PostgreSQL) or database (MySQL) that holds the journal of admin-made changes, owned by the admin. */
export const OWN_SCHEMA = 'om_migrate';

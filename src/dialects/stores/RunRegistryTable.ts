import type { Knex } from 'knex';
import { HOLDER_TABLE } from '../tables.js';
import type { RunHolderRow, RunRegistry } from '../types.js';
import { tableColumns } from './tableColumns.js';

interface HolderRow {
  lock_name: string;
  connection_id: string;
  run_id: string;
  host: string;
  pid: number | string;
  started_at: string;
  command: string;
  child_pgid?: number | string | null;
  child_host?: string | null;
}

/**
 * om_migrate_lock_holder through knex's builders, the same on both engines: the lock holder's own description of itself
 * (MariaDB without performance_schema keeps no program names), and the process group of the migrator it runs, so that
 * a later run can tell that a killed run's migrator is still at work. The row of a lock is replaced by each new holder.
 */
export class RunRegistryTable implements RunRegistry {
  constructor(private readonly knex: Knex, private readonly sessionIdSql: string) {}

  async connectionId(): Promise<string> {
    const result = await this.knex.raw(`SELECT ${this.sessionIdSql} AS id`) as unknown;
    const rows = Array.isArray(result) ? (result[0] as Array<{ id: unknown }>) : (result as { rows: Array<{ id: unknown }> }).rows;
    return String(rows[0].id);
  }

  private async ensure(): Promise<void> {
    const columns = await tableColumns(this.knex, undefined, HOLDER_TABLE);
    if (columns.length === 0) {
      await this.knex.schema.createTable(HOLDER_TABLE, (t) => {
        t.string('lock_name', 64).primary();
        t.string('connection_id', 32).notNullable();
        t.string('run_id', 64).notNullable();
        t.string('host', 255).notNullable();
        t.integer('pid').notNullable();
        t.string('started_at', 32).notNullable();
        t.string('command', 64).notNullable();
        t.integer('child_pgid').nullable();
        t.string('child_host', 255).nullable();
      });
    } else if (!columns.includes('child_pgid')) {
      // A table made by om-migrate 0.1.
      await this.knex.schema.alterTable(HOLDER_TABLE, (t) => {
        t.integer('child_pgid').nullable();
        t.string('child_host', 255).nullable();
      });
    }
  }

  async record(row: RunHolderRow): Promise<void> {
    await this.ensure();
    await this.knex.table(HOLDER_TABLE).insert({
      lock_name: row.lockName, connection_id: row.connectionId, run_id: row.runId, host: row.host, pid: row.pid,
      started_at: row.startedAt, command: row.command, child_pgid: null, child_host: null,
    }).onConflict('lock_name').merge();
  }

  async recordChild(lockName: string, connectionId: string, child: { pgid: number; host: string } | undefined): Promise<void> {
    await this.knex.table(HOLDER_TABLE).where({ lock_name: lockName, connection_id: connectionId })
      .update({ child_pgid: child?.pgid ?? null, child_host: child?.host ?? null });
  }

  async remove(lockName: string, connectionId: string): Promise<void> {
    if ((await tableColumns(this.knex, undefined, HOLDER_TABLE)).length === 0) return;
    await this.knex.table(HOLDER_TABLE).where({ lock_name: lockName, connection_id: connectionId }).delete();
  }

  async find(lockName: string, connectionId: string): Promise<RunHolderRow | undefined> {
    const row = (await this.rowOf(lockName));
    return row && row.connectionId === connectionId ? row : undefined;
  }

  async rowOf(lockName: string): Promise<RunHolderRow | undefined> {
    if ((await tableColumns(this.knex, undefined, HOLDER_TABLE)).length === 0) return undefined;
    const row = await this.knex.table(HOLDER_TABLE).where({ lock_name: lockName }).first() as HolderRow | undefined;
    if (!row) return undefined;
    return {
      lockName: row.lock_name, connectionId: String(row.connection_id), runId: row.run_id, host: row.host, pid: Number(row.pid),
      startedAt: row.started_at, command: row.command,
      childPgid: row.child_pgid === null || row.child_pgid === undefined ? undefined : Number(row.child_pgid),
      childHost: row.child_host ?? undefined,
    };
  }
}

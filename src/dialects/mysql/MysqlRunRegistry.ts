import type { Knex } from 'knex';
import { fromHolderRow, HOLDER_TABLE, HolderRowData } from '../journalRows.js';
import type { RunHolderRow, RunRegistry } from '../types.js';
import { rows } from './rows.js';

/** The lock holder's own description of itself: MariaDB without performance_schema keeps no program names. */
export class MysqlRunRegistry implements RunRegistry {
  constructor(private readonly knex: Knex) {}

  async connectionId(): Promise<string> {
    const [row] = rows<{ id: string | number }>(await this.knex.raw('SELECT CONNECTION_ID() AS id'));
    return String(row.id);
  }

  async record(row: RunHolderRow): Promise<void> {
    await this.knex.raw(`CREATE TABLE IF NOT EXISTS ${HOLDER_TABLE} (
      lock_name VARCHAR(64) NOT NULL PRIMARY KEY, connection_id VARCHAR(32) NOT NULL, run_id VARCHAR(64) NOT NULL,
      host VARCHAR(255) NOT NULL, pid INT NOT NULL, started_at VARCHAR(32) NOT NULL, command VARCHAR(64) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    await this.knex.raw(
      `REPLACE INTO ${HOLDER_TABLE} (lock_name, connection_id, run_id, host, pid, started_at, command) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [row.lockName, row.connectionId, row.runId, row.host, row.pid, row.startedAt, row.command]);
  }

  async remove(lockName: string, connectionId: string): Promise<void> {
    if (!(await this.exists())) return;
    await this.knex.raw(`DELETE FROM ${HOLDER_TABLE} WHERE lock_name = ? AND connection_id = ?`, [lockName, connectionId]);
  }

  async find(lockName: string, connectionId: string): Promise<RunHolderRow | undefined> {
    if (!(await this.exists())) return undefined;
    const [row] = rows<HolderRowData>(await this.knex.raw(
      `SELECT * FROM ${HOLDER_TABLE} WHERE lock_name = ? AND connection_id = ?`, [lockName, connectionId]));
    return row ? fromHolderRow(row) : undefined;
  }

  private async exists(): Promise<boolean> {
    const found = rows<{ n: number }>(await this.knex.raw(
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [HOLDER_TABLE]));
    return Number(found[0].n) > 0;
  }
}

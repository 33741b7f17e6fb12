import { HOLDER_TABLE } from '../journalRows.js';
import { SqlRunRegistry } from '../SqlRunRegistry.js';
import type { RunHolderRow } from '../types.js';
import { rows } from './rows.js';

/** The lock holder's own description of itself: MariaDB without performance_schema keeps no program names. */
export class MysqlRunRegistry extends SqlRunRegistry {
  protected rows<T>(result: unknown): T[] {
    return rows<T>(result);
  }

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
}

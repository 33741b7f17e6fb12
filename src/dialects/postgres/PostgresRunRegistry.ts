import { HOLDER_TABLE } from '../journalRows.js';
import { SqlRunRegistry } from '../SqlRunRegistry.js';
import type { RunHolderRow } from '../types.js';
import { rows } from './rows.js';

/** The lock holder's own description of itself, beside what pg_stat_activity says. */
export class PostgresRunRegistry extends SqlRunRegistry {
  protected rows<T>(result: unknown): T[] {
    return rows<T>(result);
  }

  async connectionId(): Promise<string> {
    const [row] = rows<{ id: number }>(await this.knex.raw('SELECT pg_backend_pid() AS id'));
    return String(row.id);
  }

  async record(row: RunHolderRow): Promise<void> {
    await this.knex.raw(`CREATE TABLE IF NOT EXISTS ${HOLDER_TABLE} (
      lock_name VARCHAR(64) NOT NULL PRIMARY KEY, connection_id VARCHAR(32) NOT NULL, run_id VARCHAR(64) NOT NULL,
      host VARCHAR(255) NOT NULL, pid INTEGER NOT NULL, started_at VARCHAR(32) NOT NULL, command VARCHAR(64) NOT NULL)`);
    await this.knex.raw(
      `INSERT INTO ${HOLDER_TABLE} (lock_name, connection_id, run_id, host, pid, started_at, command) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (lock_name) DO UPDATE SET connection_id = EXCLUDED.connection_id, run_id = EXCLUDED.run_id,
         host = EXCLUDED.host, pid = EXCLUDED.pid, started_at = EXCLUDED.started_at, command = EXCLUDED.command`,
      [row.lockName, row.connectionId, row.runId, row.host, row.pid, row.startedAt, row.command]);
  }
}

import { SqlLedgerStore } from '../SqlLedgerStore.js';
import { rows } from './rows.js';

const COLUMNS = `id, step, target_version AS "targetVersion", run_id AS "runId", status,
  to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "startedAt",
  to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "finishedAt",
  backup_id AS "backupId", output_tail AS "outputTail"`;

export class PostgresLedgerStore extends SqlLedgerStore {
  protected readonly columns = COLUMNS;
  protected readonly now = 'now()';

  protected rows<T>(result: unknown): T[] {
    return rows<T>(result);
  }

  async ensureTable(): Promise<void> {
    await this.knex.raw(`CREATE TABLE IF NOT EXISTS om_migrate_ledger (
      id BIGSERIAL PRIMARY KEY,
      step VARCHAR(128) NOT NULL,
      target_version VARCHAR(64) NOT NULL,
      run_id VARCHAR(64) NOT NULL,
      status VARCHAR(16) NOT NULL,
      started_at TIMESTAMPTZ NOT NULL,
      finished_at TIMESTAMPTZ NULL,
      backup_id VARCHAR(1024) NULL,
      output_tail TEXT NULL)`);
    await this.knex.raw('CREATE INDEX IF NOT EXISTS om_migrate_ledger_target ON om_migrate_ledger (target_version, step)');
  }

  async start(entry: { step: string; targetVersion: string; runId: string; backupId?: string | null }): Promise<number> {
    const [row] = rows<{ id: string }>(await this.knex.raw(
      `INSERT INTO om_migrate_ledger (step, target_version, run_id, status, started_at, backup_id)
       VALUES (?, ?, ?, 'running', now(), ?) RETURNING id`,
      [entry.step, entry.targetVersion, entry.runId, entry.backupId ?? null]));
    return Number(row.id);
  }

  async abandon(exceptRunId: string, note: string): Promise<number> {
    const result = (await this.knex.raw(
      `UPDATE om_migrate_ledger SET status = 'failed', finished_at = now(), output_tail = concat_ws(E'\\n', output_tail, ?::text)
        WHERE status = 'running' AND run_id <> ?`, [note, exceptRunId])) as { rowCount: number | null };
    return result.rowCount ?? 0;
  }
}

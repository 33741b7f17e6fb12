import { SqlLedgerStore } from '../SqlLedgerStore.js';
import { rows } from './rows.js';

const COLUMNS = `id, step, target_version AS targetVersion, run_id AS runId, status,
  DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS startedAt,
  DATE_FORMAT(finished_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS finishedAt, backup_id AS backupId, output_tail AS outputTail`;

export class MysqlLedgerStore extends SqlLedgerStore {
  protected readonly columns = COLUMNS;
  protected readonly now = 'UTC_TIMESTAMP(6)';

  protected rows<T>(result: unknown): T[] {
    return rows<T>(result);
  }

  async ensureTable(): Promise<void> {
    await this.knex.raw(`CREATE TABLE IF NOT EXISTS om_migrate_ledger (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      step VARCHAR(128) NOT NULL,
      target_version VARCHAR(64) NOT NULL,
      run_id VARCHAR(64) NOT NULL,
      status VARCHAR(16) NOT NULL,
      started_at DATETIME(6) NOT NULL,
      finished_at DATETIME(6) NULL,
      backup_id VARCHAR(1024) NULL,
      output_tail TEXT NULL,
      KEY om_migrate_ledger_target (target_version, step)
    ) CHARACTER SET utf8mb4`);
  }

  async start(entry: { step: string; targetVersion: string; runId: string; backupId?: string | null }): Promise<number> {
    const [result] = (await this.knex.raw(
      `INSERT INTO om_migrate_ledger (step, target_version, run_id, status, started_at, backup_id)
       VALUES (?, ?, ?, 'running', UTC_TIMESTAMP(6), ?)`,
      [entry.step, entry.targetVersion, entry.runId, entry.backupId ?? null])) as [{ insertId: number }];
    return Number(result.insertId);
  }

  async abandon(exceptRunId: string, note: string): Promise<number> {
    const [result] = (await this.knex.raw(
      `UPDATE om_migrate_ledger SET status = 'failed', finished_at = UTC_TIMESTAMP(6), output_tail = CONCAT_WS('\\n', output_tail, ?)
        WHERE status = 'running' AND run_id <> ?`, [note, exceptRunId])) as [{ affectedRows: number }];
    return Number(result.affectedRows);
  }
}

import type { Knex } from 'knex';
import type { LedgerEntry, LedgerStore } from '../types.js';
import { rows } from './rows.js';

const COLUMNS = `id, step, target_version AS targetVersion, run_id AS runId, status,
  DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS startedAt,
  DATE_FORMAT(finished_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS finishedAt, backup_id AS backupId, output_tail AS outputTail`;

export class MysqlLedgerStore implements LedgerStore {
  constructor(private readonly knex: Knex) {}

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

  async exists(): Promise<boolean> {
    const found = rows(await this.knex.raw(
      "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'om_migrate_ledger'"));
    return found.length > 0;
  }

  async start(entry: { step: string; targetVersion: string; runId: string; backupId?: string | null }): Promise<number> {
    const [result] = (await this.knex.raw(
      `INSERT INTO om_migrate_ledger (step, target_version, run_id, status, started_at, backup_id)
       VALUES (?, ?, ?, 'running', UTC_TIMESTAMP(6), ?)`,
      [entry.step, entry.targetVersion, entry.runId, entry.backupId ?? null])) as [{ insertId: number }];
    return Number(result.insertId);
  }

  async finish(id: number, status: 'done' | 'failed', outputTail: string | null, backupId?: string | null): Promise<void> {
    await this.knex.raw(
      `UPDATE om_migrate_ledger SET status = ?, finished_at = UTC_TIMESTAMP(6), output_tail = ?, backup_id = COALESCE(?, backup_id)
        WHERE id = ?`, [status, outputTail, backupId ?? null, id]);
  }

  async abandon(exceptRunId: string, note: string): Promise<number> {
    const [result] = (await this.knex.raw(
      `UPDATE om_migrate_ledger SET status = 'failed', finished_at = UTC_TIMESTAMP(6), output_tail = CONCAT_WS('\\n', output_tail, ?)
        WHERE status = 'running' AND run_id <> ?`, [note, exceptRunId])) as [{ affectedRows: number }];
    return Number(result.affectedRows);
  }

  async done(targetVersion: string): Promise<LedgerEntry[]> {
    return this.normalize(rows<LedgerEntry>(await this.knex.raw(
      `SELECT ${COLUMNS} FROM om_migrate_ledger l
        WHERE target_version = ? AND status = 'done'
          AND id = (SELECT MAX(id) FROM om_migrate_ledger m WHERE m.step = l.step AND m.target_version = l.target_version)
        ORDER BY id`, [targetVersion])));
  }

  async forget(step: string, targetVersion: string): Promise<void> {
    await this.knex.raw("UPDATE om_migrate_ledger SET status = 'failed' WHERE step = ? AND target_version = ? AND status = 'done'",
      [step, targetVersion]);
  }

  async recent(limit: number): Promise<LedgerEntry[]> {
    return this.normalize(rows<LedgerEntry>(await this.knex.raw(
      `SELECT ${COLUMNS} FROM om_migrate_ledger ORDER BY id DESC LIMIT ?`, [limit])));
  }

  private normalize(found: LedgerEntry[]): LedgerEntry[] {
    return found.map((r) => ({ ...r, id: Number(r.id) }));
  }
}

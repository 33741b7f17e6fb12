import type { UmzugStorage } from 'umzug';
import type { LedgerStore } from '../dialects/types.js';

/** What a finished step left, for its ledger row: written when Umzug logs the migration. */
export interface StepRecord {
  rowId: number;
  outputTail: string | null;
  stateAfter: string | null;
}

/**
 * Umzug's storage contract over om_migrate_ledger, for one run: what this run has finished, and the row that says so.
 * A later run never takes an earlier run's "done" for its own: it re-plans from the live database, and every step
 * reads the live state again (the migrators are idempotent, the repair re-reads the schema).
 */
export class LedgerStorage implements UmzugStorage {
  readonly records = new Map<string, StepRecord>();

  constructor(private readonly ledger: LedgerStore, private readonly runId: string) {}

  async executed(): Promise<string[]> {
    return (await this.ledger.ofRun(this.runId)).filter((e) => e.status === 'done').map((e) => e.step);
  }

  async logMigration({ name }: { name: string }): Promise<void> {
    const record = this.records.get(name);
    if (!record) throw new Error(`no ledger row for step ${name}`);
    await this.ledger.finish(record.rowId, 'done', { outputTail: record.outputTail, stateAfter: record.stateAfter });
  }

  async unlogMigration(): Promise<void> {
    throw new Error('om-migrate steps are never reverted through the ledger');
  }
}

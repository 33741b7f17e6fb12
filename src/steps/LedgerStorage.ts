import type { UmzugStorage } from 'umzug';
import type { LedgerStore } from '../dialects/types.js';

/**
 * Umzug's storage contract over om_migrate_ledger. Umzug asks which steps ran and logs a step once it succeeded;
 * the runner records the start and failures itself, so the ledger also shows attempts that did not finish.
 */
export class LedgerStorage implements UmzugStorage {
  constructor(private readonly store: LedgerStore, private readonly targetVersion: string) {}

  async executed(): Promise<string[]> {
    return (await this.store.done(this.targetVersion)).map((e) => e.step);
  }

  /** The runner already marked the attempt done (with its output); nothing more to write. */
  async logMigration(): Promise<void> {}

  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.store.forget(name, this.targetVersion);
  }
}

/** The ledger key for a run: the target release, or "unspecified" when --to was not given. */
export function ledgerKey(targetVersion: string | undefined): string {
  return targetVersion ?? 'unspecified';
}

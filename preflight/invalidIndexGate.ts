import { finding, type Finding, type Gate, type GateContext } from '../src/core/Gate.js';

const GATE = 'invalid-indexes';

/**
 * INVALID indexes in OpenMetadata's database (PostgreSQL): a CREATE INDEX CONCURRENTLY that was interrupted — 1.13.0
 * builds its fqnHash pattern indexes that way — leaves one behind, and the migrator's `CREATE INDEX CONCURRENTLY IF NOT
 * EXISTS` then skips it and logs the statement as done: the index stays unusable for good. Before a migration that
 * would run, each one blocks with the recovery 1.13.0's migration file documents; with nothing pending it is a warning.
 */
export const invalidIndexGate: Gate = {
  id: GATE,
  title: 'Invalid indexes',
  async check(ctx: GateContext): Promise<Finding[]> {
    const target = ctx.targets.find((t) => t.role === 'openmetadata');
    if (!target) return [];
    const invalid = await target.dialect.introspect.invalidIndexes();
    if (invalid.length === 0) return [];
    const pending = ctx.input.openmetadata?.pending;
    const migrating = pending === undefined || pending.length > 0;
    const recovery = invalid.flatMap((i) => target.dialect.introspect.invalidIndexRecovery(i.name));
    return [finding(GATE, 'openmetadata', migrating ? 'block' : 'warn',
      `INVALID index(es) left by an interrupted concurrent build: ${invalid.map((i) => `${i.name} on ${i.table}`).join(', ')}; `
        + 'the migrator would skip rebuilding them and record them as done',
      `Recover as OpenMetadata's 1.13.0 migration documents, as the database owner: ${recovery.join(' ')} Then run up again: the migrator builds them anew.`,
      { indexes: invalid, recovery })];
  },
};

import { finding, type Finding, type Gate, type GateContext } from '../src/core/Gate.js';

const GATE = 'restore-cut-off';

/**
 * A restore-on-failure that was cut off (SIGKILL, a crash) left a record saying it had begun and not ended: until it is
 * settled, nobody can say without looking which state each database is in, and a new up could migrate a database the
 * operator believes restored (or the reverse). Blocks, naming each database's state as the server shows it.
 */
export const restoreInterruptedGate: Gate = {
  id: GATE,
  title: 'No restore cut off',
  async check(ctx: GateContext): Promise<Finding[]> {
    const { inspectRestore, serverKeyOf, unfinishedRestoresOf } = ctx.tools.restores;
    const records = await unfinishedRestoresOf(ctx.config.backupDir, ctx.targets.map((t) => ({ server: serverKeyOf(t.spec), database: t.spec.database })));
    const findings: Finding[] = [];
    for (const { path, record } of records) {
      const states: string[] = [];
      for (const entry of record.databases) {
        const target = ctx.targets.find((t) => t.role === entry.role);
        const admin = target ? await ctx.adminFor(target) : undefined;
        states.push(admin ? (await inspectRestore(entry, admin)).text : `${entry.database}: the restore stopped while ${entry.phase} (no admin connection to look)`);
      }
      findings.push(finding(GATE, 'run', 'block', `the restore-on-failure of run ${record.runId} was cut off: ${states.join('; ')}`,
        'Run om-migrate resolve-restore (same connection settings): it drops what the restore left half made and records the outcome; then run up again.',
        { record: path, runId: record.runId }));
    }
    return findings;
  },
};

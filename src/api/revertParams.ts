import type { RunConfig } from '../config/resolveConfig.js';
import { createParameterRun, revertLeftovers, type UnrevertedEntry } from '../params/index.js';
import type { JournalEntry } from '../dialects/types.js';
import { openTargets } from '../targets/openTargets.js';
import { withLockedTargets } from '../engine/withRunLock.js';

export interface RevertParamsResult {
  found: number;
  reverted: JournalEntry[];
  deferred: JournalEntry[];
  /** Rows that do not validate (forged, or not om-migrate's): never run, reported so that someone looks at them. */
  rejected: Array<{ id: string; journal: string; reason: string }>;
  entries: UnrevertedEntry[];
}

/**
 * `om-migrate revert-params`: puts back every parameter change that a run no longer running left behind (SIGKILL, a
 * crash, a deferral), and nothing else. It holds the run lock throughout (the one lock frame, withLockedTargets), so it
 * never touches the values of a migration in progress; losing that lock, SIGINT or SIGTERM cancel the statement it
 * runs and stop it (LOCK_LOST exit 12, INTERRUPTED exit 130): another run may hold the lock by then.
 */
export async function revertParams(config: RunConfig): Promise<RevertParamsResult> {
  const opened = await openTargets(config, 'revert-params');
  try {
    if (opened.failures.length > 0) throw opened.failures[0].error;
    return await withLockedTargets(opened.targets, config, { lockCommand: 'revert-params', cancelStatements: true }, async ({ lock, interruption }) => {
      const run = createParameterRun({
        runId: lock.runId, targets: opened.targets, adminFor: opened.adminFor, command: 'revert-params', journalDir: config.journalDir,
        signal: interruption.signal,
      });
      const { found, reverted, deferred, rejected } = await revertLeftovers(run);
      return {
        found: found.length, reverted, deferred, entries: found,
        rejected: rejected.map((r) => ({ id: r.entry.id, journal: r.journal, reason: r.reason })),
      };
    });
  } finally {
    await opened.close();
  }
}

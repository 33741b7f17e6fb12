import type { RunConfig } from '../config/resolveConfig.js';
import { OmMigrateError } from '../errors.js';
import { inspectRestore, serverKeyOf, unfinishedRestoresOf, writeRestoreRecord, type RestoreState } from '../rescue/restoreRecord.js';
import { withRunLock } from '../engine/withRunLock.js';

export interface ResolveRestoreResult {
  /** Each cut-off restore settled: its run, and the state each database was found (and is left) in. */
  resolved: Array<{ runId: string; record: string; databases: Array<RestoreState & { dropped: string[] }> }>;
}

/**
 * `om-migrate resolve-restore`: under the run lock, settles each restore-on-failure that was cut off (SIGKILL, a crash)
 * as the server shows it — nothing is guessed from the record. A database whose swap happened stays restored (its failed
 * state in the kept database); one whose swap did not happen stays the failed state, untouched, and the scratch copy
 * the restore had begun is dropped (and, MySQL, an empty kept database it had created). The record is marked resolved.
 */
export async function resolveRestore(config: RunConfig): Promise<ResolveRestoreResult> {
  return withRunLock(config, { purpose: 'resolve-restore', lockCommand: 'resolve-restore', phase: 'taking the run lock', emitPhase: () => undefined },
    async ({ opened }) => {
      const records = await unfinishedRestoresOf(config.backupDir, opened.targets.map((t) => ({ server: serverKeyOf(t.spec), database: t.spec.database })));
      const resolved: ResolveRestoreResult['resolved'] = [];
      for (const { path, record } of records) {
        const databases: Array<RestoreState & { dropped: string[] }> = [];
        for (const entry of record.databases) {
          const target = opened.targets.find((t) => t.role === entry.role);
          const admin = target ? await opened.adminFor(target) : undefined;
          if (!admin) {
            throw new OmMigrateError('USAGE', `settling the cut-off restore of ${entry.database} needs the admin connection that made it`,
              { hint: 'Give the same --admin-url (OM_MIGRATE_ADMIN_URL) as the run that was cut off.' });
          }
          const state = await inspectRestore(entry, admin);
          const dropped: string[] = [];
          // A copy never swapped in, or the database MySQL's move left empty: nothing of either state is in it.
          if (state.scratchLeft && (state.state === 'failed-state' || !(await admin.swap.holdsContent(state.scratchLeft)))) {
            await admin.scratch.drop(state.scratchLeft);
            dropped.push(state.scratchLeft);
          }
          if (state.state === 'failed-state' && (await admin.swap.exists(entry.kept)) && !(await admin.swap.holdsContent(entry.kept))) {
            await admin.scratch.drop(entry.kept);
            dropped.push(entry.kept);
          }
          entry.phase = state.state === 'restored' ? 'swapped' : 'abandoned';
          databases.push({ ...state, scratchLeft: dropped.includes(state.scratchLeft ?? '') ? null : state.scratchLeft, dropped });
        }
        record.outcome = 'resolved';
        await writeRestoreRecord(config.backupDir, record);
        resolved.push({ runId: record.runId, record: path, databases });
      }
      return { resolved };
    });
}

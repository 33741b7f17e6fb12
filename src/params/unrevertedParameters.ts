import type { JournalEntry } from '../dialects/types.js';
import type { ConnectedTarget } from '../core/Gate.js';
import { runLockName } from '../lock/lockName.js';
import { readableJournals, type ParameterRun } from './ParameterRun.js';
import { revertParameterChanges, type RevertReport } from './revertParameterChanges.js';

/** An entry not yet put back, with the target whose journal holds it and whether its run is still going. */
export interface UnrevertedEntry extends JournalEntry {
  target: ConnectedTarget['role'];
  journal: string;
  /** The run that made it still holds the run lock of that database: its change must not be touched. */
  runActive: boolean;
}

/**
 * Every entry not yet put back, in every target's journal (table and fallback file). For `status`, `up` (before
 * anything else) and `revert-params`. Read-only.
 */
export async function findUnreverted(targets: ConnectedTarget[], options: { journalDir: string }): Promise<UnrevertedEntry[]> {
  const dir = options.journalDir;
  const out: UnrevertedEntry[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    const activeRun = await activeRunId(target);
    for (const journal of await readableJournals(target, dir)) {
      let entries: JournalEntry[];
      try {
        entries = await journal.unreverted();
      } catch {
        continue; // a journal table this user may not read is reported by the privilege gate, not here
      }
      for (const entry of entries) {
        if (seen.has(entry.id)) continue;
        seen.add(entry.id);
        out.push({ ...entry, target: target.role, journal: journal.location, runActive: activeRun === entry.runId });
      }
    }
  }
  return out;
}

/** The run id of whoever holds the run lock of the target's database now, from its holder row. */
async function activeRunId(target: ConnectedTarget): Promise<string | undefined> {
  try {
    const name = runLockName(target.spec);
    const holder = await target.dialect.lock(name).holder();
    if (!holder) return undefined;
    return (await target.dialect.runs.find(name, holder.connectionId))?.runId;
  } catch {
    return undefined;
  }
}

/**
 * Puts back what runs that are no longer running left behind (after SIGKILL, a crash, or a deferral): the whole of
 * `revert-params`, and the first thing `up` does once it holds the lock.
 */
export async function revertLeftovers(run: ParameterRun): Promise<RevertReport & { found: UnrevertedEntry[] }> {
  const found = (await findUnreverted(run.targets, { journalDir: run.journalDir })).filter((e) => !e.runActive || e.runId === run.runId);
  if (found.length === 0) return { reverted: [], deferred: [], found };
  const report = await revertParameterChanges(run, { entries: found, releaseNeeds: false });
  return { ...report, found };
}

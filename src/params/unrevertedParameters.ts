import type { ConnectedTarget } from '../core/Target.js';
import type { Dialect, JournalEntry } from '../dialects/types.js';
import { runLockName } from '../lock/lockName.js';
import { readableJournals, type ParameterRun } from './ParameterRun.js';
import { entryProblem, revertParameterChanges, type RevertReport } from './revertParameterChanges.js';

/** An entry not yet put back, with the target whose journal holds it and whether its run is still going. */
export interface UnrevertedEntry extends JournalEntry {
  target: ConnectedTarget['role'];
  journal: string;
  /** The run that made it still holds the run lock of that database: its change must not be touched. */
  runActive: boolean;
  /** The value on the server now, read through the connection that may put it back; undefined when it could not be read. */
  live: string | null | undefined;
  /** The live value is the previous one already (a server restart resets SET GLOBAL): nothing is left to put back. */
  alreadyBack: boolean;
  /** Why the row will never be run (it fails validation); undefined for a row om-migrate could have written. */
  problem: string | undefined;
}

/**
 * Every entry not yet put back, in every target's journals (the application table, the admin's own, the fallback
 * file), each checked against the live server: for `status`, `up` (before anything else) and `revert-params`.
 * Read-only. An unreadable journal is an error, not "nothing to put back".
 */
export async function findUnreverted(targets: ConnectedTarget[], options: {
  journalDir: string;
  /** The admin connection of a target; without it, the admin's own journal is not read. */
  adminFor?(target: ConnectedTarget): Promise<Dialect | undefined>;
}): Promise<UnrevertedEntry[]> {
  const out: UnrevertedEntry[] = [];
  for (const target of targets) {
    const activeRun = await activeRunId(target);
    const admin = await options.adminFor?.(target);
    for (const source of await readableJournals(target, admin, options.journalDir)) {
      for (const entry of await source.store.unreverted()) {
        if (entry.database !== target.spec.database) continue;
        const via = source.kind === 'file' ? entry.via : source.kind;
        const executor = via === 'admin' ? admin : target.dialect;
        const problem = executor ? await entryProblem(entry, target, executor, via) : undefined;
        const live = executor && !problem ? await executor.params.readBack(entry).catch(() => undefined) : undefined;
        out.push({
          ...entry, target: target.role, journal: source.store.location, runActive: activeRun === entry.runId, live,
          alreadyBack: live !== undefined && executor !== undefined && executor.params.sameValue(live, entry.previous),
          problem,
        });
      }
    }
  }
  return out;
}

/** The run id of whoever holds the run lock of the target's database now, from its holder row. */
async function activeRunId(target: ConnectedTarget): Promise<string | undefined> {
  const name = runLockName(target.spec);
  const holder = await target.dialect.lock(name).holder();
  if (!holder) return undefined;
  return (await target.dialect.runs.find(name, holder.connectionId).catch(() => undefined))?.runId;
}

/**
 * Puts back what runs that are no longer running left behind (after SIGKILL, a crash, or a deferral): the whole of
 * `revert-params`, and the first thing `up` does once it holds the lock. Rows that do not validate are reported in
 * `rejected`, never run.
 */
export async function revertLeftovers(run: ParameterRun): Promise<RevertReport & { found: UnrevertedEntry[] }> {
  const found = (await findUnreverted(run.targets, { journalDir: run.journalDir, adminFor: (t) => run.adminFor(t) }))
    .filter((e) => !e.runActive || e.runId === run.runId);
  const runnable = found.filter((e) => e.problem === undefined);
  const report = runnable.length === 0 ? { reverted: [], deferred: [], rejected: [] }
    : await revertParameterChanges(run, { entries: runnable, releaseNeeds: false });
  const rejected = [...report.rejected, ...found.filter((e) => e.problem !== undefined)
    .map((e) => ({ entry: e, journal: e.journal, reason: e.problem! }))];
  return { ...report, rejected, found };
}

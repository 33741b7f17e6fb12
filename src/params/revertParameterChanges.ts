import type { Dialect, JournalEntry, JournalStore } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import type { ConnectedTarget } from '../core/Gate.js';
import { firstLine, needKey, type ParameterRun } from './ParameterRun.js';


export interface RevertReport {
  reverted: JournalEntry[];
  /** Shared values left in place because another run still needs them. */
  deferred: JournalEntry[];
}

export interface RevertOptions {
  /** The entries to put back; default: every unreverted entry of this run. */
  entries?: JournalEntry[];
  /** Also release this run's remaining needs (default true when reverting the run's own entries). */
  releaseNeeds?: boolean;
}

interface Located {
  entry: JournalEntry;
  target: ConnectedTarget;
  journal: JournalStore;
}

/**
 * Puts back entries, newest first: restores the exact previous value (or removes a setting that did not exist), reads
 * it back, and only then marks the entry reverted. A shared value still needed by another run is deferred instead.
 * Tries every entry; if any could not be put back, throws REVERT_FAILED with the exact SQL to run by hand.
 */
export async function revertParameterChanges(run: ParameterRun, options: RevertOptions = {}): Promise<RevertReport> {
  const ownRun = options.entries === undefined;
  const located = await locate(run, options.entries);
  const report: RevertReport = { reverted: [], deferred: [] };
  const failures: Array<{ item: Located; reason: string }> = [];
  for (const item of [...located].reverse()) {
    const { entry, target } = item;
    const key = needKey(entry.server, entry.parameter, entry.scope, entry.object);
    const restore = async (): Promise<void> => {
      if (key !== undefined) {
        const holder = run.needs.get(key) ?? target.dialect;
        if (run.needs.get(key)) {
          await holder.coordination.releaseNeed(key);
          run.needs.delete(key);
        }
        const others = await holder.coordination.otherNeeds(key);
        if (others > 0) {
          const note = `${others} other om-migrate session(s) still need ${entry.parameter}; put back when the last one ends`;
          await item.journal.setStatus(entry.id, 'deferred', note);
          report.deferred.push({ ...entry, status: 'deferred', note });
          await run.observer.deferred?.(entry, others);
          return;
        }
      }
      const reason = await restoreEntry(run, item);
      if (reason) failures.push({ item, reason });
      else report.reverted.push({ ...entry, status: 'reverted' });
    };
    try {
      if (key === undefined) await restore();
      else await (run.needs.get(key) ?? target.dialect).coordination.exclusive(restore);
    } catch (error) {
      failures.push({ item, reason: firstLine(error) });
    }
  }
  if (ownRun && options.releaseNeeds !== false) await releaseNeeds(run);
  if (failures.length > 0) throw revertFailed(failures);
  return report;
}

/** Releases every need this run still holds (values it needed but did not change). */
export async function releaseNeeds(run: ParameterRun): Promise<void> {
  for (const [key, dialect] of run.needs) {
    await dialect.coordination.releaseNeed(key).catch(() => undefined);
    run.needs.delete(key);
  }
}

/** Runs the revert statements, reads the value back and marks the entry; returns why it failed, if it did. */
async function restoreEntry(run: ParameterRun, { entry, target, journal }: Located): Promise<string | undefined> {
  let executor: Dialect;
  try {
    executor = await run.executorFor(target);
    await executor.params.execute(entry.revertSql);
  } catch (error) {
    return firstLine(error);
  }
  let now: string | null;
  try {
    now = await executor.params.readBack({ parameter: entry.parameter, scope: entry.scope, object: entry.object ?? undefined });
  } catch (error) {
    return `could not read ${entry.parameter} back: ${firstLine(error)}`;
  }
  if (!executor.params.sameValue(now, entry.previous)) {
    return `read back ${entry.parameter} = ${now ?? '(no setting)'}, expected ${entry.previous ?? '(no setting)'}`;
  }
  await run.observer.restored?.(entry);
  try {
    await journal.setStatus(entry.id, 'reverted');
  } catch (error) {
    return `restored, but the journal could not be updated: ${firstLine(error)}`;
  }
  await run.observer.reverted?.(entry);
  return undefined;
}

function revertFailed(failures: Array<{ item: Located; reason: string }>): OmMigrateError {
  const manualSql = failures.flatMap(({ item }) => item.entry.revertSql.map((s) => `${s};`));
  const what = failures.map(({ item, reason }) =>
    `${item.target.role} ${item.entry.parameter} (${item.entry.scope}${item.entry.object ? ` ${item.entry.object}` : ''}): ${reason}`);
  return new OmMigrateError('REVERT_FAILED',
    `could not put back ${failures.length} server parameter change(s): ${what.join('; ')}`,
    {
      hint: `Run as a privileged user on the server: ${manualSql.join(' ')} Then run om-migrate revert-params to verify and clear the journal.`,
      details: {
        manualSql,
        entries: failures.map(({ item, reason }) => ({
          id: item.entry.id, target: item.target.role, database: item.entry.database, parameter: item.entry.parameter,
          scope: item.entry.scope, object: item.entry.object, previous: item.entry.previous, next: item.entry.next,
          journal: item.journal.location, reason,
        })),
      },
    });
}

/** Finds the journal and target of each entry; without entries, every unreverted entry of this run. */
async function locate(run: ParameterRun, entries: JournalEntry[] | undefined): Promise<Located[]> {
  const found: Located[] = [];
  const seen = new Set<string>();
  for (const target of run.targets) {
    for (const journal of await run.readableJournals(target)) {
      const candidates = entries === undefined
        ? (await journal.ofRun(run.runId)).filter((e) => ['pending', 'applied', 'deferred'].includes(e.status))
        : (await journal.unreverted()).filter((e) => entries.some((w) => w.id === e.id));
      for (const entry of candidates) {
        if (seen.has(entry.id)) continue;
        seen.add(entry.id);
        found.push({ entry, target, journal });
      }
    }
  }
  return found.sort((a, b) => a.entry.createdAt.localeCompare(b.entry.createdAt) || a.entry.id.localeCompare(b.entry.id));
}

import type { ConnectedTarget } from '../core/Target.js';
import type { Dialect, JournalEntry, JournalVia, Privileges } from '../dialects/types.js';
import { isConnectionLoss } from '../dialects/connectionErrors.js';
import { OmMigrateError } from '../errors.js';
import { firstLine, needKey, type JournalSource, type ParameterRun } from './ParameterRun.js';

export interface RevertReport {
  /** Put back and read back, or found already back (a restart reset it). */
  reverted: JournalEntry[];
  /** Shared values left in place because another run still needs them. */
  deferred: JournalEntry[];
  /** Journal rows that do not validate (a parameter, scope, object, value or server om-migrate would not have written): never run. */
  rejected: RejectedEntry[];
}

export interface RejectedEntry {
  entry: JournalEntry;
  journal: string;
  reason: string;
}

export interface RevertOptions {
  /** The entries to put back; default: every unreverted entry of this run. */
  entries?: JournalEntry[];
  /** Also release this run's remaining needs (default true when reverting the run's own entries). */
  releaseNeeds?: boolean;
}

export interface Located {
  entry: JournalEntry;
  target: ConnectedTarget;
  source: JournalSource;
}

/**
 * Puts back entries, newest first, each only through the connection its journal belongs to and only once its data
 * validates: reads the live value first (a restart may have put it back already; someone else may have changed it
 * since), restores the exact previous value (or removes a setting that did not exist), reads it back, and only then
 * marks the entry reverted. A shared value still needed by another run is deferred instead. Tries every entry; if any
 * could not be put back, throws REVERT_FAILED with the exact statements to run by hand.
 */
export async function revertParameterChanges(run: ParameterRun, options: RevertOptions = {}): Promise<RevertReport> {
  const ownRun = options.entries === undefined;
  const { located, unreadable } = await locate(run, options.entries);
  const report: RevertReport = { reverted: [], deferred: [], rejected: [] };
  // `lost`: the failure was the connection going away. When every failure is that, the server itself went away: a
  // restart resets what SET GLOBAL raised and nothing can be run by hand now; an outage to report as one.
  const failures: Array<{ item?: Located; reason: string; lost?: boolean }> = [...unreadable];
  for (const item of [...located].reverse()) {
    run.signal?.throwIfAborted();
    const { entry, target, source } = item;
    const executor = await run.revertExecutor(target, source, entry);
    if (!executor) {
      failures.push({ item, reason: 'it was made through the admin connection: give --admin-url to put it back' });
      continue;
    }
    const problem = await entryProblem(entry, target, executor, source.kind === 'file' ? entry.via : source.kind);
    if (problem) {
      report.rejected.push({ entry, journal: source.store.location, reason: problem });
      continue;
    }
    const key = needKey(entry.server, entry.parameter, entry.scope, entry.object);
    const restore = async (): Promise<void> => {
      if (key !== undefined) {
        const holder = run.needs.get(key) ?? executor;
        if (run.needs.get(key)) {
          await holder.coordination.releaseNeed(key);
          run.needs.delete(key);
        }
        const others = await holder.coordination.otherNeeds(key);
        if (others > 0) {
          const note = `${others} other om-migrate session(s) still need ${entry.parameter}; put back when the last one ends`;
          await source.store.setStatus(entry.id, 'deferred', note);
          report.deferred.push({ ...entry, status: 'deferred', note });
          await run.observer.deferred?.(entry, others);
          return;
        }
      }
      const outcome = await restoreEntry(run, item, executor);
      if ('failed' in outcome) failures.push({ item, reason: outcome.failed, lost: isConnectionLoss(outcome.error) });
      else report.reverted.push({ ...entry, status: 'reverted', note: outcome.note });
    };
    try {
      if (key === undefined) await restore();
      else await (run.needs.get(key) ?? executor).coordination.exclusive(restore);
    } catch (error) {
      failures.push({ item, reason: firstLine(error), lost: isConnectionLoss(error) });
    }
  }
  if (ownRun && options.releaseNeeds !== false) await releaseNeeds(run);
  if (failures.length > 0) throw failures.every((f) => f.lost) ? serverGone(failures) : revertFailed(failures);
  return report;
}

/**
 * Why an entry must not be run: it fails the dialect's allow-list, belongs to another database's target, names an
 * object other than the target's own database or role, or a server other than the one this connection reaches; or it
 * sits in the application's journal but describes a change the application connection may not make (only the admin
 * could have made it, and the admin never journals there): a row the application user wrote to have a privileged
 * value put back, or to have the operator told to run it by hand.
 */
export async function entryProblem(entry: JournalEntry, target: ConnectedTarget, executor: Dialect,
  via: JournalVia = 'admin'): Promise<string | undefined> {
  const invalid = executor.params.validate(entry);
  if (invalid) return invalid;
  const expected = entry.scope === 'database' ? target.spec.database : entry.scope === 'role' ? target.spec.user : null;
  if (entry.object !== expected) return `it names ${entry.object ?? 'nothing'} where ${target.role}'s ${entry.scope} scope is ${expected ?? 'nothing'}`;
  if (via === 'application' && !applicationMayChange(entry, target.privileges)) {
    return `${target.spec.user} may not change ${entry.parameter} at ${entry.scope} scope, so om-migrate never made this change through it`;
  }
  const server = await executor.params.serverIdentity();
  if (entry.server !== server) return `it was written for server ${entry.server}, not ${server}`;
  return undefined;
}

/** Whether the application connection itself could have made a change at this scope. */
function applicationMayChange(entry: JournalEntry, privileges: Privileges): boolean {
  switch (entry.scope) {
    case 'global': return privileges.canSetGlobal;
    case 'system': return privileges.superuser;
    case 'database': return privileges.databaseOwner || privileges.superuser;
    default: return true; // a role may change its own settings
  }
}

/** Releases every need this run still holds (values it needed but did not change). */
export async function releaseNeeds(run: ParameterRun): Promise<void> {
  for (const [key, dialect] of run.needs) {
    await dialect.coordination.releaseNeed(key).catch(() => undefined);
    run.needs.delete(key);
  }
}

/** Reads the live value, puts the previous one back if needed, reads it back and marks the entry. */
async function restoreEntry(run: ParameterRun, { entry, source }: Located, executor: Dialect): Promise<{ note: string | null } | { failed: string; error?: unknown }> {
  const params = executor.params;
  let live: string | null;
  try {
    live = await params.readBack(entry);
  } catch (error) {
    return { failed: `could not read ${entry.parameter}: ${firstLine(error)}`, error };
  }
  let note: string | null = null;
  if (params.sameValue(live, entry.previous)) {
    note = 'already at its previous value (the server was restarted, or someone put it back)';
  } else if (!params.sameValue(live, entry.next)) {
    note = `left as found: ${live ?? '(no setting)'} is neither the ${entry.next} om-migrate set nor the ${entry.previous ?? '(no setting)'} before; `
      + 'someone changed it since';
  } else {
    try {
      await params.revert(entry);
    } catch (error) {
      return { failed: firstLine(error), error };
    }
    let now: string | null;
    try {
      now = await params.readBack(entry);
    } catch (error) {
      return { failed: `could not read ${entry.parameter} back: ${firstLine(error)}`, error };
    }
    if (!params.sameValue(now, entry.previous)) {
      return { failed: `read back ${entry.parameter} = ${now ?? '(no setting)'}, expected ${entry.previous ?? '(no setting)'}` };
    }
  }
  await run.observer.restored?.(entry);
  try {
    await source.store.setStatus(entry.id, 'reverted', note);
  } catch (error) {
    return { failed: `restored, but the journal could not be updated: ${firstLine(error)}`, error };
  }
  await run.observer.reverted?.(entry);
  return { note };
}

/** The server went away before everything was put back: the journal keeps what is left for the next run. */
function serverGone(failures: Array<{ item?: Located; reason: string }>): OmMigrateError {
  return new OmMigrateError('DB_UNAVAILABLE',
    `lost the database server while putting parameters back: ${failures.map((f) => f.reason).slice(0, 2).join('; ')}`, {
      hint: 'Once it is back, om-migrate status shows what is left (a restart resets what SET GLOBAL raised), and '
        + 'om-migrate revert-params (or the next up) puts back the rest.',
      details: { unreverted: failures.flatMap(({ item }) => (item ? [{ id: item.entry.id, parameter: item.entry.parameter, scope: item.entry.scope }] : [])) },
    });
}

function revertFailed(failures: Array<{ item?: Located; reason: string }>): OmMigrateError {
  const manualSql = failures.flatMap(({ item }) => item ? item.target.dialect.params.revertStatements(item.entry).map((s) => `${s};`) : []);
  const what = failures.map(({ item, reason }) => (item
    ? `${item.target.role} ${item.entry.parameter} (${item.entry.scope}${item.entry.object ? ` ${item.entry.object}` : ''}): ${reason}` : reason));
  return new OmMigrateError('REVERT_FAILED',
    `could not put back ${failures.length} server parameter change(s): ${what.join('; ')}`,
    {
      hint: `Run as a privileged user on the server: ${manualSql.join(' ')} Then run om-migrate revert-params to verify and clear the journal.`,
      details: {
        manualSql,
        unreadable: failures.filter((f) => !f.item).map((f) => f.reason),
        entries: failures.flatMap(({ item, reason }) => (!item ? [] : [{
          id: item.entry.id, target: item.target.role, database: item.entry.database, parameter: item.entry.parameter,
          scope: item.entry.scope, object: item.entry.object, previous: item.entry.previous, next: item.entry.next,
          journal: item.source.store.location, reason,
        }])),
      },
    });
}

/**
 * Finds the journal and target of each entry; without entries, every unreverted entry of this run. Only a target's
 * own database's rows are considered: the admin's journal on a MySQL server is shared by every installation on it.
 */
async function locate(run: ParameterRun, entries: JournalEntry[] | undefined): Promise<{ located: Located[]; unreadable: Array<{ reason: string; lost: boolean }> }> {
  const found: Located[] = [];
  const unreadable: Array<{ reason: string; lost: boolean }> = [];
  const seen = new Set<string>();
  for (const target of run.targets) {
    const readable = await run.readableJournals(target, (reason, error) => unreadable.push({ reason, lost: isConnectionLoss(error) }))
      .catch((error: unknown) => {
        if (!isConnectionLoss(error)) throw error;
        unreadable.push({ reason: `${target.role}: ${firstLine(error)}`, lost: true });
        return [];
      });
    for (const source of readable) {
      let candidates: JournalEntry[];
      try {
        candidates = entries === undefined
          ? (await source.store.ofRun(run.runId)).filter((e) => ['pending', 'applied', 'deferred'].includes(e.status))
          : (await source.store.unreverted()).filter((e) => entries.some((w) => w.id === e.id));
      } catch (error) {
        unreadable.push({ reason: `${source.store.location} could not be read: ${firstLine(error)}`, lost: isConnectionLoss(error) });
        continue;
      }
      for (const entry of candidates) {
        if (entry.database !== target.spec.database || seen.has(`${source.store.location}|${entry.id}`)) continue;
        seen.add(`${source.store.location}|${entry.id}`);
        found.push({ entry, target, source });
      }
    }
  }
  found.sort((a, b) => a.entry.createdAt.localeCompare(b.entry.createdAt) || a.entry.id.localeCompare(b.entry.id));
  return { located: found, unreadable };
}

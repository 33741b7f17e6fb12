import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RunConfig } from '../config/resolveConfig.js';
import type { Dialect, JournalEntry, JournalStore, ParameterChangePlan, ParameterScope } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { defaultJournalDir, FileJournalStore, journalFilePath } from './FileJournalStore.js';
import type { ConnectedTarget } from './Gate.js';
import { runLockName } from './lockName.js';
import { parameterGroupHint } from './managedHint.js';

/**
 * Server parameter changes with a journal written before each change and a verified revert.
 *
 * Sharing: a value that reaches beyond one database (MySQL GLOBAL, PostgreSQL role or system settings) may be needed
 * by several runs at once — OpenMetadata and Airflow on one server, or two installations on one server. Every run that
 * needs such a value holds a "need" on its pinned connection for as long as it runs (whether or not it changed the
 * value), and a run puts a shared value back only when, under the server's parameter mutex, no other session holds a
 * need for it. Otherwise its entry becomes `deferred`: the next om-migrate run on that database (`up`, `revert-params`)
 * puts it back once nobody needs it. Needs die with their session, so a killed run never blocks a revert.
 */

/** One parameter a run wants raised. `plan` reads the current state through the given connection and is read-only. */
export interface ParameterRequest {
  target: ConnectedTarget;
  parameter: ParameterChangePlan['parameter'];
  scope: ParameterScope;
  /** Role or database the setting is attached to (PostgreSQL role/database scope). */
  object?: string;
  plan(dialect: Dialect): Promise<ParameterChangePlan | undefined>;
}

/** sort_buffer_size (GLOBAL) or work_mem (at --work-mem-scope) raised to the configured minimum for one target. */
export function sortMemoryRequest(target: ConnectedTarget,
  config: Pick<RunConfig, 'sortBufferBytes' | 'workMemBytes' | 'workMemScope'>): ParameterRequest {
  const who = { role: target.spec.user, database: target.spec.database };
  if (target.dialect.capabilities.sortMemoryParameter === 'sort_buffer_size') {
    return {
      target, parameter: 'sort_buffer_size', scope: 'global',
      plan: (d) => d.params.planSortMemory(config.sortBufferBytes, 'global', who),
    };
  }
  const scope = config.workMemScope;
  return {
    target, parameter: 'work_mem', scope,
    object: scope === 'role' ? who.role : scope === 'database' ? who.database : undefined,
    plan: (d) => d.params.planSortMemory(config.workMemBytes, scope, who),
  };
}

/** log_bin_trust_function_creators = 1 (MySQL family with binary logging on); the plan is empty when not needed. */
export function trustFunctionCreatorsRequest(target: ConnectedTarget): ParameterRequest {
  return { target, parameter: 'log_bin_trust_function_creators', scope: 'global', plan: (d) => d.params.planTrustFunctionCreators() };
}

/** Observes a run's parameter changes: progress output for the CLI, and the points where tests kill a run. */
export interface ParameterObserver {
  /** The entry is written; the change is not made yet. */
  journaled?(entry: JournalEntry): void | Promise<void>;
  applied?(entry: JournalEntry): void | Promise<void>;
  /** The revert statements ran and the read-back matched; the entry is not marked yet. */
  restored?(entry: JournalEntry): void | Promise<void>;
  reverted?(entry: JournalEntry): void | Promise<void>;
  deferred?(entry: JournalEntry, otherRuns: number): void | Promise<void>;
}

export interface ParameterRunOptions {
  /** The run's id; the run lock's id when there is one (RunLock.runId). */
  runId?: string;
  targets: ConnectedTarget[];
  /** The privileged connection for a target (--admin-url / --airflow-admin-url), undefined when none is configured. */
  adminFor(target: ConnectedTarget): Promise<Dialect | undefined>;
  /** Directory of the fallback journal files; defaults to OM_MIGRATE_JOURNAL_DIR or ~/.om-migrate. */
  journalDir?: string;
  /** What the journal says made the change; defaults to "om-migrate up pid=… host=…". */
  command?: string;
  observer?: ParameterObserver;
}

/** The parameter state of one run: its journals, the needs it holds, the values it changed. */
export class ParameterRun {
  readonly runId: string;
  readonly targets: ConnectedTarget[];
  readonly holder: string;
  readonly observer: ParameterObserver;
  private readonly adminForTarget: ParameterRunOptions['adminFor'];
  readonly journalDir: string;
  private readonly journals = new Map<ConnectedTarget, JournalStore>();
  /** need key → the connection holding the need. */
  readonly needs = new Map<string, Dialect>();
  /** need keys whose value this run changed, so a second target on the same server does not change it again. */
  readonly changedKeys = new Set<string>();
  private seq = 0;
  /** Set when the revert begins: a change still being requested after that (a step that ignored its abort) is refused. */
  closed = false;

  constructor(options: ParameterRunOptions) {
    this.runId = options.runId ?? randomUUID();
    this.targets = options.targets;
    this.adminForTarget = options.adminFor;
    this.journalDir = options.journalDir ?? defaultJournalDir();
    this.holder = `om-migrate ${options.command ?? 'up'} pid=${process.pid} host=${hostname()} since=${new Date().toISOString()}`;
    this.observer = options.observer ?? {};
  }

  nextEntryId(): string {
    this.seq += 1;
    return `${this.runId}:${String(this.seq).padStart(4, '0')}`;
  }

  /** The connection that changes parameters for a target: the admin connection when configured, else the app user. */
  async executorFor(target: ConnectedTarget): Promise<Dialect> {
    return (await this.adminForTarget(target)) ?? target.dialect;
  }

  hasAdmin(target: ConnectedTarget): Promise<boolean> {
    return this.adminForTarget(target).then((d) => d !== undefined);
  }

  /** The table in the target database; the local file when the table cannot be created or written. */
  async journalFor(target: ConnectedTarget): Promise<JournalStore> {
    const known = this.journals.get(target);
    if (known) return known;
    let store: JournalStore = target.dialect.journal;
    try {
      await store.ensure();
    } catch {
      store = fileJournal(target, this.journalDir);
      await store.ensure();
    }
    this.journals.set(target, store);
    return store;
  }

  /** Every journal that may hold entries for a target: the table and the fallback file. */
  async readableJournals(target: ConnectedTarget): Promise<JournalStore[]> {
    return readableJournals(target, this.journalDir);
  }
}

export function createParameterRun(options: ParameterRunOptions): ParameterRun {
  return new ParameterRun(options);
}

function fileJournal(target: ConnectedTarget, dir: string): FileJournalStore {
  return new FileJournalStore(journalFilePath(dir, target.spec), dir);
}

async function readableJournals(target: ConnectedTarget, dir: string): Promise<JournalStore[]> {
  const list: JournalStore[] = [target.dialect.journal];
  const file = fileJournal(target, dir);
  if (file.exists()) list.push(file);
  return list;
}

/**
 * The key under which runs share a value, or undefined when the value belongs to one database only (PostgreSQL
 * database scope: the run lock on that database already keeps other runs away).
 */
export function needKey(server: string, parameter: string, scope: ParameterScope, object: string | null | undefined): string | undefined {
  if (scope === 'database') return undefined;
  return scope === 'role' ? `${server}|${parameter}|role:${object ?? ''}` : `${server}|${parameter}|${scope}`;
}

/**
 * Journals, then applies each request whose value is not high enough yet, through the admin connection when one is
 * configured, else the application user. Requests already satisfied still register the run's need for a shared value.
 * A privilege refusal puts back what this call already changed and throws BLOCKED; the refused entry is marked
 * `refused` (nothing changed). Returns the entries applied.
 */
export async function applyParameterChanges(run: ParameterRun, requests: ParameterRequest[]): Promise<JournalEntry[]> {
  const applied: JournalEntry[] = [];
  for (const request of requests) {
    const executor = await run.executorFor(request.target);
    const server = await executor.params.serverIdentity();
    const key = needKey(server, request.parameter, request.scope, request.object);
    const change = async (): Promise<void> => {
      if (run.closed) {
        throw new OmMigrateError('INTERRUPTED', 'the run is putting its parameters back; no further change is made');
      }
      if (key !== undefined) {
        if (run.changedKeys.has(key)) return;
        if (!run.needs.has(key)) {
          await request.target.dialect.coordination.holdNeed(key);
          run.needs.set(key, request.target.dialect);
        }
      }
      // Planned now, under the mutex and after the need is held, so that no run can revert the value in between.
      const plan = await request.plan(executor);
      if (!plan) return;
      const journal = await run.journalFor(request.target);
      const now = new Date().toISOString();
      const entry: JournalEntry = {
        id: run.nextEntryId(), runId: run.runId, database: request.target.spec.database, server,
        parameter: plan.parameter, scope: plan.scope, object: plan.object ?? null, previous: plan.previous, next: plan.next,
        applySql: plan.apply, revertSql: plan.revert, status: 'pending', holder: run.holder, createdAt: now, updatedAt: now, note: null,
      };
      await journal.insert(entry);
      await run.observer.journaled?.(entry);
      try {
        await executor.params.execute(plan.apply);
      } catch (error) {
        if (!executor.params.isPrivilegeRefusal(error)) throw error; // the entry stays pending: the revert covers it
        await journal.setStatus(entry.id, 'refused', firstLine(error));
        if (applied.length > 0) await revertParameterChanges(run, { entries: applied, releaseNeeds: false });
        throw await refusalError(run, request, plan, error);
      }
      await journal.setStatus(entry.id, 'applied');
      entry.status = 'applied';
      if (key !== undefined) run.changedKeys.add(key);
      applied.push(entry);
      await run.observer.applied?.(entry);
    };
    if (key === undefined) await change();
    else await request.target.dialect.coordination.exclusive(change);
  }
  return applied;
}

async function refusalError(run: ParameterRun, request: ParameterRequest, plan: ParameterChangePlan, error: unknown): Promise<OmMigrateError> {
  const { target } = request;
  const viaAdmin = await run.hasAdmin(target);
  const who = viaAdmin ? 'the --admin-url account' : `${target.spec.user} (no --admin-url given)`;
  const managed = target.server.managed;
  const place = parameterGroupHint(target.dialect.engine, plan.parameter, plan.next, managed);
  return new OmMigrateError('BLOCKED',
    `${target.role}: the server refused ${plan.apply[0]} for ${who}: ${firstLine(error)}; nothing was changed`,
    {
      cause: error,
      hint: `${viaAdmin ? '' : 'Give --admin-url (OM_MIGRATE_ADMIN_URL) with an account that may change server parameters, or '}${place}`,
      details: { target: target.role, parameter: plan.parameter, scope: plan.scope, sql: plan.apply, managed: managed ?? null },
    });
}


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
export async function findUnreverted(targets: ConnectedTarget[], options: { journalDir?: string } = {}): Promise<UnrevertedEntry[]> {
  const dir = options.journalDir ?? defaultJournalDir();
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
export async function revertLeftovers(run: ParameterRun, options: { journalDir?: string } = {}): Promise<RevertReport & { found: UnrevertedEntry[] }> {
  const found = (await findUnreverted(run.targets, { journalDir: options.journalDir ?? run.journalDir })).filter((e) => !e.runActive || e.runId === run.runId);
  if (found.length === 0) return { reverted: [], deferred: [], found };
  const report = await revertParameterChanges(run, { entries: found, releaseNeeds: false });
  return { ...report, found };
}

function firstLine(error: unknown): string {
  const e = error as { message?: string };
  return String(e?.message ?? error).split('\n')[0];
}

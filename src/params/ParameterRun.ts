import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RunConfig } from '../config/resolveConfig.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { Dialect, JournalEntry, JournalStore, JournalVia, ParameterScope, ParameterSetting } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { FileJournalStore, journalFilePath } from './FileJournalStore.js';

/**
 * Server parameter changes with a journal written before each change and a verified revert.
 *
 * Trust follows privilege: a change made through the admin connection is journaled in the admin's own schema
 * (Dialect.ownJournal), one made through the application connection in the application database. An entry is only
 * ever put back through the connection its journal belongs to, after its data validates against the allow-list; no
 * statement is read back from a table.
 *
 * Sharing: a value that reaches beyond one database (MySQL GLOBAL, PostgreSQL role or system settings) may be needed
 * by several runs at once — OpenMetadata and Airflow on one server, or two installations on one server. Every run that
 * needs such a value holds a "need" for as long as it runs (whether or not it changed the value), on the connection
 * that changes it (the admin's when there is one), and a run puts a shared value back only when, under the server's
 * parameter mutex, no other session of that account (or a superuser's) holds a need for it: lock names are free for
 * anyone to take, and an application session holding them must not keep a value raised or hold a run up. Otherwise its entry becomes `deferred`: the next om-migrate run on that database (`up`, `revert-params`)
 * puts it back once nobody needs it. Needs die with their session, so a killed run never blocks a revert.
 */

/** One parameter a run wants raised. `plan` reads the current state through the given connection and is read-only. */
export interface ParameterRequest {
  target: ConnectedTarget;
  parameter: ParameterSetting['parameter'];
  scope: ParameterScope;
  /** Role or database the setting is attached to (PostgreSQL role/database scope). */
  object?: string;
  plan(dialect: Dialect): Promise<ParameterSetting | undefined>;
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

/** The request for one of the parameters om-migrate raises, for one target. */
export function parameterRequestFor(target: ConnectedTarget, parameter: ParameterSetting['parameter'],
  config: Pick<RunConfig, 'sortBufferBytes' | 'workMemBytes' | 'workMemScope'>): ParameterRequest {
  return parameter === 'log_bin_trust_function_creators' ? trustFunctionCreatorsRequest(target) : sortMemoryRequest(target, config);
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
  /** Something the operator should know that does not stop the run (a journal that fell back to a local file). */
  warning?(text: string): void;
}

export interface ParameterRunOptions {
  /** The run's id; the run lock's id when there is one (RunLock.runId). */
  runId?: string;
  targets: ConnectedTarget[];
  /** The privileged connection for a target (--admin-url / --airflow-admin-url), undefined when none is configured. */
  adminFor(target: ConnectedTarget): Promise<Dialect | undefined>;
  /** Directory of the fallback journal files (RunConfig.journalDir). */
  journalDir: string;
  /** What the journal says made the change; defaults to "om-migrate up pid=… host=…". */
  command?: string;
  observer?: ParameterObserver;
  /**
   * revert-params: aborted when it loses its run lock (or SIGINT/SIGTERM): no further value is put back, another run may
   * own them now. Never given by up, which must put its values back after an interruption.
   */
  signal?: AbortSignal;
}

/** A journal a target's entries may be in, and the connection that alone may put them back. */
export interface JournalSource {
  store: JournalStore;
  /** 'file': the local fallback, trusted (0600 in a private directory); its entries say which connection made them. */
  kind: JournalVia | 'file';
}

/** The parameter state of one run: its journals, the needs it holds, the values it changed. */
export class ParameterRun {
  readonly runId: string;
  readonly targets: ConnectedTarget[];
  readonly holder: string;
  readonly observer: ParameterObserver;
  private readonly adminForTarget: ParameterRunOptions['adminFor'];
  readonly journalDir: string;
  private readonly journals = new Map<string, JournalStore>();
  /** need key → the connection holding the need. */
  readonly needs = new Map<string, Dialect>();
  /** need keys whose value this run changed, so a second target on the same server does not change it again. */
  readonly changedKeys = new Set<string>();
  private seq = 0;
  /** Set when the revert begins: a change still being requested after that (a step that ignored its abort) is refused. */
  closed = false;
  readonly signal: AbortSignal | undefined;

  constructor(options: ParameterRunOptions) {
    this.runId = options.runId ?? randomUUID();
    this.targets = options.targets;
    this.adminForTarget = options.adminFor;
    this.journalDir = options.journalDir;
    this.holder = `om-migrate ${options.command ?? 'up'} pid=${process.pid} host=${hostname()} since=${new Date().toISOString()}`;
    this.observer = options.observer ?? {};
    this.signal = options.signal;
  }

  nextEntryId(): string {
    this.seq += 1;
    return `${this.runId}:${String(this.seq).padStart(4, '0')}`;
  }

  adminFor(target: ConnectedTarget): Promise<Dialect | undefined> {
    return this.adminForTarget(target);
  }

  /** The connection that changes parameters for a target, and which one it is. */
  async executorFor(target: ConnectedTarget): Promise<{ dialect: Dialect; via: JournalVia }> {
    const admin = await this.adminForTarget(target);
    return admin ? { dialect: admin, via: 'admin' } : { dialect: target.dialect, via: 'application' };
  }

  /** The connection allowed to put back an entry of a journal source: the one its journal belongs to. */
  async revertExecutor(target: ConnectedTarget, source: JournalSource, entry: JournalEntry): Promise<Dialect | undefined> {
    const via = source.kind === 'file' ? entry.via : source.kind;
    return via === 'admin' ? this.adminForTarget(target) : target.dialect;
  }

  /**
   * Where a change made through `via` is journaled: the admin's own schema, or the application database; a local file
   * only when the table cannot be created for want of privilege (with a warning: a file does not survive the container).
   */
  async journalFor(target: ConnectedTarget, via: JournalVia): Promise<JournalStore> {
    const key = `${target.role}|${via}`;
    const known = this.journals.get(key);
    if (known) return known;
    let store: JournalStore;
    try {
      if (via === 'admin') {
        const admin = (await this.adminForTarget(target))!;
        // The admin connection was handed out only once no application grant reaches this location (exposureTo).
        store = await ownJournalOrBlock(target, admin);
        if (target.privileges.canSetGlobal || target.privileges.superuser) {
          this.observer.warning?.(`${target.spec.user} may change server parameters itself: the application user is as privileged as the admin, `
            + `so ${store.location} cannot be protected from it`);
        }
      } else {
        store = target.dialect.journal;
      }
      await store.ensure();
    } catch (error) {
      if (!isPrivilegeRefusal(error)) throw error;
      store = fileJournal(target, this.journalDir);
      await store.ensure();
      this.observer.warning?.(`the journal table could not be created (${firstLine(error)}): journaling to ${store.location}, `
        + 'which does not survive a container restart');
    }
    this.journals.set(key, store);
    return store;
  }

  /** Every journal that may hold entries for a target, read-only: the application table, the admin's, the file. */
  async readableJournals(target: ConnectedTarget, onUnreadable?: (reason: string, error: unknown) => void): Promise<JournalSource[]> {
    return readableJournals(target, await this.adminForTarget(target), this.journalDir, onUnreadable);
  }
}

export function createParameterRun(options: ParameterRunOptions): ParameterRun {
  return new ParameterRun(options);
}

async function ownJournalOrBlock(target: ConnectedTarget, admin: Dialect): Promise<JournalStore> {
  try {
    return await admin.ownJournal();
  } catch (error) {
    if (isPrivilegeRefusal(error)) throw error;
    throw new OmMigrateError('BLOCKED', `${target.role}: the admin journal cannot be trusted: ${firstLine(error)}; nothing was changed`, {
      hint: 'Drop that schema (it is not om-migrate\'s), or check who created it; om-migrate journals admin-made changes only where the admin alone can write.',
      cause: error,
    });
  }
}

function fileJournal(target: ConnectedTarget, dir: string): FileJournalStore {
  return new FileJournalStore(journalFilePath(dir, target.spec), dir);
}

/**
 * The journals of a target. The admin's own is looked up through the admin connection; when that fails (the connection
 * is gone, the schema is not ours) the others are still returned and `onUnreadable` says why, or the error is thrown.
 */
export async function readableJournals(target: ConnectedTarget, admin: Dialect | undefined, dir: string,
  onUnreadable?: (reason: string, error: unknown) => void): Promise<JournalSource[]> {
  const list: JournalSource[] = [{ store: target.dialect.journal, kind: 'application' }];
  try {
    const own = admin ? await admin.existingOwnJournal() : undefined;
    if (own) list.push({ store: own, kind: 'admin' });
  } catch (error) {
    if (!onUnreadable) throw error;
    onUnreadable(`${target.role}: the admin journal could not be read: ${firstLine(error)}`, error);
  }
  const file = fileJournal(target, dir);
  if (file.exists()) list.push({ store: file, kind: 'file' });
  return list;
}

/** MySQL 1142/1044 (command or database denied) and 1227; PostgreSQL 42501: the user may not create or write there. */
export function isPrivilegeRefusal(error: unknown): boolean {
  const e = error as { errno?: number; code?: string };
  return [1044, 1142, 1227].includes(e.errno ?? 0) || e.code === '42501';
}

/**
 * The key under which runs share a value, or undefined when the value belongs to one database only (PostgreSQL
 * database scope: the run lock on that database already keeps other runs away).
 */
export function needKey(server: string, parameter: string, scope: ParameterScope, object: string | null | undefined): string | undefined {
  if (scope === 'database') return undefined;
  return scope === 'role' ? `${server}|${parameter}|role:${object ?? ''}` : `${server}|${parameter}|${scope}`;
}

export function firstLine(error: unknown): string {
  const e = error as { message?: string };
  return String(e?.message ?? error).split('\n')[0];
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RunConfig } from '../config/resolveConfig.js';
import type { Dialect, JournalEntry, JournalStore, ParameterChangePlan, ParameterScope } from '../dialects/types.js';
import { FileJournalStore, journalFilePath } from './FileJournalStore.js';
import type { ConnectedTarget } from '../core/Gate.js';
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
  /** Directory of the fallback journal files (RunConfig.journalDir). */
  journalDir: string;
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
    this.journalDir = options.journalDir;
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

export async function readableJournals(target: ConnectedTarget, dir: string): Promise<JournalStore[]> {
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

export function firstLine(error: unknown): string {
  const e = error as { message?: string };
  return String(e?.message ?? error).split('\n')[0];
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TargetRole } from '../config/ConnectionSpec.js';
import { connect } from '../dialects/connect.js';
import { isConnectionLoss } from '../dialects/connectionErrors.js';
import type { AdvisoryLock, Dialect, RunHolderRow } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import type { ConnectedTarget } from '../core/Gate.js';
import { runLockName } from './lockName.js';

/** Who holds a run lock, as precisely as can be told. */
export interface LockHolderDescription {
  target: TargetRole;
  lockName: string;
  connectionId: string;
  runId: string | undefined;
  host: string | undefined;
  pid: number | undefined;
  startedAt: string | undefined;
  command: string | undefined;
  /** The server's own view: program/application name, client address. */
  program: string | undefined;
  clientAddress: string | undefined;
  /** One line for messages: "om-migrate up pid=42 on web-1 since 2025-…". */
  text: string;
  /** What the holder's server session is executing now, when the server shows it. */
  statement: string | undefined;
  /** The statement that ends the holder's session (and frees the lock with it). */
  endSession: string;
}

/**
 * The lock is freed only when the holder's server session ends. A process that is gone may have left its session
 * behind: a lost host's connection stays open on the server until TCP gives up, and a statement the session is running
 * goes on (an old om-migrate ran its repair on the lock's own session). So never "it is already free": name the session,
 * what it runs, and how to end it.
 */
function lockHeldHint(holder: LockHolderDescription | undefined, timeoutMs: number): string {
  const wait = timeoutMs > 0 ? `It did not finish within --lock-timeout ${Math.round(timeoutMs / 1000)} s; wait for it`
    : 'Wait for it to finish (or give --lock-timeout to wait)';
  if (!holder) return `${wait}, then run again.`;
  const running = holder.statement ? `, which is still running: ${holder.statement.replace(/\s+/g, ' ').slice(0, 120)}` : '';
  return `${wait}. The lock belongs to server session ${holder.connectionId}${running}; it is freed only when that session ends. `
    + `If that process is gone, end its session (${holder.endSession})${running ? ' — its statement stops with it' : ''}, then run again.`;
}

export interface RunLock {
  runId: string;
  startedAt: string;
  /**
   * Checks every few seconds, on each lock's own session, that the lock is still held by the session that took it;
   * calls onLost once, with LOCK_LOST, when it is not (the server dropped the session: wait_timeout, a restart, a KILL)
   * or the server cannot be asked. A second run may then take the lock: this one must stop at once. The lock's session
   * runs nothing else, so a check never waits behind the work (an ALTER waiting hours for a table lock).
   */
  watch(onLost: (error: OmMigrateError) => void, intervalMs?: number): void;
  /** Records the process group of the migrator this run is running now (undefined when none), for a later run to find. */
  recordChild(pgid: number | undefined): Promise<void>;
  /** The holder row each lock had before this run took it: a killed run's, naming the migrator it may have left running. */
  previousHolder(role: TargetRole): RunHolderRow | undefined;
  /** Releases every lock and removes the holder rows; safe to call twice. Dying with the process frees them too. */
  release(): Promise<void>;
}

/** How often a held lock is checked: a lost lock is noticed within this, and a second run cannot overlap longer. */
export const LOCK_CHECK_MS = 2000;

export interface RunLockOptions {
  runId?: string;
  command?: string;
  /** How long to wait for the server when opening each lock's own session (--connect-timeout; default 10 s). */
  connectTimeoutMs?: number;
  /** false: write no holder row (restore: the database it locks must stay empty). Default true. */
  recordHolder?: boolean;
}

/**
 * Takes the session-scoped advisory lock of every target's database (GET_LOCK / pg_try_advisory_lock), waiting up to
 * timeoutMs for each, on a session of its own per target: the work's pinned connection may be busy for hours with one
 * statement, and the lock's keep-alive and check must never queue behind it. It writes a holder row (run id, host,
 * pid, start, command) in the database so that a second run can name this one: MariaDB keeps no connection program
 * names without performance_schema. A killed holder's session ends, and with it the lock; its stale row is ignored
 * because rows are matched by the connection id that holds the lock now.
 *
 * Throws LOCK_HELD naming the holder, after releasing whatever it had taken.
 */
export async function acquireRunLock(targets: ConnectedTarget[], timeoutMs: number, options: RunLockOptions = {}): Promise<RunLock> {
  const runId = options.runId ?? randomUUID();
  const startedAt = new Date().toISOString();
  const command = options.command ?? 'up';
  const taken: Array<{ target: ConnectedTarget; session: Dialect; lock: AdvisoryLock; connectionId: string }> = [];
  const previous = new Map<TargetRole, RunHolderRow | undefined>();
  let watcher: NodeJS.Timeout | undefined;
  const release = async () => {
    clearInterval(watcher);
    for (const { session, lock, connectionId } of taken.splice(0).reverse()) {
      await session.runs.remove(lock.name, connectionId).catch(() => undefined);
      await lock.release().catch(() => undefined);
      await session.close().catch(() => undefined);
    }
  };
  const watch = (onLost: (error: OmMigrateError) => void, intervalMs = LOCK_CHECK_MS) => {
    let checking = false;
    let lost = false;
    watcher = setInterval(() => {
      if (checking || lost) return;
      checking = true;
      void (async () => {
        for (const { target, lock, connectionId } of taken) {
          const held = await lock.heldBy(connectionId).catch((error: unknown) => error as Error);
          if (held === true) continue;
          lost = true;
          clearInterval(watcher);
          // A check that fails because the lock's own session was ended (PostgreSQL answers a pg_terminate_backend
          // either with 57P01 or with a closed socket, by timing) is the same fact as a check that finds no lock.
          const why = held === false || isConnectionLoss(held) ? 'its session was ended by the server (wait_timeout, a restart or a KILL)'
            : `the server could not be asked (${driverReason(held)})`;
          onLost(new OmMigrateError('LOCK_LOST', `${target.role}: this run lost its lock on ${target.spec.database}: ${why}`, {
            hint: 'Another om-migrate may have started since: check om-migrate status, then run om-migrate up again.',
            details: { target: target.role, lock: lock.name },
          }));
          return;
        }
      })().finally(() => { checking = false; });
    }, intervalMs);
    watcher.unref();
  };
  const recordChild = async (pgid: number | undefined) => {
    for (const { session, lock, connectionId } of taken) {
      await session.runs.recordChild(lock.name, connectionId, pgid === undefined ? undefined : { pgid, host: hostname() })
        .catch(() => undefined);
    }
  };
  // A stable order, so two runs over the same two databases cannot each hold one and wait for the other.
  const ordered = [...targets].sort((a, b) => runLockName(a.spec).localeCompare(runLockName(b.spec)));
  for (const target of ordered) {
    const session = await connect(target.spec, { purpose: command, timeoutMs: options.connectTimeoutMs })
      .catch(async (error: unknown) => {
        await release();
        throw error;
      });
    const lock = session.lock(runLockName(target.spec));
    const got = await lock.tryAcquire(timeoutMs).catch(async (error: unknown) => {
      await session.close().catch(() => undefined);
      await release();
      throw error;
    });
    if (!got) {
      const holder = await describeLockHolder(target);
      await session.close().catch(() => undefined);
      await release();
      throw new OmMigrateError('LOCK_HELD',
        `${target.role}: another om-migrate is running on ${target.spec.database}: ${holder?.text ?? 'the holder ended just now'}`,
        {
          hint: lockHeldHint(holder, timeoutMs),
          details: { target: target.role, lock: lock.name, holder: holder ? { ...holder, text: undefined } : null },
        });
    }
    const connectionId = await session.runs.connectionId();
    taken.push({ target, session, lock, connectionId });
    if (options.recordHolder === false) continue;
    previous.set(target.role, await session.runs.rowOf(lock.name).catch(() => undefined));
    await session.runs.record({
      lockName: lock.name, connectionId, runId, host: hostname(), pid: process.pid, startedAt, command,
    }).catch(() => undefined); // naming the holder is a courtesy; a user without CREATE still gets the lock
  }
  return { runId, startedAt, release, watch, recordChild, previousHolder: (role) => previous.get(role) };
}

/** Read-only: who holds the run lock of a target's database now, or undefined when it is free. For `status` too. */
export async function describeLockHolder(target: ConnectedTarget): Promise<LockHolderDescription | undefined> {
  const lockName = runLockName(target.spec);
  const holder = await target.dialect.lock(lockName).holder();
  if (!holder) return undefined;
  const row = await target.dialect.runs.find(lockName, holder.connectionId).catch(() => undefined);
  const parsed = parseProgram(holder.program);
  const host = row?.host ?? parsed.host;
  const pid = row?.pid ?? parsed.pid;
  const startedAt = row?.startedAt ?? parsed.since ?? holder.since;
  const command = row?.command ?? parsed.command;
  const text = host !== undefined || pid !== undefined
    ? `om-migrate${command ? ` ${command}` : ''} pid=${pid ?? '?'} on ${host ?? '?'}${startedAt ? ` since ${startedAt}` : ''}`
      + `${row?.runId ? ` (run ${row.runId})` : ''}`
    : `server connection ${holder.connectionId}${holder.clientAddress ? ` from ${holder.clientAddress}` : ''}`
      + `${startedAt ? ` since ${startedAt}` : ''}${holder.program ? ` (${holder.program})` : ''}`;
  return {
    target: target.role, lockName, connectionId: holder.connectionId, runId: row?.runId, host, pid, startedAt, command,
    program: holder.program, clientAddress: holder.clientAddress, text, statement: holder.statement, endSession: holder.endSession,
  };
}

/** "om-migrate up pid=12 host=web-1 since=…", as src/dialects/connect.ts names our sessions. */
function parseProgram(program: string | undefined): { command?: string; pid?: number; host?: string; since?: string } {
  if (!program?.startsWith('om-migrate')) return {};
  const pid = /\bpid=(\d+)/.exec(program)?.[1];
  return {
    command: /^om-migrate (\S+) pid=/.exec(program)?.[1],
    pid: pid === undefined ? undefined : Number(pid),
    host: /\bhost=(\S+)/.exec(program)?.[1],
    since: /\bsince=(\S+)/.exec(program)?.[1],
  };
}

/** The driver's own words: knex prefixes the statement ("SELECT … - reason"), whose first line says nothing. */
function driverReason(error: Error): string {
  const text = error.message;
  const cut = text.lastIndexOf(' - ');
  return (cut >= 0 ? text.slice(cut + 3) : text).split('\n')[0];
}

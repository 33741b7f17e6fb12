import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { AdvisoryLock } from '../dialects/types.js';
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
}

export interface RunLock {
  runId: string;
  startedAt: string;
  /** Releases every lock and removes the holder rows; safe to call twice. Dying with the process frees them too. */
  release(): Promise<void>;
}

/**
 * Takes the session-scoped advisory lock of every target's database (GET_LOCK / pg_try_advisory_lock on the pinned
 * connection), waiting up to timeoutMs for each, and writes a holder row (run id, host, pid, start, command) in the
 * database so that a second run can name this one: MariaDB keeps no connection program names without
 * performance_schema. A killed holder's session ends, and with it the lock; its stale row is ignored because rows are
 * matched by the connection id that holds the lock now.
 *
 * Throws LOCK_HELD naming the holder, after releasing whatever it had taken.
 */
export async function acquireRunLock(targets: ConnectedTarget[], timeoutMs: number,
  options: { runId?: string; command?: string } = {}): Promise<RunLock> {
  const runId = options.runId ?? randomUUID();
  const startedAt = new Date().toISOString();
  const command = options.command ?? 'up';
  const taken: Array<{ target: ConnectedTarget; lock: AdvisoryLock; connectionId: string }> = [];
  const release = async () => {
    for (const { target, lock, connectionId } of taken.splice(0).reverse()) {
      await target.dialect.runs.remove(lock.name, connectionId).catch(() => undefined);
      await lock.release().catch(() => undefined);
    }
  };
  // A stable order, so two runs over the same two databases cannot each hold one and wait for the other.
  const ordered = [...targets].sort((a, b) => runLockName(a.spec).localeCompare(runLockName(b.spec)));
  for (const target of ordered) {
    const lock = target.dialect.lock(runLockName(target.spec));
    if (!(await lock.tryAcquire(timeoutMs))) {
      const holder = await describeLockHolder(target);
      await release();
      throw new OmMigrateError('LOCK_HELD',
        `${target.role}: another om-migrate is running on ${target.spec.database}: ${holder?.text ?? 'the holder ended just now'}`,
        {
          hint: timeoutMs > 0
            ? `It did not finish within --lock-timeout ${Math.round(timeoutMs / 1000)} s; wait for it, or stop it (its lock goes with its connection).`
            : 'Wait for it to finish, or give --lock-timeout to wait; if that process is gone, its lock is already free: run again.',
          details: { target: target.role, lock: lock.name, holder: holder ? { ...holder, text: undefined } : null },
        });
    }
    const connectionId = await target.dialect.runs.connectionId();
    taken.push({ target, lock, connectionId });
    await target.dialect.runs.record({
      lockName: lock.name, connectionId, runId, host: hostname(), pid: process.pid, startedAt, command,
    }).catch(() => undefined); // naming the holder is a courtesy; a user without CREATE still gets the lock
  }
  return { runId, startedAt, release };
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
    program: holder.program, clientAddress: holder.clientAddress, text,
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

import { randomUUID } from 'node:crypto';
import type { RunConfig } from '../config/resolveConfig.js';
import type { ConnectedTarget, OpenedTargets } from '../core/Target.js';
import { acquireRunLock, type RunLock } from '../lock/runLock.js';
import { Interruption } from '../process/Interruption.js';
import { openTargets } from '../targets/openTargets.js';
import { asTyped } from './executePlan.js';

/** What a command gets to work with while it holds the run lock. */
export interface LockedRun {
  opened: OpenedTargets;
  lock: RunLock;
  /** Aborted by SIGINT/SIGTERM and by the loss of the lock's connection. */
  interruption: Interruption;
}

export interface LockFrame {
  /** The command named in the lock's holder row and its sessions' program names: "up", "restore"... */
  lockCommand: string;
  /** Said before waiting for the lock. */
  phase?: string;
  emitPhase?: (text: string) => void;
  /**
   * false: no holder row (restore: its table would land in the very database being restored into, which must be
   * empty). The lock is the same; a second run names the holder by its server session instead.
   */
  recordHolder?: boolean;
  /**
   * Cancel, on interruption, the statement each target's connection is running: for work whose SQL takes no signal of
   * its own (revert-params), so that a statement waiting for a lock stops with the run instead of holding it open.
   * Never for work that must still run SQL once interrupted (up and rehearse put parameters back then).
   */
  cancelStatements?: boolean;
  /** The run's interruption when the caller made it earlier (to catch a signal while connecting); else made here. */
  interruption?: Interruption;
  /**
   * The work turns an interruption into its own outcome (up's error carries its progress; rehearse returns an
   * "interrupted" summary): pass it through as it is. Otherwise the interruption's reason is thrown.
   */
  workReportsInterruption?: boolean;
}

/**
 * The one lock frame of every command that changes something — up, rehearse, repair-airflow, revert-params, restore —
 * in this order and never another: take the run lock of every target (waiting up to --lock-timeout, giving up at once
 * on SIGTERM) → watch it, so that losing its connection interrupts the work (LOCK_LOST, exit 12) → the work, with the
 * interruption's signal → release. Once interrupted, the work's own outcome is not the story: the reason is thrown
 * (a cancelled statement's error, or a result reached after the lock was gone, proves nothing). Whatever escapes
 * leaves as a typed error.
 */
export async function withLockedTargets<T>(targets: ConnectedTarget[], config: Pick<RunConfig, 'lockTimeoutMs' | 'connectTimeoutMs'>,
  frame: LockFrame, work: (run: { lock: RunLock; interruption: Interruption }) => Promise<T>): Promise<T> {
  const interruption = frame.interruption ?? new Interruption();
  const onAbort = () => {
    for (const t of targets) void t.dialect.cancelRunningStatement().catch(() => undefined);
  };
  try {
    if (frame.phase) frame.emitPhase?.(frame.phase);
    const lock = await interruptible(acquireRunLock(targets, config.lockTimeoutMs, {
      runId: randomUUID(), command: frame.lockCommand, connectTimeoutMs: config.connectTimeoutMs, recordHolder: frame.recordHolder,
    }), interruption);
    try {
      lock.watch((lost) => interruption.abort(lost));
      if (frame.cancelStatements) interruption.signal.addEventListener('abort', onAbort, { once: true });
      if (frame.workReportsInterruption) return await work({ lock, interruption });
      let result: T;
      try {
        result = await work({ lock, interruption });
      } catch (error) {
        if (interruption.signal.aborted) throw interruption.reason;
        throw error;
      }
      if (interruption.signal.aborted) throw interruption.reason;
      return result;
    } finally {
      interruption.signal.removeEventListener('abort', onAbort);
      await lock.release();
    }
  } catch (error) {
    throw asTyped(error);
  } finally {
    if (!frame.interruption) interruption.dispose();
  }
}

/**
 * The frame over every configured database, for up and rehearse: connect to every target (SIGINT/SIGTERM already
 * caught) → withLockedTargets → close.
 */
export async function withRunLock<T>(config: RunConfig, frame: { purpose: string; lockCommand: string; phase: string; emitPhase: (text: string) => void },
  work: (run: LockedRun) => Promise<T>): Promise<T> {
  const interruption = new Interruption();
  try {
    const opened = await openTargets(config, frame.purpose);
    try {
      if (opened.failures.length > 0) throw opened.failures[0].error;
      return await withLockedTargets(opened.targets, config, { ...frame, interruption, workReportsInterruption: true },
        ({ lock }) => work({ opened, lock, interruption }));
    } finally {
      await opened.close();
    }
  } catch (error) {
    throw asTyped(error);
  } finally {
    // The signal handlers stay until the connections are closed: a SIGTERM while they close (a restore-on-failure's
    // swap just done) must not kill the process before it has said how it ended.
    interruption.dispose();
  }
}

/** Waits for `work`, unless the run is interrupted first (a SIGTERM while waiting for another pod's lock). */
export async function interruptible<T>(work: Promise<T>, interruption: Interruption): Promise<T> {
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(interruption.reason);
    if (interruption.signal.aborted) onAbort();
    else interruption.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    interruption.signal.removeEventListener('abort', onAbort);
  }
}

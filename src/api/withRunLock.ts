import { randomUUID } from 'node:crypto';
import type { RunConfig } from '../config/resolveConfig.js';
import type { OpenedTargets } from '../core/Target.js';
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

/**
 * The frame `up` and `rehearse` share, in this order and never another: connect to every target → take the run lock
 * (waiting up to --lock-timeout, giving up at once on SIGTERM) → watch it, so that losing its connection interrupts
 * the work → the work → release → close. Whatever escapes leaves as a typed error.
 */
export async function withRunLock<T>(config: RunConfig, frame: { purpose: string; lockCommand: string; phase: string; emitPhase: (text: string) => void },
  work: (run: LockedRun) => Promise<T>): Promise<T> {
  const interruption = new Interruption();
  const opened = await openTargets(config, frame.purpose);
  try {
    if (opened.failures.length > 0) throw opened.failures[0].error;
    frame.emitPhase(frame.phase);
    const lock = await interruptible(acquireRunLock(opened.targets, config.lockTimeoutMs, {
      runId: randomUUID(), command: frame.lockCommand, connectTimeoutMs: config.connectTimeoutMs,
    }), interruption);
    try {
      lock.watch((lost) => interruption.abort(lost));
      return await work({ opened, lock, interruption });
    } finally {
      await lock.release();
    }
  } catch (error) {
    throw asTyped(error);
  } finally {
    // The signal handlers stay until the connections are closed: a SIGTERM while they close (a restore-on-failure's swap
    // just done) must not kill the process before it has said how it ended.
    await opened.close();
    interruption.dispose();
  }
}

/** Waits for `work`, unless the run is interrupted first (a SIGTERM while waiting for another pod's lock). */
export async function interruptible<T>(work: Promise<T>, interruption: Interruption): Promise<T> {
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(interruption.reason);
    interruption.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    interruption.signal.removeEventListener('abort', onAbort);
  }
}

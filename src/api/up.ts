import { randomUUID } from 'node:crypto';
import semver from 'semver';
import type { RunConfig } from '../config/resolveConfig.js';
import { OmMigrateError } from '../errors.js';
import { acquireRunLock } from '../lock/runLock.js';
import { readDistribution } from '../openmetadata/distribution.js';
import { Interruption } from '../process/Interruption.js';
import { openTargets } from '../targets/openTargets.js';
import { asTyped, executePlan } from './executePlan.js';
import type { UpOptions, UpSummary } from './upTypes.js';

export type { ParameterSummary, RowCountReport, StepSummary, UpEvent, UpOptions, UpSummary } from './upTypes.js';

/**
 * `om-migrate up`, in this order and never another: arguments checked → lock (kept alive and watched) → the plan's
 * execution (executePlan, the same one `rehearse` runs on a copy): preflight and plan → earlier runs' unreverted
 * parameters put back → backup of each database → row counts → parameter bumps → the steps (Umzug, over the ledger) →
 * parameters reverted → row counts compared → summary.
 */
export async function runUp(config: RunConfig, options: UpOptions): Promise<UpSummary> {
  const emit = options.onEvent ?? (() => undefined);
  checkArguments(config);
  const interruption = new Interruption();
  const opened = await openTargets(config, 'up');
  try {
    if (opened.failures.length > 0) throw opened.failures[0].error;
    emit({ type: 'phase', text: config.lockTimeoutMs > 0 ? `taking the run lock (waiting up to ${Math.round(config.lockTimeoutMs / 1000)} s)` : 'taking the run lock' });
    const lock = await interruptible(acquireRunLock(opened.targets, config.lockTimeoutMs, { runId: randomUUID(), command: config.command ?? 'up' }), interruption);
    try {
      lock.watch((lost) => interruption.abort(lost));
      return await executePlan({ config, opened, lock, interruption, emit, takeBackups: true, checkRehearsal: true });
    } finally {
      await lock.release();
    }
  } catch (error) {
    throw asTyped(error);
  } finally {
    interruption.dispose();
    await opened.close();
  }
}

/** What can be checked without touching a server: --to against the installed distribution. */
export function checkArguments(config: RunConfig): void {
  if (!config.openmetadata || !config.targetVersion || config.migrators.omCommand) return;
  const reach = readDistribution(config.migrators.omHome)?.reach;
  if (reach && semver.gt(config.targetVersion, reach)) {
    throw new OmMigrateError('BLOCKED', `--to ${config.targetVersion} is beyond what the distribution at ${config.migrators.omHome} can migrate to (${reach}); nothing was changed`, {
      hint: `Install OpenMetadata ${config.targetVersion} and run om-migrate there, or leave --to out to migrate to ${reach}.`,
    });
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

import semver from 'semver';
import type { RunConfig } from '../config/resolveConfig.js';
import { OmMigrateError } from '../errors.js';
import { readDistribution } from '../openmetadata/distribution.js';
import { readPlanFile } from '../plan/savedPlan.js';
import { executePlan } from '../engine/executePlan.js';
import { withRunLock } from '../engine/withRunLock.js';
import type { UpOptions, UpSummary } from '../engine/upTypes.js';

export type { ParameterSummary, RowCountReport, StepSummary, UpEvent, UpOptions, UpSummary } from '../engine/upTypes.js';

/**
 * `om-migrate up`, in this order and never another: arguments checked → lock (kept alive and watched) → the plan's
 * execution (executePlan, the same one `rehearse` runs on a copy): preflight and plan → earlier runs' unreverted
 * parameters put back → backup of each database → row counts → parameter bumps → the steps (Umzug, over the ledger) →
 * parameters reverted → row counts compared → summary.
 */
export async function runUp(config: RunConfig, options: UpOptions): Promise<UpSummary> {
  const emit = options.onEvent ?? (() => undefined);
  checkArguments(config);
  // The file is checked (ours, unedited, well-formed) before any server is touched; against the databases under the lock.
  const saved = options.planFile ? { path: options.planFile, plan: readPlanFile(options.planFile) } : undefined;
  return withRunLock(config, {
    purpose: 'up',
    lockCommand: config.command ?? 'up',
    phase: config.lockTimeoutMs > 0 ? `taking the run lock (waiting up to ${Math.round(config.lockTimeoutMs / 1000)} s)` : 'taking the run lock',
    emitPhase: (text) => emit({ type: 'phase', text }),
  }, ({ opened, lock, interruption }) => executePlan({ config, opened, lock, interruption, emit, takeBackups: true, checkRehearsal: true, saved }));
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

import { randomUUID } from 'node:crypto';
import semver from 'semver';
import type { RunConfig } from '../config/resolveConfig.js';
import type { PlanInput } from '../core/PlanInput.js';
import type { ConnectedTarget, OpenedTargets } from '../core/Target.js';
import type { Finding } from '../core/Gate.js';
import { isConnectionLoss } from '../dialects/connectionErrors.js';
import { RUN_STEP, type JournalEntry } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import { acquireRunLock, type RunLock } from '../lock/runLock.js';
import { readDistribution } from '../openmetadata/distribution.js';
import { applyParameterChanges, createParameterRun, revertLeftovers, type RevertReport } from '../params/index.js';
import { withParameterGuard } from '../params/withParameterGuard.js';
import { parameterRequests, type RunPlan } from '../plan/buildPlan.js';
import { Interruption } from '../process/Interruption.js';
import { runSteps } from '../steps/runSteps.js';
import { openTargets } from '../targets/openTargets.js';
import { readVersions, type VersionFacts } from '../targets/readVersions.js';
import { preflightWithInput } from './preflight.js';
import { backupAll } from './upBackups.js';
import type { StepSummary, UpEvent, UpOptions, UpSummary } from './upTypes.js';

export type { ParameterSummary, StepSummary, UpEvent, UpOptions, UpSummary } from './upTypes.js';

/**
 * `om-migrate up`, in this order and never another: arguments checked → lock (kept alive and watched) → every preflight
 * check and the plan (a block stops here with nothing changed) → earlier runs' unreverted parameters put back →
 * backup of each database → parameter bumps → the steps (Umzug, over the ledger) → parameters reverted → summary.
 * With nothing pending the migrators still run (their no-op is the proof), but nothing is backed up or raised.
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
      return await lockedUp(config, opened, lock, interruption, emit);
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
function checkArguments(config: RunConfig): void {
  if (!config.openmetadata || !config.targetVersion || config.migrators.omCommand) return;
  const reach = readDistribution(config.migrators.omHome)?.reach;
  if (reach && semver.gt(config.targetVersion, reach)) {
    throw new OmMigrateError('BLOCKED', `--to ${config.targetVersion} is beyond what the distribution at ${config.migrators.omHome} can migrate to (${reach}); nothing was changed`, {
      hint: `Install OpenMetadata ${config.targetVersion} and run om-migrate there, or leave --to out to migrate to ${reach}.`,
    });
  }
}

async function lockedUp(config: RunConfig, opened: OpenedTargets, lock: RunLock, interruption: Interruption,
  emit: (e: UpEvent) => void): Promise<UpSummary> {
  const { targets } = opened;
  const runId = lock.runId;
  emit({ type: 'phase', text: 'running the preflight checks' });
  const preflight = async () => {
    const { report, input } = await preflightWithInput(config, {
      command: 'up', opened, heldLocks: new Set(targets.map((t) => t.role)), previousHolder: (role) => lock.previousHolder(role),
    });
    const blocks = report.findings.filter((f) => f.severity === 'block');
    if (blocks.length > 0 || !report.plan || !input) {
      const first = blocks[0];
      const running = first && ['running-migrator', 'lock'].includes(first.gate);
      throw new OmMigrateError(running ? 'MIGRATION_RUNNING' : 'BLOCKED',
        `${blocks.length} preflight check(s) block the upgrade: ${first?.summary ?? 'no plan could be made'}; nothing was changed`, {
          hint: first?.fix ?? 'Run om-migrate preflight for the whole report.',
          details: { blocks },
        });
    }
    return { report, plan: report.plan, input };
  };
  let checked = await preflight();
  const before = checked.report.versions;

  const parameterRun = createParameterRun({
    runId, targets, adminFor: (t) => opened.adminFor(t), command: config.command ?? 'up', journalDir: config.journalDir,
    observer: { warning: (text) => emit({ type: 'phase', text: `warning: ${text}` }) },
  });
  emit({ type: 'phase', text: 'putting back parameters left changed by earlier runs' });
  const leftovers = await revertLeftovers(parameterRun);
  // The gates saw the values an interrupted run left raised (log_bin_trust_function_creators already 1, say) and
  // asked for nothing; now that those are back, what this run must raise is only known by checking again.
  if (leftovers.reverted.length > 0) checked = await preflight();
  const { plan, input, report } = checked;

  const ledgerTarget = targets.find((t) => t.role === 'openmetadata') ?? targets[0];
  const ledger = ledgerTarget.dialect.ledger;
  await ledger.ensureTable();
  // Holding the lock, no other run is alive: a run still marked running was cut off and will never finish.
  await ledger.abandon(runId, 'interrupted: its run ended before it finished (killed or crashed)');
  const targetVersion = plan.targetVersion ?? '-';
  const runRow = await ledger.start({ runId, planId: plan.id, step: RUN_STEP, targetVersion, stateBefore: JSON.stringify(plan.state) });

  let backups: UpSummary['backups'] = [];
  const steps: StepSummary[] = [];
  const warnings: Finding[] = report.findings.filter((f) => f.severity === 'warn');
  const applied: JournalEntry[] = [];
  let revert: RevertReport | undefined;
  let after: VersionFacts;
  try {
    if (plan.nothingPending) {
      emit({ type: 'phase', text: 'nothing pending: no backup, no parameter change; running the migrators to prove it' });
    } else {
      backups = await backupAll({ config, targets, ledger, runId, planId: plan.id, targetVersion, emit, signal: interruption.signal });
    }
    await withParameterGuard(parameterRun, async (signal) => {
      const requests = plan.nothingPending ? [] : parameterRequests({ targets, config }, report.findings);
      if (requests.length > 0) emit({ type: 'phase', text: 'raising server parameters for the migration' });
      applied.push(...(await applyParameterChanges(parameterRun, requests)));
      await runSteps({
        config, input, targets, ledger, runId, planId: plan.id, targetVersion, planned: plan.steps.map((s) => s.name), signal,
        emit, onChild: (pgid) => lock.recordChild(pgid), summaries: steps, warnings,
      });
    }, {
      interruption,
      onReverted: (r) => { revert = r; },
      onInterrupted: (reason) => emit({ type: 'phase', text: `${reason.message}: stopping the step, then putting parameters back` }),
    });
    after = await readVersions(targets);
    await ledger.finish(runRow, 'done', { stateAfter: JSON.stringify(after) });
  } catch (error) {
    await ledger.finish(runRow, interruption.signal.aborted ? 'interrupted' : 'failed', { outputTail: firstLine(error) }).catch(() => undefined);
    // With --json the failure is all an automation sees: say how far this run got, and where its backups are.
    throw withProgress(error, { runId, planId: plan.id, backups: backups.map((b) => b.file), steps });
  }
  const resumedFrom = backups.find((b) => b.reusedFrom)?.reusedFrom ?? null;
  return {
    runId,
    outcome: plan.nothingPending ? 'nothing-pending' : 'migrated',
    message: message(plan, input, before, after, warnings.filter((w) => w.data?.postCheck === true)),
    targetVersion: plan.targetVersion,
    plan,
    resumedFrom,
    before,
    after,
    warnings,
    afterUpgrade: report.findings.filter((f) => f.gate === 'versions' && f.data?.when === 'after'),
    leftoversReverted: leftovers.reverted.length,
    rejectedJournalRows: [...leftovers.rejected, ...(revert?.rejected ?? [])].map((r) => ({ id: r.entry.id, journal: r.journal, reason: r.reason })),
    backups,
    parameters: applied.map((entry) => ({
      target: targetOf(targets, entry),
      parameter: entry.parameter,
      scope: entry.scope,
      previous: entry.previous,
      raisedTo: entry.next,
      restored: revert?.reverted.some((r) => r.id === entry.id) ? 'reverted'
        : revert?.deferred.some((r) => r.id === entry.id) ? 'deferred' : 'not-reverted',
    })),
    steps,
  };
}

function targetOf(targets: ConnectedTarget[], entry: JournalEntry) {
  return targets.find((t) => t.spec.database === entry.database)?.role ?? targets[0].role;
}

/** Never "migrated" alone over a result the post-checks warn about: the first words say it needs action. */
function message(plan: RunPlan, input: PlanInput, before: VersionFacts, after: VersionFacts, postCheck: Finding[]): string {
  const needs = postCheck.length > 0 ? `needs action (${postCheck.map((w) => `${w.summary}: ${w.fix}`).join('; ')}); ` : '';
  if (plan.nothingPending) return `${needs}nothing pending: ${plan.summary}; the migrators ran and changed nothing`;
  const parts: string[] = [];
  if (input.openmetadata) parts.push(`OpenMetadata ${before.openmetadata?.current ?? 'fresh'} → ${after.openmetadata?.current ?? 'no version'}`);
  if (input.airflow) parts.push(`Airflow ${before.airflow?.revision ?? 'empty'} → ${after.airflow?.revision ?? 'empty'}`);
  return `${needs}migrated: ${parts.join('; ')}`;
}

/** Waits for `work`, unless the run is interrupted first (a SIGTERM while waiting for another pod's lock). */
async function interruptible<T>(work: Promise<T>, interruption: Interruption): Promise<T> {
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

/** A database that went away mid-run is an expected fault with its own code, not "report the stack trace". */
function asTyped(error: unknown): unknown {
  if (isOmMigrateError(error) || !isConnectionLoss(error)) return error;
  return new OmMigrateError('DB_UNAVAILABLE', `lost the database server during the run: ${firstLine(error)}`, {
    hint: 'It restarted, failed over or the network broke. Once it is back, om-migrate status shows what is left (a restart resets '
      + 'what SET GLOBAL raised), and om-migrate up carries on.',
    cause: error,
  });
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

function withProgress(error: unknown, progress: { runId: string; planId: string; backups: string[]; steps: StepSummary[] }): unknown {
  const typed = asTyped(error);
  if (!isOmMigrateError(typed)) return typed;
  return new OmMigrateError(typed.code, typed.message, {
    hint: typed.hint, cause: typed.cause ?? typed, details: { ...typed.details, progress },
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { RunConfig } from '../config/resolveConfig.js';
import type { PlanInput } from '../core/PlanInput.js';
import type { ConnectedTarget, OpenedTargets } from '../core/Target.js';
import type { Finding } from '../core/Gate.js';
import { isConnectionLoss } from '../dialects/connectionErrors.js';
import { RUN_STEP, type JournalEntry, type LedgerStore } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { RunLock } from '../lock/runLock.js';
import { applyParameterChanges, createParameterRun, revertLeftovers, type RevertReport } from '../params/index.js';
import { withParameterGuard } from '../params/withParameterGuard.js';
import type { RunPlan } from '../plan/buildPlan.js';
import { plannedRequests } from '../plan/plannedRequests.js';
import { savedPlanProblems, stalePlanError } from '../plan/savedPlan.js';
import type { Interruption } from '../process/Interruption.js';
import { runSteps } from '../steps/runSteps.js';
import { readVersions, type VersionFacts } from '../targets/readVersions.js';
import { compareRowCounts, countWatchedRows, describeChange, intendedRowChanges, type IntendedRowChange, type TargetRowCounts } from '../targets/rowCounts.js';
import { preflightWithInput } from './preflightWithInput.js';
import { readRestorePoint, restoreOnFailure, type RestorePoint } from './restoreOnFailure.js';
import { backupAll, pruneAfterUp } from './upBackups.js';
import type { RowCountReport, StepSummary, UpEvent, UpSummary } from './upTypes.js';

/** The ledger step under which a run's row counts before and after are recorded (status shows the last one). */
export const ROW_COUNT_STEP = 'verify/row-counts';

export interface PlanExecution {
  config: RunConfig;
  /** The databases the plan runs on: the real ones (up) or the rehearsal's copies. */
  opened: OpenedTargets;
  /** The run lock, held on the real databases either way. */
  lock: Pick<RunLock, 'runId' | 'previousHolder' | 'recordChild' | 'release'>;
  interruption: Interruption;
  emit: (e: UpEvent) => void;
  /** up: a verified backup of each database first. A rehearsal runs on a copy restored from one, so it takes none. */
  takeBackups: boolean;
  /** Whether the preflight judges the last rehearsal of the plan (not on the rehearsal's own copy). */
  checkRehearsal: boolean;
  /** up --plan FILE: the plan to execute, once the live databases still give its fingerprint; else the one made now. */
  saved?: { path: string; plan: RunPlan };
  /** Told the plan about to be executed (rehearse compares the copies' plan with the real databases'). */
  onPlanned?(plan: RunPlan): void;
}

/**
 * The one execution of a plan, behind `up` and `rehearse` alike, lock already held: every preflight check and the plan
 * (a block stops here with nothing changed) → earlier runs' unreverted parameters put back → backup of each database
 * (up) → row counts → parameter bumps → the steps (Umzug, over the ledger) → parameters reverted → row counts again,
 * compared → summary. With nothing pending the migrators still run (their no-op is the proof), but nothing is backed
 * up or raised.
 */
export async function executePlan(run: PlanExecution): Promise<UpSummary> {
  const { config, opened, lock, interruption, emit } = run;
  const { targets } = opened;
  const runId = lock.runId;
  emit({ type: 'phase', text: 'running the preflight checks' });
  const preflight = async () => {
    const { report, input } = await preflightWithInput(config, {
      command: 'up', opened, heldLocks: new Set(targets.map((t) => t.role)), previousHolder: (role) => lock.previousHolder(role),
      checkRehearsal: run.checkRehearsal,
    });
    const blocks = report.findings.filter((f) => f.severity === 'block');
    if (blocks.length > 0 || !report.plan || !input) {
      const first = blocks[0];
      const running = first?.effect?.kind === 'run-in-progress';
      throw new OmMigrateError(running ? 'MIGRATION_RUNNING' : 'BLOCKED',
        `${blocks.length} preflight check(s) block the upgrade: ${first?.summary ?? 'no plan could be made'}; nothing was changed`, {
          hint: first?.fix ?? 'Run om-migrate preflight for the whole report.',
          details: { blocks },
        });
    }
    if (!run.saved) return { report, plan: report.plan, input };
    // Checked before anything changes: the file's plan runs only while it is still the plan these databases call for.
    const problems = savedPlanProblems(run.saved.plan, report.plan, targets);
    if (problems.length > 0) throw stalePlanError(run.saved.path, problems);
    return { report, plan: run.saved.plan, input };
  };
  let checked = await waitForServersToStop(preflight, run);
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
  run.onPlanned?.(plan);

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
  let countsBefore: TargetRowCounts[] | undefined;
  let intended: IntendedRowChange[] = [];
  let rowCounts: RowCountReport | undefined;
  let restorePoint: RestorePoint | undefined;
  try {
    if (plan.nothingPending) {
      emit({ type: 'phase', text: 'nothing pending: no backup, no parameter change; running the migrators to prove it' });
    } else if (run.takeBackups) {
      backups = await backupAll({ config, targets, planned: plan.backups, ledger, runId, planId: plan.id, targetVersion, emit, signal: interruption.signal });
    }
    emit({ type: 'phase', text: 'counting the rows of the entity, relationship, DAG and task tables' });
    countsBefore = await countWatchedRows(targets);
    intended = await intendedRowChanges(targets, before.openmetadata?.current, input.openmetadata?.expected);
    // --restore-on-failure: what a restored copy must show again (only up takes the backups it would restore from).
    if (plan.onFailure?.restore && run.takeBackups) restorePoint = await readRestorePoint(targets, before, countsBefore);
    await withParameterGuard(parameterRun, async (signal) => {
      const requests = plannedRequests(plan, targets);
      if (requests.length > 0) emit({ type: 'phase', text: 'raising server parameters for the migration' });
      applied.push(...(await applyParameterChanges(parameterRun, requests)));
      await runSteps({
        config, input, targets, ledger, runId, planId: plan.id, targetVersion, planned: plan.steps, graceMs: config.stopGraceMs, signal,
        emit, onChild: (pgid) => lock.recordChild(pgid), summaries: steps, warnings, adminFor: (t) => opened.adminFor(t),
      });
    }, {
      interruption,
      // The step's migrator gets its grace period, then SIGKILL: wait for that, and a margin, before reverting anyway.
      graceMs: config.stopGraceMs + 20_000,
      onReverted: (r) => { revert = r; },
      onInterrupted: (reason) => emit({ type: 'phase', text: `${reason.message}: stopping the step, then putting parameters back` }),
    });
    after = await readVersions(targets);
    await checkNoInvalidIndexes(targets);
    emit({ type: 'phase', text: 'counting the rows again and comparing' });
    rowCounts = await recordRowCounts(targets, ledger, { runId, planId: plan.id, targetVersion }, countsBefore, backups, intended);
    warnings.push(...lossWarnings(rowCounts));
    // The migration ran, but "nothing is lost" is not true: never a success, and never a server started over it.
    if (rowCounts.lost.length > 0) throw rowsLost(rowCounts, before, after);
    await ledger.finish(runRow, 'done', { stateAfter: JSON.stringify(after) });
  } catch (error) {
    await ledger.finish(runRow, interruption.signal.aborted ? 'interrupted' : 'failed', { outputTail: firstLine(error) }).catch(() => undefined);
    // A failed step may have lost rows too: compare what can be compared (never hiding the failure itself).
    if (countsBefore && !rowCounts && !interruption.signal.aborted) {
      rowCounts = await recordRowCounts(targets, ledger, { runId, planId: plan.id, targetVersion }, countsBefore, backups, intended).catch(() => undefined);
    }
    // Parameters are back; the lock is still held: with --restore-on-failure, each changed database goes back to its backup.
    const outcome = restorePoint
      ? await restoreOnFailure({ config, opened, lock, interruption, emit, backups, steps, point: restorePoint, failure: asTyped(error) })
      : error;
    // With --json the failure is all an automation sees: say how far this run got, and where its backups are.
    throw withProgress(outcome, { runId, planId: plan.id, backups: backups.map((b) => b.file), steps, ...(rowCounts ? { rowCounts } : {}) });
  }
  await pruneAfterUp(config, backups, ledger, emit);
  const resumedFrom = backups.find((b) => b.reusedFrom)?.reusedFrom ?? null;
  const needsAction = warnings.filter((w) => w.effect?.kind === 'needs-action');
  return {
    runId,
    outcome: plan.nothingPending ? 'nothing-pending' : 'migrated',
    message: message(plan, input, before, after, needsAction),
    needsAction,
    targetVersion: plan.targetVersion,
    plan,
    resumedFrom,
    before,
    after,
    warnings,
    afterUpgrade: report.findings.filter((f) => f.effect?.kind === 'after-upgrade'),
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
    rowCounts: rowCounts!,
    rehearsal: report.findings.find((f) => f.effect?.kind === 'rehearsal') ?? null,
  };
}

/** How often entrypoint looks again for OpenMetadata servers that must stop before a release's migration. */
const SERVERS_POLL_MS = 2000;

/**
 * The preflight, and in entrypoint mode, while the only blocks are the servers-stopped gate's (other OpenMetadata
 * servers still connected for a release that needs them stopped), again every few seconds until they are gone or
 * --lock-timeout has passed: replicas of a Recreate rollout stop while this one waits. Anything else blocks at once.
 */
async function waitForServersToStop<T>(preflight: () => Promise<T>, run: PlanExecution): Promise<T> {
  const { config, interruption, emit } = run;
  const deadline = Date.now() + (config.command === 'entrypoint' ? config.lockTimeoutMs : 0);
  for (let said = false; ; said = true) {
    try {
      return await preflight();
    } catch (error) {
      const blocks = (isOmMigrateError(error) ? error.details?.blocks : undefined) as Finding[] | undefined;
      const onlyServers = error instanceof OmMigrateError && error.code === 'BLOCKED' && blocks !== undefined && blocks.length > 0
        && blocks.every((b) => b.effect?.kind === 'servers-running');
      if (!onlyServers || Date.now() + SERVERS_POLL_MS > deadline || interruption.signal.aborted) throw error;
      if (!said) emit({ type: 'phase', text: `waiting up to ${Math.round((deadline - Date.now()) / 1000)} s for OpenMetadata's other sessions to end: ${blocks[0].summary}` });
      await sleep(SERVERS_POLL_MS, undefined, { signal: interruption.signal }).catch(() => undefined);
    }
  }
}

/** Counts again, compares with `before`, and records both in the ledger for status. */
async function recordRowCounts(targets: ConnectedTarget[], ledger: LedgerStore, run: { runId: string; planId: string; targetVersion: string },
  before: TargetRowCounts[], backups: UpSummary['backups'], intended: IntendedRowChange[]): Promise<RowCountReport> {
  const id = await ledger.start({ ...run, step: ROW_COUNT_STEP, stateBefore: JSON.stringify(before) });
  const afterCounts = await countWatchedRows(targets);
  const comparison = compareRowCounts(before, afterCounts, intended);
  const report: RowCountReport = { ...comparison, before, after: afterCounts, backups: backups.map((b) => ({ target: b.target, manifest: b.manifest })) };
  await ledger.finish(id, comparison.lost.length > 0 ? 'failed' : 'done', {
    stateAfter: JSON.stringify(report),
    outputTail: comparison.changed.length === 0 ? `${comparison.compared} tables compared: no count changed`
      : comparison.changed.map(describeChange).join('\n'),
  });
  return report;
}

function lossWarnings(report: RowCountReport): Finding[] {
  return report.lost.map((c) => {
    const backup = report.backups.find((b) => b.target === c.role);
    return {
      gate: 'row-counts', target: c.role, severity: 'warn' as const, effect: { kind: 'rows-lost' as const },
      summary: `ROWS LOST: ${describeChange(c)}`,
      fix: backup ? `Check the migration's output; to get the rows back, restore ${backup.manifest} (om-migrate restore --manifest ${backup.manifest} --into <empty database>)`
        : 'Check the migration\'s output; the backup of this database is the one to restore from (om-migrate restore --manifest …)',
      data: { code: 'rows-lost', table: c.table, before: c.before, after: c.after, delta: c.delta, backup: backup?.manifest ?? null },
    };
  });
}

/**
 * After the migrator: an INVALID index in OpenMetadata's database (a concurrent build that failed or was cancelled) is a
 * failure, never "migrated" — the preflight refused to start over one, so any found now is the migrator's.
 */
async function checkNoInvalidIndexes(targets: ConnectedTarget[]): Promise<void> {
  const om = targets.find((t) => t.role === 'openmetadata');
  const invalid = om ? await om.dialect.introspect.invalidIndexes() : [];
  if (!om || invalid.length === 0) return;
  const recovery = invalid.flatMap((i) => om.dialect.introspect.invalidIndexRecovery(i.name));
  throw new OmMigrateError('STEP_FAILED', `the migration left INVALID index(es): ${invalid.map((i) => `${i.name} on ${i.table}`).join(', ')}; parameter changes were put back`, {
    hint: `Recover as OpenMetadata's 1.13.0 migration documents: ${recovery.join(' ')} Then run up again, which builds them anew.`,
    details: { invalidIndexes: invalid, recovery },
  });
}

/** Rows lost although every step succeeded: exit 14, naming the tables and the backups to restore from. */
function rowsLost(report: RowCountReport, before: VersionFacts, after: VersionFacts): OmMigrateError {
  const tables = report.lost.map(describeChange).join(', ');
  const migrated = before.openmetadata ? `OpenMetadata ${before.openmetadata.current ?? 'fresh'} → ${after.openmetadata?.current ?? 'no version'}; ` : '';
  const restore = report.backups.map((b) => `om-migrate restore --manifest ${b.manifest} --into <empty database>`).join('; ');
  return new OmMigrateError('ROWS_LOST', `ROWS LOST: ${tables} (${migrated}no crossed release removes these rows on purpose); parameter changes were put back`, {
    hint: restore ? `Do not start the server on this database: compare with the backup (${restore}) and restore it if the rows are needed.`
      : 'Do not start the server on this database: compare with your backup and restore it if the rows are needed.',
    details: { lost: report.lost, expected: report.expected },
  });
}

function targetOf(targets: ConnectedTarget[], entry: JournalEntry) {
  return targets.find((t) => t.spec.database === entry.database)?.role ?? targets[0].role;
}

/**
 * Never "migrated" alone over a result the post-checks warn about: the first words say it needs action. A database the
 * run did not move is said to be unchanged ("Airflow 486ac7936b78, nothing to migrate"), never "X → X".
 */
function message(plan: RunPlan, input: PlanInput, before: VersionFacts, after: VersionFacts, postCheck: Finding[]): string {
  const needs = postCheck.length > 0 ? `needs action (${postCheck.map((w) => `${w.summary}: ${w.fix}`).join('; ')}); ` : '';
  if (plan.nothingPending) return `${needs}nothing pending: ${plan.summary}; the migrators ran and changed nothing`;
  const parts: Array<{ text: string; moved: boolean }> = [];
  const describe = (name: string, from: string | null | undefined, to: string | null | undefined, empty: string) => {
    const moved = (from ?? null) !== (to ?? null);
    parts.push({ moved, text: moved ? `${name} ${from ?? empty} → ${to ?? empty}` : `${name} ${to ?? empty}, nothing to migrate` });
  };
  if (input.openmetadata) describe('OpenMetadata', before.openmetadata?.current, after.openmetadata?.current, 'no version');
  if (input.airflow) describe('Airflow', before.airflow?.revision, after.airflow?.revision, 'empty');
  const verb = parts.some((p) => p.moved) || input.airflowNeedsRepair ? 'migrated' : 'nothing migrated';
  return `${needs}${verb}: ${parts.map((p) => p.text).join('; ')}`;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

function withProgress(error: unknown, progress: Record<string, unknown>): unknown {
  const typed = asTyped(error);
  if (!isOmMigrateError(typed)) return typed;
  return new OmMigrateError(typed.code, typed.message, {
    hint: typed.hint, cause: typed.cause ?? typed, details: { ...typed.details, progress },
  });
}

/** A database that went away mid-run is an expected fault with its own code, not "report the stack trace". */
export function asTyped(error: unknown): unknown {
  if (isOmMigrateError(error) || !isConnectionLoss(error)) return error;
  return new OmMigrateError('DB_UNAVAILABLE', `lost the database server during the run: ${firstLine(error)}`, {
    hint: 'It restarted, failed over or the network broke. Once it is back, om-migrate status shows what is left (a restart resets '
      + 'what SET GLOBAL raised), and om-migrate up carries on.',
    cause: error,
  });
}

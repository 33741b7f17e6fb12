import { readManifest } from '../backup/BackupManifest.js';
import { restoreBackup } from '../backup/restoreBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { ConnectedTarget, OpenedTargets, VersionFacts } from '../core/Target.js';
import { connect } from '../dialects/connect.js';
import type { Dialect } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { RunLock } from '../lock/runLock.js';
import type { Interruption } from '../process/Interruption.js';
import { detectAirflowState, type AirflowStateKind } from '../airflow/detectAirflowState.js';
import { restoreNames } from '../config/scratchNames.js';
import { withDatabase } from '../rehearsal/copySpec.js';
import { readVersions } from '../targets/readVersions.js';
import { compareRowCounts, countWatchedRows, describeChange, type TargetRowCounts } from '../targets/rowCounts.js';
import { serverKeyOf, writeRestoreRecord, type RestorePhase, type RestoreRecord, type RestoreRecordDatabase } from '../rescue/restoreRecord.js';
import type { StepSummary, UpEvent, UpSummary } from './upTypes.js';

/** The ledger step under which a restore-on-failure is recorded in the restored OpenMetadata database. */
export const RESTORE_STEP = 'restore-on-failure';

/** What the restored copy must show again: the state read before the steps ran. */
export interface RestorePoint {
  versions: VersionFacts;
  counts: TargetRowCounts[];
  /** Airflow's task_instance shape as detectAirflowState classifies it. */
  airflowShape: AirflowStateKind | undefined;
}

/** Read before the steps, only with --restore-on-failure: the facts the restored copy is verified against. */
export async function readRestorePoint(targets: ConnectedTarget[], versions: VersionFacts, counts: TargetRowCounts[]): Promise<RestorePoint> {
  const airflow = targets.find((t) => t.role === 'airflow');
  return { versions, counts, airflowShape: airflow && versions.airflow?.revision ? (await detectAirflowState(airflow.dialect)).kind : undefined };
}

export interface RestoreOnFailureRun {
  config: RunConfig;
  opened: OpenedTargets;
  lock: Pick<RunLock, 'runId' | 'release'>;
  interruption: Interruption;
  emit: (e: UpEvent) => void;
  backups: UpSummary['backups'];
  steps: StepSummary[];
  point: RestorePoint;
  /** The failure that ended the steps (typed). */
  failure: unknown;
}

interface Restoring {
  target: ConnectedTarget;
  admin: Dialect;
  entry: RestoreRecordDatabase;
  /** The scratch copy exists on the server (and must be dropped unless swapped in). */
  created: boolean;
  /** What the verification found, for the message. */
  verified?: string;
  /** How long each part took (ms), for the summary and bench:restore-on-failure. */
  timings: { restoreMs: number; verifyMs: number; swapMs: number };
}

/**
 * `up --restore-on-failure`, after a failed step, lock still held and parameters already put back: each database a
 * step may have changed is restored from this run's verified backup into a scratch database, checked against the
 * state read before the steps (OpenMetadata's version and SERVER_CHANGE_LOG, Airflow's revision and task_instance
 * shape, the watched tables' row counts), and only then swapped in, the failed state kept beside it under a name the
 * message gives. Anything that goes wrong before the swap leaves the live databases as the failure left them.
 * Returns the error `up` ends with: FAILED_RESTORED (exit 16), FAILED_RESTORE_FAILED (exit 17), or the failure itself
 * when no database was changed or the run was interrupted (a stop request is not a reason to start a restore).
 */
export async function restoreOnFailure(run: RestoreOnFailureRun): Promise<unknown> {
  const { config, opened, interruption, emit } = run;
  const roles = changedRoles(run.steps);
  if (roles.length === 0 || interruption.signal.aborted) return run.failure;
  const failure = describeFailure(run.failure);
  const work: Restoring[] = [];
  const record: RestoreRecord = { runId: run.lock.runId, startedAt: new Date().toISOString(), updatedAt: '', outcome: 'running', databases: [] };
  const save = () => writeRestoreRecord(config.backupDir, record);
  const phase = async (w: Restoring, p: RestorePhase) => {
    w.entry.phase = p;
    await save();
  };
  try {
    for (const role of roles) {
      const target = opened.targets.find((t) => t.role === role)!;
      const backup = run.backups.find((b) => b.target === role);
      const admin = await opened.adminFor(target);
      if (!backup || !admin) {
        throw new OmMigrateError('FAILED_RESTORE_FAILED', `no ${backup ? 'admin connection' : 'backup'} to restore ${target.spec.database} with`);
      }
      const database = target.spec.database;
      const entry: RestoreRecordDatabase = {
        role, server: serverKeyOf(target.spec), database, manifest: backup.manifest, phase: 'restoring',
        ...restoreNames(target.spec, run.lock.runId),
      };
      record.databases.push(entry);
      work.push({ target, admin, entry, created: false, timings: { restoreMs: 0, verifyMs: 0, swapMs: 0 } });
    }
    await save();
    for (const w of work) {
      interruption.signal.throwIfAborted();
      let started = Date.now();
      await restoreIntoScratch(w, config, emit, phase);
      w.timings.restoreMs = Date.now() - started;
      interruption.signal.throwIfAborted();
      await phase(w, 'verifying');
      started = Date.now();
      w.verified = await verifyScratch(w, run.point, emit);
      w.timings.verifyMs = Date.now() - started;
    }
    // Past this point the only change is the swap itself: a stop request after it has begun waits for it.
    interruption.signal.throwIfAborted();
    await carryLedger(work, run.lock.runId);
    await mustBeAlone(work);
    // Durable before the swap: a SIGKILL from here on leaves a record that says to look at the server.
    for (const w of work) await phase(w, 'swapping');
  } catch (error) {
    const why = interruption.signal.aborted ? `${interruption.reason?.message ?? 'interrupted'} before the swap` : firstLine(error);
    for (const w of work) {
      if (w.created) await w.admin.scratch.drop(w.entry.scratch).then(() => { w.created = false; }, () => undefined);
      w.entry.phase = 'abandoned';
      w.entry.problem = why;
    }
    record.outcome = 'failed';
    await save().catch(() => undefined);
    return restoreFailed(failure, work, why, error);
  }

  // The swap: PostgreSQL renames only a database nobody is connected to, this run's own sessions included (its run
  // lock's too: the lock goes a moment early, and a run that takes it then makes the rename fail, never a mix).
  const swapped: Restoring[] = [];
  let swapError: unknown;
  emit({ type: 'phase', text: `swapping the restored ${work.map((w) => w.entry.database).join(' and ')} in` });
  if (work.some((w) => w.target.spec.engine === 'postgres')) {
    for (const w of work) await w.target.dialect.close().catch(() => undefined);
    await run.lock.release();
  }
  for (const w of work) {
    try {
      const started = Date.now();
      await w.admin.swap.swap(w.entry.database, w.entry.scratch, w.entry.kept);
      w.timings.swapMs = Date.now() - started;
      w.created = false;
      swapped.push(w);
      // Done is done: a record that cannot be written now only sends status and resolve-restore to the server to look.
      await phase(w, 'swapped').catch(() => undefined);
      // MySQL: the copy's database is left empty by the move (its grant to the application user goes with it).
      if (await w.admin.swap.exists(w.entry.scratch) && !(await w.admin.swap.holdsContent(w.entry.scratch))) {
        await w.admin.scratch.drop(w.entry.scratch).catch(() => undefined);
      }
    } catch (error) {
      swapError = error;
      break;
    }
  }
  if (swapError !== undefined) {
    const why = firstLine(swapError);
    for (const w of work.filter((x) => !swapped.includes(x))) {
      await w.admin.scratch.drop(w.entry.scratch).catch(() => undefined);
      w.entry.phase = 'abandoned';
      w.entry.problem = why;
    }
    record.outcome = 'failed';
    await save().catch(() => undefined);
    return restoreFailed(failure, work, `the swap failed: ${why}`, swapError);
  }
  record.outcome = 'restored';
  await save().catch(() => undefined);
  const restored = work.map((w) => `${w.entry.database} from ${w.entry.manifest} (${w.verified})`).join('; ');
  const kept = work.map((w) => `${w.entry.database}'s failed state is kept in ${w.entry.kept}`).join('; ');
  // A parameter that could not be put back stays the louder news (exit 9): the databases are restored, a setting is not.
  return new OmMigrateError(failure.code === 'REVERT_FAILED' ? 'REVERT_FAILED' : 'FAILED_RESTORED', `up failed and was undone: ${failure.message}; restored ${restored}; ${kept}`, {
    hint: `The databases are as they were before up: run the version you had. To look into the failure, read ${work.map((w) => w.entry.kept).join(', ')}; `
      + `drop ${work.length > 1 ? 'them' : 'it'} when done (${work.map((w) => `DROP DATABASE ${w.entry.kept}`).join('; ')}). The original failure: ${failure.hint ?? failure.message}`,
    cause: run.failure,
    details: { failure, restored: work.map(summaryOf) },
  });
}

/** The roles a step ran on (done or failed): their databases may have changed. A step found already done changed nothing. */
function changedRoles(steps: StepSummary[]): TargetRole[] {
  const roles = new Set<TargetRole>();
  for (const s of steps) if (s.status !== 'already-done') roles.add(s.name.startsWith('airflow/') ? 'airflow' : 'openmetadata');
  return (['openmetadata', 'airflow'] as const).filter((r) => roles.has(r));
}

async function restoreIntoScratch(w: Restoring, config: RunConfig, emit: (e: UpEvent) => void,
  phase: (w: Restoring, p: RestorePhase) => Promise<void>): Promise<void> {
  const { target, admin, entry } = w;
  await phase(w, 'restoring');
  emit({ type: 'phase', text: `restoring ${entry.database} from ${entry.manifest} into ${entry.scratch}` });
  // A scratch database of this run already there is an earlier attempt's: this run owns the name.
  if (await admin.swap.exists(entry.scratch)) await admin.scratch.drop(entry.scratch);
  await admin.scratch.create(entry.scratch, await target.dialect.scratch.account(), entry.database);
  w.created = true;
  const manifest = await readManifest(entry.manifest);
  await restoreBackup(entry.manifest, { openmetadata: target.spec, airflow: target.spec, pgBinDir: config.pgBinDir, env: config.env },
    { into: entry.scratch, jobs: manifest.format === 'sql' ? 1 : config.backupJobs });
}

/** The scratch copy shows the state before the steps, or the restore stops here. Returns what was checked, for the message. */
async function verifyScratch(w: Restoring, point: RestorePoint, emit: (e: UpEvent) => void): Promise<string> {
  const { target, entry } = w;
  emit({ type: 'phase', text: `verifying ${entry.scratch} against ${entry.database} before up` });
  const spec = withDatabase(target.spec, entry.scratch);
  const dialect = await connect(spec, { purpose: 'restore-verify' });
  try {
    const copy: ConnectedTarget = { ...target, spec, dialect };
    const problems: string[] = [];
    const checked: string[] = [];
    const versions = await readVersions([copy]);
    if (target.role === 'openmetadata') {
      const was = point.versions.openmetadata;
      const is = versions.openmetadata;
      if ((was?.current ?? null) !== (is?.current ?? null)) problems.push(`OpenMetadata ${is?.current ?? 'none'} instead of ${was?.current ?? 'none'}`);
      const a = [...(was?.recorded ?? [])].sort().join(',');
      const b = [...(is?.recorded ?? [])].sort().join(',');
      if (a !== b) problems.push(`SERVER_CHANGE_LOG has ${is?.recorded.length ?? 0} versions instead of ${was?.recorded.length ?? 0}`);
      checked.push(`OpenMetadata ${is?.current ?? 'none'}, ${is?.rowCount ?? 0} SERVER_CHANGE_LOG rows`);
    } else {
      const was = point.versions.airflow;
      const is = versions.airflow;
      if ((was?.revision ?? null) !== (is?.revision ?? null)) problems.push(`Airflow revision ${is?.revision ?? 'none'} instead of ${was?.revision ?? 'none'}`);
      if ((was?.fabRevision ?? null) !== (is?.fabRevision ?? null)) problems.push(`FAB revision ${is?.fabRevision ?? 'none'} instead of ${was?.fabRevision ?? 'none'}`);
      if (point.airflowShape !== undefined) {
        const shape = (await detectAirflowState(dialect)).kind;
        if (shape !== point.airflowShape) problems.push(`task_instance is ${shape} instead of ${point.airflowShape}`);
      }
      checked.push(`Airflow ${is?.revision ?? 'empty'}${point.airflowShape ? `, task_instance ${point.airflowShape}` : ''}`);
    }
    const before = point.counts.filter((c) => c.role === target.role);
    const now = await countWatchedRows([copy]);
    const comparison = compareRowCounts(before, now);
    // An estimate (a table above the exact-count bound) can move without a row moving: only exact counts must match.
    const differing = comparison.changed.filter((c) => c.exact);
    if (differing.length > 0) problems.push(`row counts differ: ${differing.slice(0, 5).map(describeChange).join(', ')}`);
    checked.push(`${comparison.compared} tables' row counts as before up`);
    if (problems.length > 0) {
      throw new OmMigrateError('FAILED_RESTORE_FAILED', `the restored copy ${entry.scratch} is not ${entry.database} as it was before up: ${problems.join('; ')}`);
    }
    return checked.join(', ');
  } finally {
    await dialect.close();
  }
}

/**
 * om-migrate's own ledger lives in OpenMetadata's database; the backup's copy of it stops at the backup. The failed
 * run's record (its steps, their output) is carried into the restored copy before the swap, so that status tells it.
 */
async function carryLedger(work: Restoring[], runId: string): Promise<void> {
  for (const w of work) {
    if (!(await w.target.dialect.ledger.exists())) continue;
    const rows = await w.target.dialect.ledger.recent(1_000_000);
    const dialect = await connect(withDatabase(w.target.spec, w.entry.scratch), { purpose: 'restore-ledger' });
    try {
      await dialect.ledger.carryOver(rows);
      const id = await dialect.ledger.start({ runId, planId: '', step: RESTORE_STEP, targetVersion: '-', backupId: w.entry.manifest });
      await dialect.ledger.finish(id, 'done', { outputTail: `restored from ${w.entry.manifest}; the failed state is kept in ${w.entry.kept}` });
    } finally {
      await dialect.close();
    }
  }
}

/**
 * Before any swap, for every database: no other session of the application user on it (a running server would write
 * into the half-migrated state now and the restored one after), nothing the swap cannot carry (MySQL: a routine the
 * failed run left, say), and no session on the scratch copy.
 */
async function mustBeAlone(work: Restoring[]): Promise<void> {
  for (const w of work) {
    const others = await w.target.dialect.sessions.othersOf(w.target.spec.user);
    if (others.length > 0) {
      throw new OmMigrateError('FAILED_RESTORE_FAILED', `${others.length} other session(s) of ${w.target.spec.user} on ${w.entry.database} `
        + `(${others.slice(0, 3).map((s) => `session ${s.id} from ${s.host ?? 'an unknown host'}`).join(', ')}): a server still running would write into either state`);
    }
    // Checked for every database before any is swapped: a refusal then leaves them all as the failure left them.
    const left = [...await w.admin.swap.notCarried(w.entry.database), ...await w.admin.swap.notCarried(w.entry.scratch)];
    if (left.length > 0) {
      throw new OmMigrateError('FAILED_RESTORE_FAILED', `RENAME TABLE cannot carry ${left.join(', ')} of ${w.entry.database}: nothing was swapped`);
    }
    const onCopy = await w.admin.swap.sessionsOn([w.entry.scratch]);
    if (onCopy.length > 0) {
      throw new OmMigrateError('FAILED_RESTORE_FAILED', `${onCopy.length} session(s) on the scratch copy ${w.entry.scratch} (${onCopy.map((s) => `${s.user} ${s.id}`).join(', ')})`);
    }
  }
}

function restoreFailed(failure: ReturnType<typeof describeFailure>, work: Restoring[], why: string, cause: unknown): OmMigrateError {
  const where = work.length === 0 ? 'the databases are as the failure left them'
    : work.map((w) => (w.entry.phase === 'swapped'
      ? `${w.entry.database} WAS restored (the failed state is in ${w.entry.kept})`
      : `${w.entry.database} is as the failure left it, untouched (its backup: ${w.entry.manifest})`)).join('; ');
  const byHand = work.filter((w) => w.entry.phase !== 'swapped')
    .map((w) => `om-migrate restore --manifest ${w.entry.manifest} --into <an empty database>`).join('; ');
  return new OmMigrateError('FAILED_RESTORE_FAILED', `up failed (${failure.message}) and the restore failed too: ${why}; ${where}`, {
    hint: `Do not start the new version on a database that was not restored. Fix what the restore reports, then restore by hand${byHand ? ` (${byHand})` : ''} `
      + `and point the server at it, or run up again to finish the upgrade. The original failure: ${failure.hint ?? failure.message}`,
    cause,
    details: { failure, databases: work.map(summaryOf) },
  });
}

function summaryOf(w: Restoring) {
  return { role: w.entry.role, database: w.entry.database, phase: w.entry.phase, kept: w.entry.phase === 'swapped' ? w.entry.kept : null,
    manifest: w.entry.manifest, verified: w.verified ?? null, problem: w.entry.problem ?? null, timings: w.timings };
}

function describeFailure(error: unknown): { code: string; message: string; hint: string | undefined } {
  return isOmMigrateError(error) ? { code: error.code, message: error.message, hint: error.hint }
    : { code: 'INTERNAL', message: firstLine(error), hint: undefined };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

import { basename, dirname, resolve } from 'node:path';
import type { BackupManifest } from '../backup/BackupManifest.js';
import { manifestPathFor, readManifest } from '../backup/BackupManifest.js';
import { pruneBackups, sparedBackups } from '../backup/pruneBackups.js';
import { runBackup } from '../backup/runBackup.js';
import { verifyBackup } from '../backup/verifyBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { currentOpenMetadataVersion } from '../openmetadata/versions.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { LedgerEntry, LedgerStore, RowCount } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { PlannedBackup } from '../plan/buildPlan.js';
import { fileProblem } from '../process/pathTrust.js';
import { countWatchedRows } from '../targets/rowCounts.js';
import type { UpEvent, UpSummary } from './upTypes.js';

export interface BackupPhase {
  config: RunConfig;
  targets: ConnectedTarget[];
  /** The plan's backups: which databases, in which directory, under which names. */
  planned: PlannedBackup[];
  ledger: LedgerStore;
  runId: string;
  planId: string;
  targetVersion: string;
  emit(e: UpEvent): void;
  signal: AbortSignal;
  /** The clock the backups' ages are read against. */
  now?: () => number;
}

type Reuse = { path: string; manifest: BackupManifest; decision: string } | { reason: string };

/**
 * One verified backup per database before anything changes. A run that resumes an unfinished run of the same plan
 * (interrupted or failed, same starting state) takes over that run's backup only when it still stands for the database
 * now: the file verifies against its manifest hash, lies in --backup-dir, was taken by that very run less than
 * --backup-reuse-max-age ago, the versions and migration history are what the manifest recorded, and the watched
 * tables' row counts read now are exactly those recorded right before its dump — a row written since is in no backup.
 * Otherwise it dumps again. Either way the summary says which, and why.
 */
export async function backupAll(phase: BackupPhase): Promise<UpSummary['backups']> {
  const { config, ledger } = phase;
  // This run's own row is already there: the run before it is the one that may be resumed.
  const previous = await ledger.lastUnfinishedRun(phase.planId, phase.runId);
  const earlier = previous ? await ledger.ofRun(previous.runId) : [];
  const result: UpSummary['backups'] = [];
  for (const backup of phase.planned) {
    const target = phase.targets.find((t) => t.role === backup.target);
    if (!target) throw new OmMigrateError('INTERNAL', `the plan backs up the ${backup.target} database, which this run has not opened`);
    // The plan's directory, name, compression and --jobs. --keep is applied once the whole run succeeded (pruneAfterUp).
    const backupConfig: RunConfig = { ...config, backupDir: dirname(backup.file), backupCompress: backup.compression, backupJobs: backup.jobs };
    const step = `backup/${target.role}`;
    const reuse: Reuse = previous
      ? await reusable(earlier.find((e) => e.step === step && e.status === 'done'), target, backupConfig, phase.now ?? Date.now)
      : { reason: 'no unfinished run of this plan to resume' };
    const id = await ledger.start({ runId: phase.runId, planId: phase.planId, step, targetVersion: phase.targetVersion });
    if ('path' in reuse) {
      phase.emit({ type: 'phase', text: `${target.spec.database}: ${reuse.decision}` });
      await ledger.finish(id, 'done', { backupId: reuse.path, outputTail: `${reuse.decision}, from run ${previous!.runId}` });
      result.push(summarize(target.role, reuse.path, reuse.manifest, previous!.runId, reuse.decision));
      continue;
    }
    const decision = `new backup: ${reuse.reason}`;
    phase.emit({ type: 'phase', text: `backing up ${target.spec.database} (${decision})` });
    try {
      // Read before the dump starts: a resumed run compares the live database with these (see reusable()).
      const [counted] = await countWatchedRows([target]);
      const manifest = await runBackup({ role: target.role, dialect: target.dialect, server: target.server }, backupConfig, {
        onProgress: (progress) => phase.emit({ type: 'backup', progress }), signal: phase.signal, runId: phase.runId, plannedName: basename(backup.file),
        rowCounts: counted.tables.map(({ table, rows, exact }) => ({ table, rows, exact })),
      });
      const manifestPath = manifestPathFor(resolve(backupConfig.backupDir, manifest.file));
      await ledger.finish(id, 'done', { backupId: manifestPath, outputTail: decision });
      result.push(summarize(target.role, manifestPath, manifest, null, decision));
    } catch (error) {
      await ledger.finish(id, phase.signal.aborted ? 'interrupted' : 'failed', { outputTail: isOmMigrateError(error) ? error.message : String(error) })
        .catch(() => undefined);
      throw error;
    }
  }
  return result;
}

/**
 * --keep N, once the whole `up` succeeded (never before: a run that fails half way may be resumed by one that backs up
 * the half-migrated database, and the state before the upgrade must outlive both). Each database's older backups beyond
 * N go, except those of runs the ledger says did not finish. The upgrade is done: a failure here is a warning.
 */
export async function pruneAfterUp(config: Pick<RunConfig, 'backupKeep'>, backups: UpSummary['backups'], ledger: LedgerStore,
  emit: (e: UpEvent) => void): Promise<void> {
  if (config.backupKeep === undefined || backups.length === 0) return;
  try {
    const spared = await sparedBackups(ledger);
    for (const backup of backups) {
      const manifest = await readManifest(backup.manifest);
      const removed = await pruneBackups(dirname(backup.manifest), manifest, config.backupKeep, spared);
      emit({ type: 'backup', progress: { phase: 'pruned', database: manifest.database, removed } });
      if (removed.length > 0) emit({ type: 'phase', text: `${manifest.database}: removed ${removed.length} older backup(s) (--keep ${config.backupKeep})` });
    }
  } catch (error) {
    emit({ type: 'phase', text: `warning: the upgrade is done, but older backups could not be pruned (--keep): ${isOmMigrateError(error) ? error.message : String(error)}` });
  }
}

/** The earlier run's backup when it may stand for this run's, or why it may not. */
async function reusable(entry: LedgerEntry | undefined, target: ConnectedTarget, config: RunConfig, now: () => number): Promise<Reuse> {
  if (config.backupReuseMaxAgeMs === 0) return { reason: '--backup-reuse-max-age 0' };
  // The ledger lives in the application database: its word is only where to look, never what to trust.
  if (!entry?.backupId) return { reason: 'the unfinished run left no backup of this database' };
  if (resolve(dirname(entry.backupId)) !== resolve(config.backupDir)) return { reason: `the unfinished run's backup ${entry.backupId} is not in --backup-dir` };
  const untrusted = fileProblem(entry.backupId);
  if (untrusted) return { reason: `the unfinished run's manifest cannot be trusted: ${untrusted}` };
  const check = await verifyBackup(entry.backupId, { pgBinDir: config.pgBinDir, env: config.env }).catch((error: unknown) => error as Error);
  if (check instanceof Error) return { reason: `the unfinished run's backup cannot be read: ${check.message.split('\n')[0]}` };
  if (!check.ok) return { reason: `the unfinished run's backup no longer verifies against its manifest: ${check.problems.join('; ')}` };
  const m = check.manifest;
  if (m.runId !== entry.runId || m.database !== target.spec.database) return { reason: `${entry.backupId} was not taken by the unfinished run of this database` };
  const ageMs = now() - Date.parse(m.startedAt);
  const age = minutes(ageMs);
  if (!(ageMs >= 0 && ageMs <= config.backupReuseMaxAgeMs)) {
    return { reason: `the unfinished run's backup was taken ${age} ago, more than --backup-reuse-max-age ${minutes(config.backupReuseMaxAgeMs)}` };
  }
  const changeLog = await target.dialect.openmetadata.changeLogVersions();
  const unchanged = (currentOpenMetadataVersion(changeLog ?? []) ?? null) === m.openmetadataVersion
    && (changeLog?.length ?? null) === (m.changeLogRows ?? null)
    && ((await target.dialect.airflow.revision()) ?? null) === m.airflowRevision;
  if (!unchanged) return { reason: 'the database\'s versions or migration history changed since the unfinished run\'s backup' };
  if (!m.rowCounts) return { reason: 'the unfinished run\'s backup records no row counts to compare (an older om-migrate)' };
  const [live] = await countWatchedRows([target]);
  const differs = countDifferences(m.rowCounts, live.tables);
  if (differs.length > 0) return { reason: `rows changed since the unfinished run's backup (${differs.slice(0, 3).join(', ')}${differs.length > 3 ? ', …' : ''})` };
  return { path: entry.backupId, manifest: m, decision: `reusing backup ${m.file} (taken ${age} ago, counts match)` };
}

/**
 * Each table whose count is not provably the same: a different count, a table come or gone, or an estimate on either
 * side (a large table's estimate cannot prove that no row was written).
 */
export function countDifferences(recorded: ReadonlyArray<Pick<RowCount, 'table' | 'rows' | 'exact'>>, live: ReadonlyArray<RowCount>): string[] {
  const then = new Map(recorded.map((r) => [r.table, r]));
  const now = new Map(live.map((r) => [r.table, r]));
  const out: string[] = [];
  for (const table of [...new Set([...then.keys(), ...now.keys()])].sort()) {
    const a = then.get(table);
    const b = now.get(table);
    if (!a || !b) out.push(`${table} ${a ? 'gone' : 'new'}`);
    else if (!a.exact || !b.exact) out.push(`${table} counted by estimate`);
    else if (a.rows !== b.rows) out.push(`${table} ${a.rows} → ${b.rows}`);
  }
  return out;
}

function minutes(ms: number): string {
  return ms < 60_000 ? `${Math.max(0, Math.round(ms / 1000))} s` : `${Math.round(ms / 60_000)} min`;
}

function summarize(target: TargetRole, manifestPath: string, manifest: BackupManifest, reusedFrom: string | null,
  decision: string): UpSummary['backups'][number] {
  return { target, file: manifestPath.replace(/\.manifest\.json$/, ''), manifest: manifestPath, bytes: manifest.bytes, sha256: manifest.sha256,
    reused: reusedFrom !== null, reusedFrom, decision };
}

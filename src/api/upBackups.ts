import { basename, dirname, resolve } from 'node:path';
import type { BackupManifest } from '../backup/BackupManifest.js';
import { manifestPathFor } from '../backup/BackupManifest.js';
import { runBackup } from '../backup/runBackup.js';
import { verifyBackup } from '../backup/verifyBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { currentOpenMetadataVersion } from '../config/versions.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { LedgerEntry, LedgerStore } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { PlannedBackup } from '../plan/buildPlan.js';
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
}

/**
 * One verified backup per database before anything changes. A run that resumes an unfinished run of the same plan
 * (interrupted or failed, same starting state) takes over that run's backup only when the file still verifies, lies in
 * --backup-dir, was taken by that very run, and the database has not changed since (its versions and migration history
 * are what the manifest recorded); otherwise it dumps again.
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
    // The plan's directory, name, compression and --jobs; only --keep (what older backups to prune) as configured.
    const backupConfig: RunConfig = { ...config, backupDir: dirname(backup.file), backupCompress: backup.compression, backupJobs: backup.jobs };
    const step = `backup/${target.role}`;
    const reused = await reusable(earlier.find((e) => e.step === step && e.status === 'done'), target, backupConfig);
    const id = await ledger.start({ runId: phase.runId, planId: phase.planId, step, targetVersion: phase.targetVersion });
    if (reused) {
      phase.emit({ type: 'phase', text: `reusing the verified backup of ${target.spec.database} from unfinished run ${previous!.runId}` });
      await ledger.finish(id, 'done', { backupId: reused.path, outputTail: `reused from run ${previous!.runId}` });
      result.push(summarize(target.role, reused.path, reused.manifest, previous!.runId));
      continue;
    }
    phase.emit({ type: 'phase', text: `backing up ${target.spec.database}` });
    try {
      const manifest = await runBackup({ role: target.role, dialect: target.dialect, server: target.server }, backupConfig,
        { onProgress: (progress) => phase.emit({ type: 'backup', progress }), signal: phase.signal, runId: phase.runId, plannedName: basename(backup.file) });
      const manifestPath = manifestPathFor(resolve(backupConfig.backupDir, manifest.file));
      await ledger.finish(id, 'done', { backupId: manifestPath });
      result.push(summarize(target.role, manifestPath, manifest, null));
    } catch (error) {
      await ledger.finish(id, phase.signal.aborted ? 'interrupted' : 'failed', { outputTail: isOmMigrateError(error) ? error.message : String(error) })
        .catch(() => undefined);
      throw error;
    }
  }
  return result;
}

/** The earlier run's backup, when it may stand for this run's. */
async function reusable(entry: LedgerEntry | undefined, target: ConnectedTarget, config: RunConfig): Promise<{ path: string; manifest: BackupManifest } | undefined> {
  // The ledger lives in the application database: its word is only where to look, never what to trust.
  if (!entry?.backupId || resolve(dirname(entry.backupId)) !== resolve(config.backupDir)) return undefined;
  const check = await verifyBackup(entry.backupId).catch(() => undefined);
  if (!check?.ok || check.manifest.runId !== entry.runId || check.manifest.database !== target.spec.database) return undefined;
  const changeLog = await target.dialect.openmetadata.changeLogVersions();
  const unchanged = (currentOpenMetadataVersion(changeLog ?? []) ?? null) === check.manifest.openmetadataVersion
    && (changeLog?.length ?? null) === (check.manifest.changeLogRows ?? null)
    && ((await target.dialect.airflow.revision()) ?? null) === check.manifest.airflowRevision;
  return unchanged ? { path: entry.backupId, manifest: check.manifest } : undefined;
}

function summarize(target: TargetRole, manifestPath: string, manifest: BackupManifest, reusedFrom: string | null): UpSummary['backups'][number] {
  return { target, file: manifestPath.replace(/\.manifest\.json$/, ''), manifest: manifestPath, bytes: manifest.bytes, sha256: manifest.sha256,
    reused: reusedFrom !== null, reusedFrom };
}

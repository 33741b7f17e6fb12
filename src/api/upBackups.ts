import { existsSync } from 'node:fs';
import type { BackupManifest } from '../backup/BackupManifest.js';
import { manifestPathFor } from '../backup/BackupManifest.js';
import { runBackup } from '../backup/runBackup.js';
import { verifyBackup } from '../backup/verifyBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { isOmMigrateError } from '../errors.js';
import type { ConnectedTarget } from '../core/Gate.js';
import type { UpEvent, UpSummary } from './upTypes.js';

/**
 * One verified backup per database before anything changes. An interrupted `up` for the same target version reuses
 * the backup its ledger recorded when that file still verifies, rather than dumping again.
 */
export async function backupAll(config: RunConfig, targets: ConnectedTarget[], ledgerTarget: ConnectedTarget, key: string,
  runId: string, emit: (e: UpEvent) => void, signal: AbortSignal): Promise<UpSummary['backups']> {
  const done = await ledgerTarget.dialect.ledger.done(key);
  const result: UpSummary['backups'] = [];
  for (const target of targets) {
    const step = `backup/${target.role}`;
    const earlier = done.find((e) => e.step === step)?.backupId;
    if (earlier && existsSync(earlier)) {
      const check = await verifyBackup(earlier);
      if (check.ok) {
        emit({ type: 'phase', text: `reusing the verified backup of ${target.spec.database} from the interrupted run` });
        result.push(summarizeBackup(target.role, earlier, check.manifest, true));
        continue;
      }
    }
    emit({ type: 'phase', text: `backing up ${target.spec.database}` });
    const id = await ledgerTarget.dialect.ledger.start({ step, targetVersion: key, runId });
    try {
      const manifest = await runBackup({ role: target.role, dialect: target.dialect, server: target.server }, config,
        { onProgress: (progress) => emit({ type: 'backup', progress }), signal });
      const manifestPath = manifestPathFor(`${config.backupDir}/${manifest.file}`);
      await ledgerTarget.dialect.ledger.finish(id, 'done', null, manifestPath);
      result.push(summarizeBackup(target.role, manifestPath, manifest, false));
    } catch (error) {
      await ledgerTarget.dialect.ledger.finish(id, 'failed', isOmMigrateError(error) ? error.message : String(error));
      throw error;
    }
  }
  return result;
}

function summarizeBackup(target: TargetRole, manifestPath: string, manifest: BackupManifest, reused: boolean): UpSummary['backups'][number] {
  return { target, file: manifestPath.replace(/\.manifest\.json$/, ''), manifest: manifestPath, bytes: manifest.bytes, sha256: manifest.sha256, reused };
}


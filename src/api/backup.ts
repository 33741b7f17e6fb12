import type { BackupManifest, BackupProgress } from '../backup/index.js';
import { manifestPathFor, pruneBackups, runBackup, sparedBackups } from '../backup/index.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import { withInterrupt } from '../process/Interruption.js';
import { ledgerTargetOf } from '../rehearsal/rehearsalRecord.js';
import { openTargets } from '../targets/openTargets.js';
import { join } from 'node:path';

export interface BackupResult {
  backups: Array<BackupManifest & { path: string; manifestPath: string }>;
}

export interface BackupEvents {
  /** A database's backup begins; then its progress; then done or failed. */
  onStart?(database: string, role: TargetRole): void;
  onProgress?(database: string, event: BackupProgress): void;
  /** false: no per-byte 'dumping' events (nothing to show them on). */
  byteProgress?: boolean;
  onDone?(manifest: BackupManifest, path: string): void;
  onFailed?(database: string): void;
}

/**
 * `om-migrate backup`: a verified backup of each configured database. Ctrl-C or SIGTERM stops the dump and removes it.
 * --keep N then removes the older ones beyond N, never one of an `up` run that did not finish (pruneBackups).
 */
export async function backupDatabases(config: RunConfig, events: BackupEvents = {}): Promise<BackupResult> {
  const opened = await openTargets(config, 'backup');
  const backups: BackupResult['backups'] = [];
  try {
    if (opened.failures.length > 0) throw opened.failures[0].error;
    for (const target of opened.targets) {
      const database = target.spec.database;
      events.onStart?.(database, target.role);
      try {
        const manifest = await withInterrupt((signal) => runBackup(target, config, {
          onProgress: (event) => events.onProgress?.(database, event), byteProgress: events.byteProgress, signal,
        }));
        const path = join(config.backupDir, manifest.file);
        backups.push({ ...manifest, path, manifestPath: manifestPathFor(path) });
        if (config.backupKeep !== undefined) {
          // Read after the dump: an up that started meanwhile is unfinished too.
          const spared = await sparedBackups(ledgerTargetOf(opened.targets)?.dialect.ledger);
          const removed = await pruneBackups(config.backupDir, manifest, config.backupKeep, spared);
          events.onProgress?.(database, { phase: 'pruned', database, removed });
        }
        events.onDone?.(manifest, path);
      } catch (error) {
        events.onFailed?.(database);
        throw error;
      }
    }
  } finally {
    await opened.close();
  }
  return { backups };
}

import { join } from 'node:path';
import { manifestPathFor, runBackup } from '../../backup/index.js';
import type { BackupManifest, BackupProgress } from '../../backup/index.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { openTargets } from '../../targets/openTargets.js';
import { EXIT } from '../exitCodes.js';
import { withBackupOptions, withConnectionOptions, withOutputOptions } from '../options.js';
import { paint } from '../output.js';
import { formatBytes } from '../../config/units.js';
import { startProgress } from '../progress.js';
import { withInterrupt } from '../../process/withInterrupt.js';
import type { CommandSpec } from './CommandSpec.js';

export const backupCommand: CommandSpec = {
  builder: (y) => withBackupOptions(withOutputOptions(withConnectionOptions(y))),
  async run(_argv, input, out) {
    const config = resolveConfig(input);
    const opened = await openTargets(config, 'backup');
    const manifests: BackupManifest[] = [];
    try {
      if (opened.failures.length > 0) throw opened.failures[0].error;
      for (const target of opened.targets) {
        const database = target.spec.database;
        const progress = await startProgress(out, `backing up ${database}`);
        const started = Date.now();
        const onProgress = (event: BackupProgress) => {
          if (event.phase === 'dumping') {
            const seconds = Math.max((Date.now() - started) / 1000, 0.001);
            const of = event.estimatedBytes > 0 ? ` (database ~${formatBytes(event.estimatedBytes)})` : '';
            progress.update(`backing up ${database}: ${formatBytes(event.bytesWritten)} written, ${formatBytes(event.bytesDumped / seconds)}/s${of}`);
          } else if (event.phase === 'verifying') {
            progress.update(`verifying ${event.file}`);
          }
        };
        try {
          const manifest = await withInterrupt((signal) => runBackup(target, config, { onProgress, signal }));
          progress.succeed(`backed up ${database}`);
          manifests.push(manifest);
          if (!out.json) printManifest(out, config.backupDir, manifest);
        } catch (error) {
          progress.fail(`backup of ${database} failed`);
          throw error;
        }
      }
    } finally {
      await opened.close();
    }
    if (out.json) out.printJson({ ok: true, backups: manifests.map((m) => ({ ...m, path: join(config.backupDir, m.file) })) });
    return EXIT.OK;
  },
};

function printManifest(out: Parameters<CommandSpec['run']>[2], dir: string, m: BackupManifest): void {
  const file = join(dir, m.file);
  const version = m.openmetadataVersion ? `OpenMetadata ${m.openmetadataVersion}` : m.airflowRevision ? `Airflow ${m.airflowRevision}` : 'no version table';
  const how = m.verification.method === 'completion-line' ? 'ends with its completion line' : `lists ${m.verification.entries} entries`;
  out.line(`${paint(out, 'green', '✓')} ${m.database} (${version}) → ${file}`);
  out.line(`  ${formatBytes(m.bytes)}${m.compression === 'none' ? '' : ` ${m.compression}`}, sha256 ${m.sha256}, verified: ${how}`);
  out.line(`  manifest: ${manifestPathFor(file)}`);
}

import { backupDatabases } from '../../api/backup.js';
import { manifestPathFor, type BackupManifest } from '../../backup/index.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { formatBytes } from '../../config/units.js';
import { EXIT } from '../exitCodes.js';
import { paint, type Output } from '../output.js';
import { spinnerTerminal, startProgress, type Progress } from '../progress.js';
import type { CommandSpec } from './CommandSpec.js';

export const backupCommand: CommandSpec = {
  name: 'backup',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'backup' });
    let progress: Progress | undefined;
    let started = 0;
    const result = await backupDatabases(config, {
      // Without a spinner there is nothing to show the bytes on: the dump runs without progress bookkeeping.
      byteProgress: spinnerTerminal(out),
      onStart: async (database) => {
        started = Date.now();
        progress = await startProgress(out, `backing up ${database}`);
      },
      onProgress: (database, event) => {
        if (event.phase === 'dumping') {
          const seconds = Math.max((Date.now() - started) / 1000, 0.001);
          const of = event.estimatedBytes > 0 ? ` (database ~${formatBytes(event.estimatedBytes)})` : '';
          progress?.update(`backing up ${database}: ${formatBytes(event.bytesWritten)} written, ${formatBytes(event.bytesDumped / seconds)}/s${of}`);
        } else if (event.phase === 'verifying') {
          progress?.update(`verifying ${event.file}`);
        }
      },
      onDone: (manifest, path) => {
        progress?.succeed(`backed up ${manifest.database}`);
        if (!out.json) printManifest(out, path, manifest);
      },
      onFailed: (database) => progress?.fail(`backup of ${database} failed`),
    });
    out.result('backup', EXIT.OK, result, () => undefined);
    return EXIT.OK;
  },
};

function printManifest(out: Output, file: string, m: BackupManifest): void {
  const version = m.openmetadataVersion ? `OpenMetadata ${m.openmetadataVersion}` : m.airflowRevision ? `Airflow ${m.airflowRevision}` : 'no version table';
  const how = m.verification.method === 'completion-line' ? `${m.files ? 'every file ends' : 'ends'} with its completion line` : `lists ${m.verification.entries} entries`;
  out.line(`${paint(out, 'green', '✓')} ${m.database} (${version}) → ${file}`);
  // A parallel backup (--jobs): a directory whose files the manifest lists; its sha256 is that of the listing.
  const files = m.files ? `${m.files.length} file${m.files.length === 1 ? '' : 's'} from ${m.jobs} sessions, ` : '';
  out.line(`  ${files}${formatBytes(m.bytes)}${m.compression === 'none' ? '' : ` ${m.compression}`}, sha256 ${m.sha256}${m.files ? ' (of the listing)' : ''}, verified: ${how}`);
  out.line(`  manifest: ${manifestPathFor(file)}`);
}

import { restoreDatabase, type RestoreProgress } from '../../api/restore.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { formatBytes } from '../../config/units.js';
import { usageError } from '../../errors.js';
import { EXIT } from '../exitCodes.js';
import { paint } from '../output.js';
import { startProgress } from '../progress.js';
import type { CommandSpec } from './CommandSpec.js';

export const restoreCommand: CommandSpec = {
  name: 'restore',
  async run(input, out) {
    if (typeof input.manifest !== 'string' || input.manifest === '') {
      throw usageError('restore needs --manifest FILE', 'Give the .manifest.json written beside the backup.');
    }
    const config = resolveConfig(input, process.env, { command: 'restore' });
    // Checked by resolveConfig (a whole number from 1 to 64).
    const jobs = config.backupJobs;
    const progress = await startProgress(out, `verifying ${input.manifest}`);
    const onProgress = (event: RestoreProgress) => {
      if (event.phase === 'restoring') progress.update(`restoring into ${event.database}`);
      if (event.phase === 'loading') progress.update(`restoring into ${event.database}: ${formatBytes(event.bytesRead)} of ${formatBytes(event.totalBytes)}`);
    };
    const manifest = input.manifest;
    let result;
    try {
      // SIGINT/SIGTERM stop the client (the run lock's interruption) and end in INTERRUPTED (exit 130), saying what
      // state the database is in.
      result = await restoreDatabase(manifest, config, { into: input.into, force: Boolean(input.force), onProgress, jobs });
    } catch (error) {
      progress.fail('restore did not happen');
      throw error;
    }
    progress.succeed(`restored into ${result.database}`);
    out.result('restore', EXIT.OK, result, () => {
      out.line(`${paint(out, 'green', '✓')} restored ${result.manifest.file} into ${result.target}`);
      out.line('next:');
      for (const step of result.nextSteps) out.line(`  - ${step}`);
    });
    return EXIT.OK;
  },
};

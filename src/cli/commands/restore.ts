import { restoreBackup } from '../../backup/index.js';
import type { RestoreProgress } from '../../backup/index.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { usageError } from '../../errors.js';
import { EXIT } from '../exitCodes.js';
import { withConnectionOptions, withOutputOptions } from '../options.js';
import { paint } from '../output.js';
import { formatBytes } from '../../config/units.js';
import { startProgress } from '../progress.js';
import type { CommandSpec } from './CommandSpec.js';

export const restoreCommand: CommandSpec = {
  builder: (y) => withOutputOptions(withConnectionOptions(y))
    .option('manifest', { type: 'string', group: 'Restore:', describe: 'the backup\'s .manifest.json [command line only]' })
    .option('into', { type: 'string', group: 'Restore:', describe: 'database to restore into (must exist; default: the backed-up one) [command line only]' })
    .option('force', { type: 'boolean', group: 'Restore:', describe: 'restore over a non-empty database or a newer OpenMetadata version [command line only]' }),
  async run(argv, input, out) {
    if (typeof argv.manifest !== 'string' || argv.manifest === '') {
      throw usageError('restore needs --manifest FILE', 'Give the .manifest.json written beside the backup.');
    }
    const config = resolveConfig(input);
    const progress = await startProgress(out, `verifying ${argv.manifest}`);
    const onProgress = (event: RestoreProgress) => {
      if (event.phase === 'restoring') progress.update(`restoring into ${event.database}`);
      if (event.phase === 'loading') progress.update(`restoring into ${event.database}: ${formatBytes(event.bytesRead)} of ${formatBytes(event.totalBytes)}`);
    };
    let result;
    try {
      result = await restoreBackup(argv.manifest, config, {
        into: typeof argv.into === 'string' ? argv.into : undefined,
        force: Boolean(argv.force),
        onProgress,
      });
    } catch (error) {
      progress.fail('restore did not happen');
      throw error;
    }
    progress.succeed(`restored into ${result.database}`);
    if (out.json) {
      out.printJson({ ok: true, restored: result });
    } else {
      out.line(`${paint(out, 'green', '✓')} restored ${result.manifest.file} into ${result.target}`);
      out.line('next:');
      for (const step of result.nextSteps) out.line(`  - ${step}`);
    }
    return EXIT.OK;
  },
};

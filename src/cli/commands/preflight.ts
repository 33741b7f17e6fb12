import { resolveConfig } from '../../config/resolveConfig.js';
import { runPreflight } from '../../api/preflight.js';
import { EXIT } from '../exitCodes.js';
import { withConnectionOptions, withOutputOptions } from '../options.js';
import { renderPreflight, reportVerdictOnStderr } from '../renderPreflight.js';
import type { CommandSpec } from './CommandSpec.js';

export const preflightCommand: CommandSpec = {
  builder: (y) => withOutputOptions(withConnectionOptions(y))
    .option('dry-run', { type: 'boolean', describe: 'also print the plan of up: backups, parameter changes with their revert SQL, steps [command line only]' })
    .option('fix-stale-runs', { type: 'boolean', describe: 'include the stale pipeline run fix in the plan [env: OM_MIGRATE_FIX_STALE_RUNS=1]' }),
  async run(argv, input, out) {
    const config = resolveConfig(input);
    const report = await runPreflight(config, {
      dryRun: Boolean(argv.dryRun),
      fixStaleRuns: Boolean(argv.fixStaleRuns ?? process.env.OM_MIGRATE_FIX_STALE_RUNS === '1'),
    });
    const exitCode = report.unreachable ? EXIT.CONNECT : report.blocked ? EXIT.BLOCKED : EXIT.OK;
    if (out.json) out.printJson({ ok: exitCode === EXIT.OK, exitCode, ...report });
    else {
      renderPreflight(report, out);
      reportVerdictOnStderr(report, out);
    }
    return exitCode;
  },
};

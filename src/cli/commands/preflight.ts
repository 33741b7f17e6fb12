import { resolveConfig } from '../../config/resolveConfig.js';
import { runPreflight } from '../../api/preflight.js';
import { EXIT } from '../exitCodes.js';
import { renderPreflight, reportVerdictOnStderr } from '../renderPreflight.js';
import type { CommandSpec } from './CommandSpec.js';

export const preflightCommand: CommandSpec = {
  name: 'preflight',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'preflight' });
    const report = await runPreflight(config, { dryRun: Boolean(input.dryRun) });
    const exitCode = report.unreachable ? EXIT.CONNECT : report.blocked ? EXIT.BLOCKED : EXIT.OK;
    out.result('preflight', exitCode, report, () => {
      renderPreflight(report, out);
      reportVerdictOnStderr(report, out);
    });
    return exitCode;
  },
};

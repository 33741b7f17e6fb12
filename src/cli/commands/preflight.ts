import { resolveConfig } from '../../config/resolveConfig.js';
import { runPreflight } from '../../api/preflight.js';
import { OmMigrateError } from '../../errors.js';
import { writePlanFile } from '../../plan/savedPlan.js';
import { EXIT } from '../exitCodes.js';
import { renderPreflight, reportVerdictOnStderr } from '../renderPreflight.js';
import type { CommandSpec } from './CommandSpec.js';

export const preflightCommand: CommandSpec = {
  name: 'preflight',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'preflight' });
    if (input.out && !input.dryRun) throw new OmMigrateError('USAGE', '--out writes the plan of a dry run', { hint: 'Run om-migrate preflight --dry-run --out FILE.' });
    const report = await runPreflight(config, { dryRun: Boolean(input.dryRun) });
    const exitCode = report.unreachable ? EXIT.CONNECT : report.blocked ? EXIT.BLOCKED : EXIT.OK;
    // A blocked preflight's plan is not one up would run: no file is written for it.
    if (input.out && report.plan && exitCode === EXIT.OK) {
      await writePlanFile(input.out, report.plan);
      report.planFile = input.out;
    } else if (input.out) {
      out.error(`om-migrate: the plan was not saved to ${input.out}: preflight did not pass`);
    }
    out.result('preflight', exitCode, report, () => {
      renderPreflight(report, out);
      reportVerdictOnStderr(report, out);
    });
    return exitCode;
  },
};
